"""The NinjaAPI instance. OpenAPI schema at /api/openapi.json, docs at /api/docs."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI

from searchledger import __version__
from searchledger.api.auth import DENY_ALL
from searchledger.api.routers.access import router as access_router
from searchledger.api.routers.findings import router as findings_router
from searchledger.api.routers.ledger import router as ledger_router
from searchledger.api.routers.searches import router as searches_router
from searchledger.apps.accounts import mfa

__all__ = ["api"]


def _signed_in(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The interactive docs are for signed-in users only (who have passed their second
    factor, if they owe one)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated or mfa.second_factor_owed(request) is not None:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapped


api = NinjaAPI(
    title="searchledger API",
    version=__version__,
    description="Accountable searches of sensitive databases. Every operation needs a role "
    "that holds its permission; anything not opened explicitly is refused.",
    auth=DENY_ALL,
    docs_decorator=_signed_in,
    urls_namespace="api",
)
api.add_router("/ledger", ledger_router)
api.add_router("/searches", searches_router)
api.add_router("/", access_router)
api.add_router("/", findings_router)
