"""The TOTP second factor in a session: what a signed-in session still owes, enrolment's
pending secret, checking a code at sign-in, and the enrolment QR code.

Enrolling and removing an authenticator are actions (``accounts.actions``) with ledger
entries. Checking a code at sign-in is not: like a password check it changes no record
(django-otp only notes the last time step used and its throttling counters on the device).
"""

from __future__ import annotations

import logging
from base64 import b32encode
from binascii import unhexlify
from collections.abc import Callable
from typing import Any, Literal, TypeVar
from urllib.parse import quote, urlencode

import django_otp
import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from searchledger.apps.accounts.models import Account

__all__ = [
    "SSO_BACKEND",
    "Owed",
    "allowed_while_owing",
    "device_for",
    "enrolment_key",
    "forget_enrolment_key",
    "mark_verified",
    "otpauth_uri",
    "qr_svg",
    "safe_next",
    "second_factor_owed",
    "secret_for_typing",
    "signed_in_by_sso",
    "verify_code",
    "view_allows_owing",
]

log = logging.getLogger("searchledger.auth")

SSO_BACKEND = "searchledger.apps.accounts.sso.SsoBackend"
_ENROLMENT_KEY = "searchledger_totp_enrolment_key"
_OWING_ATTR = "searchledger_allowed_while_owing"

Owed = Literal["verify", "enrol"]
ViewFunc = TypeVar("ViewFunc", bound=Callable[..., Any])


def allowed_while_owing(owed: Owed) -> Callable[[ViewFunc], ViewFunc]:
    """Mark a view that a session owing ``owed`` may still open (the verification and
    enrolment pages themselves); every other signed-in page sends it there first."""

    def mark(view: ViewFunc) -> ViewFunc:
        setattr(view, _OWING_ATTR, owed)
        return view

    return mark


def view_allows_owing(view: Callable[..., Any], owed: Owed) -> bool:
    """Whether ``view`` was marked with :func:`allowed_while_owing` for ``owed``."""
    return getattr(view, _OWING_ATTR, None) == owed


def device_for(account: Account) -> TOTPDevice | None:
    """The account's confirmed TOTP device, if it enrolled one."""
    device: TOTPDevice | None = TOTPDevice.objects.filter(user=account, confirmed=True).first()
    return device


def signed_in_by_sso(request: HttpRequest) -> bool:
    """Whether this session was signed in through OIDC single sign-on, whose identity
    provider applies its own second factor."""
    return bool(request.session.get(BACKEND_SESSION_KEY) == SSO_BACKEND)


def second_factor_owed(request: HttpRequest) -> Owed | None:
    """What the signed-in session still owes before it may use the application:
    ``"verify"`` (the account has an authenticator and this session has not shown a code),
    ``"enrol"`` (MFA is required and the account has no authenticator yet) or None."""
    user = request.user
    if not user.is_authenticated:
        return None
    if signed_in_by_sso(request):
        return None
    is_verified = getattr(user, "is_verified", None)
    if callable(is_verified) and is_verified():
        return None
    if TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).exists():
        return "verify"
    if settings.SEARCHLEDGER_REQUIRE_MFA:
        return "enrol"
    return None


def verify_code(request: HttpRequest, device: TOTPDevice, code: str) -> bool:
    """Check a code from the session's own device; on success mark the session verified
    (and give it a new session key). Wrong codes are throttled by django-otp: after n
    failures the device refuses every code for 2**(n-1) seconds."""
    code = code.strip().replace(" ", "")
    account = request.user
    if device.user_id != account.pk:
        return False
    allowed, _ = device.verify_is_allowed()
    if allowed and code.isdigit() and device.verify_token(code):
        mark_verified(request, device)
        log.info("second factor verified: account=%s", account.pk)
        return True
    log.warning(
        "second factor refused: account=%s throttled=%s", account.pk, "no" if allowed else "yes"
    )
    return False


def mark_verified(request: HttpRequest, device: TOTPDevice) -> None:
    """Record in the session that it passed ``device`` (django-otp's marker), under a new
    session key."""
    django_otp.login(request, device)
    request.session.cycle_key()


def enrolment_key(request: HttpRequest) -> str:
    """The secret being enrolled in this session (hex), drawn on first use. It lives only
    in the session until the person confirms a code, when the action stores it."""
    key = request.session.get(_ENROLMENT_KEY)
    if not isinstance(key, str) or len(key) != 40:
        key = str(random_hex(20))
        request.session[_ENROLMENT_KEY] = key
    return key


def forget_enrolment_key(request: HttpRequest) -> None:
    """Drop the pending secret (after enrolment)."""
    request.session.pop(_ENROLMENT_KEY, None)


def otpauth_uri(account: Account, key: str) -> str:
    """The ``otpauth://totp/...`` URI an authenticator app reads (Google's Key URI
    format: SHA-1, 6 digits, 30 seconds, the issuer from ``OTP_TOTP_ISSUER``)."""
    issuer = str(settings.OTP_TOTP_ISSUER).replace(":", "")
    secret = b32encode(unhexlify(key)).decode("ascii").rstrip("=")
    label = quote(f"{issuer}:{account.get_username()}")
    query = urlencode(
        {"secret": secret, "issuer": issuer, "algorithm": "SHA1", "digits": 6, "period": 30},
        quote_via=quote,
    )
    return f"otpauth://totp/{label}?{query}"


def secret_for_typing(key: str) -> str:
    """The secret in base32, in groups of four, for people who type it in."""
    secret = b32encode(unhexlify(key)).decode("ascii").rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_svg(data: str) -> str:
    """``data`` as a QR code, an inline SVG element (drawn in pure Python, no images)."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return str(image.to_string(encoding="unicode"))


def safe_next(request: HttpRequest, fallback: str) -> str:
    """The ``next`` parameter if it points inside this site, else ``fallback``."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return fallback
