"""App configuration: external access logs."""

from django.apps import AppConfig

__all__ = ["AccesslogsConfig"]


class AccesslogsConfig(AppConfig):
    """External systems' own access logs: column mappings, imports and account mappings."""

    name = "searchledger.apps.accesslogs"
    label = "accesslogs"
    verbose_name = "External access logs"
