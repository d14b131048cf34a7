"""Sign-in lock-out (django-axes) hooks: how a username is counted, the page a locked-out
person sees, and the log lines for sign-ins, failures and lock-outs.

Failures and lock-outs go to the log (logger ``searchledger.auth``), not to the ledger:
they change no record. django-axes keeps its failure counters in its own table.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

__all__ = [
    "LOCKED_OUT_STATUS",
    "client_ip",
    "lockout_minutes",
    "lockout_response",
    "lockout_username",
]

log = logging.getLogger("searchledger.auth")

# 429 Too Many Requests, with the sign-in page explaining the lock-out.
LOCKED_OUT_STATUS = 429


def lockout_username(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str | None:
    """The username failures are counted against: trimmed and lower-cased, so that
    ``Admin`` and ``admin `` share one counter. None when there is no username (single
    sign-on callbacks), which django-axes does not count."""
    raw: object = None
    if credentials:
        raw = credentials.get("username")
    if raw is None and request is not None:
        raw = getattr(request, "POST", {}).get("username")
    if not isinstance(raw, str) or not raw.strip():
        return None
    return raw.strip().lower()


def client_ip(request: HttpRequest) -> str | None:
    """The client's address for counting and logging failures: ``REMOTE_ADDR``, or behind
    ``SEARCHLEDGER_PROXY_COUNT`` trusted proxies the X-Forwarded-For entry the outermost one
    appended (entries further left are whatever the client claimed, and are ignored)."""
    remote_addr = request.META.get("REMOTE_ADDR")
    remote = str(remote_addr) if remote_addr else None
    count = settings.SEARCHLEDGER_PROXY_COUNT
    if count <= 0:
        return remote
    header = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
    forwarded = [part.strip() for part in header.split(",") if part.strip()]
    if len(forwarded) < count:
        return remote
    return forwarded[-count]


def lockout_minutes() -> int:
    """How long a lock-out lasts, in minutes."""
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict[str, Any] | None
) -> HttpResponse:
    """The sign-in page with the lock-out message (django-axes' ``AXES_LOCKOUT_CALLABLE``)."""
    username = lockout_username(request, credentials) or ""
    log.warning(
        "sign-in refused, locked out: username=%r ip=%s",
        username,
        getattr(request, "axes_ip_address", "?"),
    )
    form = AuthenticationForm(request, initial={"username": username})
    return render(
        request,
        "web/sign_in.html",
        {
            "form": form,
            "locked_out": True,
            "lockout_minutes": lockout_minutes(),
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "next": request.POST.get("next", ""),
            "sso_enabled": settings.SEARCHLEDGER_OIDC_ENABLED,
        },
        status=LOCKED_OUT_STATUS,
    )
