"""App configuration for the ledger."""

from django.apps import AppConfig

__all__ = ["LedgerConfig"]


class LedgerConfig(AppConfig):
    """The tamper-evident ledger."""

    name = "searchledger.apps.ledger"
    label = "ledger"
    verbose_name = "Ledger"
