"""App configuration for the ledger."""

from django.apps import AppConfig
from typing_extensions import override

__all__ = ["LedgerConfig"]


class LedgerConfig(AppConfig):
    """The tamper-evident ledger."""

    name = "searchledger.apps.ledger"
    label = "ledger"
    verbose_name = "Ledger"

    @override
    def ready(self) -> None:
        """Track writes to the ledger-feeding tables (see ``tracking``)."""
        from searchledger.apps.ledger.tracking import connect_signals  # noqa: PLC0415  # apps must be loaded first

        connect_signals()
