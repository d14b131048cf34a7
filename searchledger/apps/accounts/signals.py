"""Log lines for sign-in, sign-in failure, sign-out and lock-out (logger
``searchledger.auth``). They are operational records, not ledger entries: signing in
changes no record."""

from __future__ import annotations

import logging
from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

__all__ = ["log_lockout", "log_sign_in", "log_sign_in_failure", "log_sign_out"]

log = logging.getLogger("searchledger.auth")


def _ip(request: HttpRequest | None) -> str:
    if request is None:
        return "?"
    return str(getattr(request, "axes_ip_address", None) or request.META.get("REMOTE_ADDR", "?"))


@receiver(user_logged_in)
def log_sign_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """A successful sign-in (the first factor, or single sign-on)."""
    log.info("sign-in: account=%s username=%r ip=%s", user.pk, user.get_username(), _ip(request))


@receiver(user_logged_out)
def log_sign_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """A sign-out."""
    log.info("sign-out: account=%s", getattr(user, "pk", None))


@receiver(user_login_failed)
def log_sign_in_failure(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    """A failed sign-in (Django has already masked the password in ``credentials``)."""
    log.warning("sign-in failed: username=%r ip=%s", credentials.get("username"), _ip(request))


@receiver(user_locked_out)
def log_lockout(
    sender: Any, request: HttpRequest | None, username: str | None, ip_address: str, **kwargs: Any
) -> None:
    """A username (or username and address) was locked out after repeated failures."""
    log.warning("locked out after repeated failures: username=%r ip=%s", username, ip_address)
