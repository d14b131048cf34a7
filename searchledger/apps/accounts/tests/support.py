"""Test support for sign-in credentials: TOTP codes computed the way an authenticator app
does (RFC 6238), independently of django-otp's verification."""

from __future__ import annotations

import hashlib
import hmac
import struct
import time
from binascii import unhexlify
from typing import Any

from django.test import override_settings

from searchledger.apps.accounts.mfa import SSO_BACKEND

__all__ = ["ISSUER", "OIDC_SETTINGS", "RFC_KEY", "oidc_settings", "totp_code"]

# RFC 6238's SHA-1 test secret ("12345678901234567890"), hex-encoded.
RFC_KEY = "3132333435363738393031323334353637383930"


def totp_code(key_hex: str, at: float | None = None, *, step: int = 30, offset: float = 0.0) -> str:
    """The six-digit code for ``key_hex`` at Unix time ``at``, or by default now plus
    ``offset`` seconds. Without ``at`` it first waits out the last two seconds of a time
    step, so the code is still the current (or next) one when the server checks it: a code
    made at the very end of a step and checked in the next would be accepted one step late
    and record a clock drift that makes the following codes fail."""
    if at is None:
        left = step - time.time() % step
        if left < 2:
            time.sleep(left + 0.05)
        at = time.time() + offset
    counter = int(at // step)
    digest = hmac.new(unhexlify(key_hex), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


ISSUER = "https://idp.agency.example/realms/staff"

# Single sign-on as an agency would configure it. Nothing here is ever contacted: the tests
# exercise the backend's claim handling and the redirect to the provider, not the network.
OIDC_SETTINGS: dict[str, Any] = {
    "SEARCHLEDGER_OIDC_ENABLED": True,
    "SEARCHLEDGER_OIDC_ISSUER": ISSUER,
    "SEARCHLEDGER_OIDC_GROUP_ROLES": [
        ["sl-oversight", "oversight"],
        ["sl-auditors", "auditor"],
        ["sl-administrators", "administrator"],
        ["sl-supervisors", "supervisor"],
        ["sl-officers", "officer"],
    ],
    "SEARCHLEDGER_OIDC_GROUPS_CLAIM": "groups",
    "SEARCHLEDGER_OIDC_USERNAME_CLAIM": "preferred_username",
    "SEARCHLEDGER_OIDC_LINK_EXISTING": False,
    "OIDC_OP_AUTHORIZATION_ENDPOINT": ISSUER + "/protocol/openid-connect/auth",
    "OIDC_OP_TOKEN_ENDPOINT": ISSUER + "/protocol/openid-connect/token",
    "OIDC_OP_USER_ENDPOINT": ISSUER + "/protocol/openid-connect/userinfo",
    "OIDC_OP_JWKS_ENDPOINT": ISSUER + "/protocol/openid-connect/certs",
    "OIDC_RP_CLIENT_ID": "searchledger",
    "OIDC_RP_CLIENT_SECRET": "client-secret-for-tests-only-0123456789",
    "OIDC_RP_SIGN_ALGO": "RS256",
    "OIDC_RP_SCOPES": "openid email profile",
    "OIDC_USE_PKCE": True,
    "LOGIN_REDIRECT_URL_FAILURE": "/sign-in/?sso=failed",
    "AUTHENTICATION_BACKENDS": [
        "axes.backends.AxesStandaloneBackend",
        "django.contrib.auth.backends.ModelBackend",
        SSO_BACKEND,
    ],
}


def oidc_settings(**extra: Any) -> override_settings:
    """``override_settings`` with single sign-on configured (plus ``extra``)."""
    return override_settings(**{**OIDC_SETTINGS, **extra})
