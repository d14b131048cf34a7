"""API authentication and authorization: deny by default.

Every operation names the permission it needs with :func:`allow`; an operation that names
nothing falls back to :data:`DENY_ALL`, the API-wide default, and is refused.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import APIKeyCookie
from typing_extensions import override

from searchledger.core.roles import Permission

__all__ = ["DENY_ALL", "PermissionSessionAuth", "allow"]


class PermissionSessionAuth(APIKeyCookie):
    """Session-cookie authentication (with Django's CSRF check on unsafe methods) that also
    requires the signed-in account's role to hold ``permission``."""

    param_name = "sessionid"

    def __init__(self, permission: Permission | None) -> None:
        super().__init__(csrf=True)
        self.permission = permission

    @override
    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        """Return the account when it may use this operation, else None (401/403)."""
        user = request.user
        if not user.is_authenticated:
            return None
        if self.permission is None:
            return None
        if not user.may(self.permission):
            return None
        return user


DENY_ALL = PermissionSessionAuth(None)


def allow(permission: Permission) -> list[PermissionSessionAuth]:
    """The auth list for an operation open to roles holding ``permission``."""
    return [PermissionSessionAuth(permission)]
