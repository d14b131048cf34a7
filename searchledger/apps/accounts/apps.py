"""App configuration for accounts."""

from django.apps import AppConfig

__all__ = ["AccountsConfig"]


class AccountsConfig(AppConfig):
    """Accounts and roles."""

    name = "searchledger.apps.accounts"
    label = "accounts"
    verbose_name = "Accounts"
