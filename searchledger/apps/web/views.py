"""The home page, sign-in and sign-out, and a health check."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views import defaults
from django.views.decorators.cache import never_cache
from typing_extensions import override

from searchledger.apps.findings import selectors as finding_selectors
from searchledger.apps.grants import selectors as grant_selectors
from searchledger.apps.ledger import selectors as ledger_selectors
from searchledger.apps.reviews import selectors as review_selectors
from searchledger.apps.systems.models import ExternalSystem
from searchledger.apps.web.permissions import actor_from_request, public, requires, signed_in
from searchledger.apps.web.worklist import work_rows
from searchledger.core.roles import Permission

__all__ = ["SignInView", "SignOutView", "healthz", "home", "not_found"]


@requires(Permission.VIEW_HOME)
def home(request: HttpRequest) -> HttpResponse:
    """What the signed-in person can reach today, what needs doing soon in their scope, and
    the state of the ledger."""
    user = signed_in(request)
    size, root = ledger_selectors.get_tree_head()
    my_access = [
        (system, grant_selectors.check_access(user, system))
        for system in ExternalSystem.objects.filter(grants__account=user).distinct()
    ]
    actor = actor_from_request(request)
    work = work_rows(actor)
    return render(
        request,
        "web/home.html",
        {
            "ledger_size": size,
            "ledger_root": root.hex(),
            "my_access": my_access,
            "work": work[:8],
            "work_total": len(work),
            "work_overdue": sum(1 for item in work if item.overdue),
            "campaigns": review_selectors.campaign_progress(actor),
            "findings": finding_selectors.findings_work(actor),
        },
    )


@method_decorator(never_cache, name="dispatch")
class SignInView(auth_views.LoginView):
    """Sign-in with username and password."""

    template_name = "web/sign_in.html"
    redirect_authenticated_user = True

    @override
    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        """Offer single sign-on when it is configured."""
        context = super().get_context_data(**kwargs)
        context["sso_enabled"] = settings.SEARCHLEDGER_OIDC_ENABLED
        return context


public(SignInView)


class SignOutView(auth_views.LogoutView):
    """Sign-out (POST only, as Django requires)."""


public(SignOutView)


@public
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability, for load balancers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The URLconf's 404 (``handler404``): under ``/api/`` the API's own JSON error, as its
    schema documents (e.g. ``/api/searches/abc``, which no route matches), rather than the
    site's HTML page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not Found"}, status=404)
    return defaults.page_not_found(request, exception)
