"""Persistence for accounts. Rows change only through ``accounts.actions``."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from typing_extensions import override

from searchledger.core.roles import Permission, Role, role_may

__all__ = ["Account"]


class Account(AbstractUser):
    """A person who signs in. Accounts are deactivated, never deleted, so that every
    ledger entry's actor id keeps pointing at someone."""

    role = models.CharField(
        max_length=20,
        choices=[(r.value, r.label) for r in Role],
        default=Role.OFFICER.value,
    )

    class Meta:
        ordering = ["username"]

    @override
    def __str__(self) -> str:
        return self.username

    @property
    def role_enum(self) -> Role:
        """The role as the core's enum."""
        return Role(self.role)

    def may(self, permission: Permission) -> bool:
        """Whether this account, if active, holds ``permission`` through its role."""
        return bool(self.is_active) and role_may(self.role, permission)
