"""App configuration for search records."""

from django.apps import AppConfig

__all__ = ["SearchesConfig"]


class SearchesConfig(AppConfig):
    """Search records, search policies, offence categories and known cases."""

    name = "searchledger.apps.searches"
    label = "searches"
    verbose_name = "Search records"
