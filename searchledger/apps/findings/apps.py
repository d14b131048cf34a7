"""App configuration: findings."""

from django.apps import AppConfig

__all__ = ["FindingsConfig"]


class FindingsConfig(AppConfig):
    """Findings from supervisory reviews and reconciliation: severity, owner, due date,
    remediation, closure."""

    name = "searchledger.apps.findings"
    label = "findings"
    verbose_name = "Findings"
