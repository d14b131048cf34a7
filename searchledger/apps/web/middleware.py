"""Request id and the deny-by-default authorization gate."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden

from searchledger.apps.web.permissions import PUBLIC, required_permission
from searchledger.core.roles import Permission

__all__ = ["DenyByDefaultMiddleware", "RequestIdMiddleware", "SecurityHeadersMiddleware"]

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# The app name django-ninja gives the URLs of every NinjaAPI (``api.urls``).
_NINJA_APP = "ninja"


class RequestIdMiddleware:
    """Give every request an id (or keep a well-formed ``X-Request-ID`` from a proxy) so
    ledger entries can be tied to the request that caused them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else str(uuid.uuid4())
        request.request_id = request_id  # type: ignore[attr-defined]  # our own attribute
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


class SecurityHeadersMiddleware:
    """The headers Django's ``SecurityMiddleware`` does not send.

    * ``Permissions-Policy``: the browser features no page uses, refused to every origin.
    * ``Cache-Control: no-store`` on every answer to a signed-in session or to a request
      with an ``Authorization`` header (the pages and the API hold people's names, cases
      and searches), unless the view chose its own caching (the ledger's full tiles, which
      never change and hold no personal data in clear). A shared or back-button cache then
      keeps no copy after sign-out.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.SEARCHLEDGER_PERMISSIONS_POLICY)
        if "Cache-Control" in response:
            return response
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        if signed_in or "HTTP_AUTHORIZATION" in request.META:
            response["Cache-Control"] = "no-store"
        return response


class DenyByDefaultMiddleware:
    """Refuse every view unless it declares a permission the signed-in account holds.

    The JSON API (django-ninja) does its own authentication per operation and is let
    through here; its routers are deny-by-default as well (see ``searchledger.api``). Only
    views inside ninja's URLs are let through, not everything under ``/api/``.
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
        # Exempt by what the view is, not by its URL prefix: any other view mounted under
        # /api/ is gated like a page.
        match = request.resolver_match
        if match is not None and _NINJA_APP in match.app_names:
            return None
        if settings.DEBUG and request.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
            return None
        needed = required_permission(view_func)
        if needed == PUBLIC:
            return None
        if needed is None:
            return HttpResponseForbidden("This page has not been opened to any role.")
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.may(Permission(needed)):
            return HttpResponseForbidden("Your role does not allow this page.")
        return None
