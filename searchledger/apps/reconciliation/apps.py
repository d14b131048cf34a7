"""App configuration: reconciliation."""

from django.apps import AppConfig

__all__ = ["ReconciliationConfig"]


class ReconciliationConfig(AppConfig):
    """Reconciliation of imported access logs against documented searches."""

    name = "searchledger.apps.reconciliation"
    label = "reconciliation"
    verbose_name = "Reconciliation"
