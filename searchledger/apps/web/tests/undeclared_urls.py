"""A test-only URLconf: views that declare no permission, to check that the deny-by-default
middleware refuses them, beside one declared view as a control.

Used with ``@pytest.mark.urls("searchledger.apps.web.tests.undeclared_urls")``.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views import View

from searchledger.apps.web import views as web_views
from searchledger.apps.web.permissions import requires
from searchledger.core.roles import Permission

__all__ = ["CALLS", "urlpatterns"]

# Every undeclared view that actually ran appends its name here; the tests expect none.
CALLS: list[str] = []


def undeclared(request: HttpRequest) -> HttpResponse:
    """A view someone forgot to open to any role."""
    CALLS.append("undeclared")
    return HttpResponse("the undeclared view ran")


class UndeclaredView(View):
    """A class-based view someone forgot to open to any role."""

    def get(self, request: HttpRequest) -> HttpResponse:
        """Record that it ran."""
        CALLS.append("undeclared-class")
        return HttpResponse("the undeclared class-based view ran")

    def post(self, request: HttpRequest) -> HttpResponse:
        """Record that it ran."""
        CALLS.append("undeclared-class")
        return HttpResponse("the undeclared class-based view ran")


@requires(Permission.VIEW_HOME)
def declared(request: HttpRequest) -> HttpResponse:
    """The control: a view that declares a permission every role holds."""
    return HttpResponse("the declared view ran")


urlpatterns = [
    path("undeclared/", undeclared, name="undeclared"),
    path("undeclared-class/", UndeclaredView.as_view(), name="undeclared-class"),
    # Under /api/ but not part of the ninja API: must not slip past the gate.
    path("api/undeclared/", undeclared, name="api-undeclared"),
    path("declared/", declared, name="declared"),
    path("sign-in/", web_views.SignInView.as_view(), name="login"),
    path("", declared, name="home"),
]
