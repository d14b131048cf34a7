"""Personal API tokens: their format, hashing at rest, and checking a presented token.

A token reads ``sl_<prefix>_<secret>``: the prefix (8 characters) finds the row and is shown
to the person in lists; the secret (40 characters, about 206 bits) is stored only as its
SHA-256 and compared in constant time. A plain hash suffices because the secret is random
and long, not a password a person chose. Issuing and revoking are actions
(``accounts.actions``); this module only reads, apart from ``last_used_at``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import string
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.crypto import get_random_string

from searchledger.apps.accounts.models import ApiToken
from searchledger.core.roles import ROLE_PERMISSIONS, Permission, Role

__all__ = [
    "TOKEN_PATTERN",
    "USE_RECORD_INTERVAL",
    "authenticate_token",
    "format_token",
    "hash_secret",
    "new_token_parts",
    "record_use",
    "token_scopes_for",
]

_ALPHABET = string.ascii_lowercase + string.digits
PREFIX_LENGTH = 8
SECRET_LENGTH = 40
TOKEN_PATTERN = re.compile(rf"^sl_([a-z0-9]{{{PREFIX_LENGTH}}})_([a-z0-9]{{{SECRET_LENGTH}}})$")
# last_used_at is written at most this often per token, so a busy integration does not
# turn every API read into a write.
USE_RECORD_INTERVAL = timedelta(minutes=1)
# Compared against when no token has the presented prefix, so that a miss costs the same
# hash and comparison as a hit.
_NO_SUCH_TOKEN = "0" * 64

# Scopes a token can never carry: managing one's own credentials is for a person at a
# browser, not for an integration.
_NEVER_SCOPES = frozenset({Permission.MANAGE_OWN_CREDENTIALS})


def new_token_parts() -> tuple[str, str]:
    """A fresh random ``(prefix, secret)``."""
    return (
        get_random_string(PREFIX_LENGTH, allowed_chars=_ALPHABET),
        get_random_string(SECRET_LENGTH, allowed_chars=_ALPHABET),
    )


def format_token(prefix: str, secret: str) -> str:
    """The token string a person copies: ``sl_<prefix>_<secret>``."""
    return f"sl_{prefix}_{secret}"


def hash_secret(secret: str) -> str:
    """The hex SHA-256 of a token's secret, as stored."""
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def token_scopes_for(role: Role | str) -> list[Permission]:
    """The permissions a token of an account with ``role`` may carry, in a stable order."""
    held = ROLE_PERMISSIONS.get(Role(role), frozenset())
    return sorted(held - _NEVER_SCOPES, key=lambda p: p.value)


def authenticate_token(raw: str, *, now: datetime | None = None) -> ApiToken | None:
    """The token ``raw`` names if it is well formed, its secret matches, and it is neither
    revoked nor expired, and its account is active; else None. Whether it may be used for a
    particular permission is for the caller to check (scopes and the account's role)."""
    match = TOKEN_PATTERN.fullmatch(raw.strip())
    if match is None:
        return None
    prefix, secret = match.groups()
    token = ApiToken.objects.select_related("account").filter(prefix=prefix).first()
    expected = token.secret_hash if token is not None else _NO_SUCH_TOKEN
    if not hmac.compare_digest(hash_secret(secret), expected) or token is None:
        return None
    if not token.is_live(now or timezone.now()):
        return None
    if not token.account.is_active:
        return None
    return token


def record_use(token: ApiToken, *, now: datetime | None = None) -> bool:
    """Set ``last_used_at`` unless it was set less than a minute ago; True if written.

    Bookkeeping like Django's ``last_login``, not a change to the records, so it is not
    on the ledger.
    """
    moment = now or timezone.now()
    if token.last_used_at is not None and moment - token.last_used_at < USE_RECORD_INTERVAL:
        return False
    stale = ApiToken.objects.filter(pk=token.pk).exclude(
        last_used_at__gt=moment - USE_RECORD_INTERVAL
    )
    written = stale.update(last_used_at=moment) == 1
    if written:
        token.last_used_at = moment
    return written
