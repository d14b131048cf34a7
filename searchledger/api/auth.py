"""API authentication and authorization: deny by default.

Every operation names the permission it needs with :func:`allow`; an operation that names
nothing falls back to :data:`DENY_ALL`, the API-wide default, and is refused.

Two ways in, tried in this order:

* a personal API token, ``Authorization: Bearer sl_<prefix>_<secret>``: it must be
  unrevoked and unexpired, its account active, its scopes must include the operation's
  permission **and** the account's current role must still hold it. A token that is
  presented and fails is refused outright (401, or 403 for a missing scope); there is no
  falling back to the session.
* the session cookie of a signed-in browser (with Django's CSRF check on unsafe methods),
  whose role must hold the permission and which must have passed its second factor.

Tokens are for this API only: the HTML pages never look at the Authorization header.
"""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest
from ninja.errors import AuthenticationError, AuthorizationError
from ninja.security import APIKeyCookie, HttpBearer
from typing_extensions import override

from searchledger.apps.accounts import mfa, tokens
from searchledger.apps.accounts.models import Account
from searchledger.core.roles import Permission

__all__ = ["DENY_ALL", "PermissionSessionAuth", "PermissionTokenAuth", "allow"]

log = logging.getLogger("searchledger.auth")


class PermissionSessionAuth(APIKeyCookie):
    """Session-cookie authentication (with Django's CSRF check on unsafe methods) that also
    requires the signed-in account's role to hold ``permission`` and the session to have
    passed its second factor, if it owes one."""

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
        if mfa.second_factor_owed(request) is not None:
            return None
        # Signed in, but this role may not: 403 (not 401, which would invite signing in again).
        if self.permission is None:
            raise AuthorizationError
        if not user.may(self.permission):
            raise AuthorizationError
        return user


class PermissionTokenAuth(HttpBearer):
    """Bearer authentication with a personal API token scoped to include ``permission``."""

    def __init__(self, permission: Permission) -> None:
        super().__init__()
        self.permission = permission

    @override
    def authenticate(self, request: HttpRequest, token: str) -> Account:
        """Return the token's account, or refuse (401 bad token, 403 missing permission)."""
        found = tokens.authenticate_token(token)
        if found is None:
            log.warning("API token refused: path=%s", request.path)
            raise AuthenticationError
        account = found.account
        if self.permission not in found.scope_set:
            raise AuthorizationError(
                403, f"the token's scopes do not include {self.permission.value}"
            )
        if not account.may(self.permission):
            raise AuthorizationError(
                403, f"the account's role does not hold {self.permission.value}"
            )
        tokens.record_use(found)
        # Handlers build the Actor from request.user, as for a session.
        request.user = account
        return account


DENY_ALL = PermissionSessionAuth(None)


def allow(permission: Permission) -> list[PermissionTokenAuth | PermissionSessionAuth]:
    """The auth list for an operation open to roles holding ``permission``: a scoped
    personal API token, or the session of a signed-in browser."""
    return [PermissionTokenAuth(permission), PermissionSessionAuth(permission)]
