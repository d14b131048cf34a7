"""App configuration: reports and exports."""

from django.apps import AppConfig

__all__ = ["ReportsConfig"]


class ReportsConfig(AppConfig):
    """Reports and exports of the audit trail (no models of its own)."""

    name = "searchledger.apps.reports"
    label = "reports"
    verbose_name = "Reports"
