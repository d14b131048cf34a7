"""App configuration for access grants."""

from django.apps import AppConfig

__all__ = ["GrantsConfig"]


class GrantsConfig(AppConfig):
    """Access grants."""

    name = "searchledger.apps.grants"
    label = "grants"
    verbose_name = "Access grants"
