"""App configuration for bulk CSV import."""

from django.apps import AppConfig

__all__ = ["BulkConfig"]


class BulkConfig(AppConfig):
    """Bulk CSV import (no models: imports are recorded on the ledger)."""

    name = "searchledger.apps.bulk"
    label = "bulk"
    verbose_name = "Bulk import"
