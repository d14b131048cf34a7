"""A test-only URLconf: the project's URLconf plus URLs nobody put in the authorization
matrix (a page, a page inside a namespaced include, an operation of a second ninja API, and a
second pattern reusing an existing name), to check that the matrix test reports each one.

Used with ``@pytest.mark.urls("searchledger.apps.web.tests.unlisted_urls")``.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from ninja import NinjaAPI

from searchledger.apps.web.permissions import requires
from searchledger.config.urls import urlpatterns as project_urlpatterns
from searchledger.core.roles import Permission

__all__ = ["urlpatterns"]


@requires(Permission.VIEW_HOME)
def unlisted_page(request: HttpRequest) -> HttpResponse:
    """A page someone added without deciding, in the matrix, who may open it."""
    return HttpResponse("unlisted")


unlisted_api = NinjaAPI(urls_namespace="unlisted_api", docs_url=None, openapi_url=None)


@unlisted_api.get("/thing")
def unlisted_operation(request: HttpRequest) -> dict[str, str]:
    """An API operation someone added without a matrix entry."""
    return {"unlisted": "yes"}


urlpatterns = [
    *project_urlpatterns,
    path("unlisted-page/", unlisted_page, name="unlisted_page"),
    path(
        "unlisted-section/",
        include(([path("inner/", unlisted_page, name="inner_page")], "unlisted_section")),
    ),
    path("unlisted-api/", unlisted_api.urls),
    # The same name as the home page at another route: the walk must not let it hide.
    path("home-again/", unlisted_page, name="home"),
]
