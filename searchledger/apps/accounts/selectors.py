"""Reads of accounts."""

from __future__ import annotations

from django.db.models import QuerySet

from searchledger.apps.accounts.models import Account

__all__ = ["get_account_by_username", "list_accounts"]


def list_accounts() -> QuerySet[Account]:
    """All accounts, active first, then by username."""
    return Account.objects.select_related("org_unit", "supervisor").order_by(
        "-is_active", "username"
    )


def get_account_by_username(username: str) -> Account | None:
    """The account with this username (case-insensitive), if any."""
    return Account.objects.filter(username__iexact=username).first()
