"""App configuration for accounts."""

from django.apps import AppConfig
from typing_extensions import override

__all__ = ["AccountsConfig"]


class AccountsConfig(AppConfig):
    """Accounts and roles."""

    name = "searchledger.apps.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    @override
    def ready(self) -> None:
        """Connect the sign-in log lines."""
        from searchledger.apps.accounts import signals  # noqa: F401, PLC0415
