"""The second-factor gate: a signed-in session that still owes its TOTP code (or, when MFA
is required, an enrolment) is sent to do that before any other page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from searchledger.apps.accounts import mfa
from searchledger.apps.web.permissions import PUBLIC, required_permission

__all__ = ["SecondFactorMiddleware"]

# The app name django-ninja gives its URLs; the API checks the second factor in its own
# session authentication (searchledger.api.auth), answering 401 rather than redirecting.
_NINJA_APP = "ninja"


class SecondFactorMiddleware:
    """Redirect a session that owes its second factor to verification or enrolment.

    Public views (sign-in, sign-out, health check) and the pages marked with
    ``mfa.allowed_while_owing`` stay open; so does the JSON API, which refuses such a
    session by itself. Runs before ``DenyByDefaultMiddleware``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        """Decide before the view runs."""
        if not request.user.is_authenticated:
            return None
        match = request.resolver_match
        if match is not None and _NINJA_APP in match.app_names:
            return None
        if settings.DEBUG and request.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
            return None
        if required_permission(view_func) == PUBLIC:
            return None
        owed = mfa.second_factor_owed(request)
        if owed is None or mfa.view_allows_owing(view_func, owed):
            return None
        target = reverse("accounts:mfa_verify" if owed == "verify" else "accounts:mfa_enrol")
        return HttpResponseRedirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
