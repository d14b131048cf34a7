"""App configuration for the external systems catalogue."""

from django.apps import AppConfig

__all__ = ["SystemsConfig"]


class SystemsConfig(AppConfig):
    """External systems."""

    name = "searchledger.apps.systems"
    label = "systems"
    verbose_name = "External systems"
