"""The URLconf. Every view here declares who may open it (see apps.web.permissions)."""

from django.urls import include, path

from searchledger.api.api import api
from searchledger.apps.accounts import sso
from searchledger.apps.web import views as web_views

__all__ = ["handler404", "urlpatterns"]

# A path under /api/ that no route matches answers JSON, like the API's own 404s.
handler404 = "searchledger.apps.web.views.not_found"

urlpatterns = [
    path("", web_views.home, name="home"),
    path("sign-in/", web_views.SignInView.as_view(), name="login"),
    path("sign-out/", web_views.SignOutView.as_view(), name="logout"),
    path("healthz", web_views.healthz, name="healthz"),
    # OIDC single sign-on: 404 unless configured. The names are mozilla-django-oidc's.
    path("oidc/authenticate/", sso.sso_start, name="oidc_authentication_init"),
    path("oidc/callback/", sso.sso_callback, name="oidc_authentication_callback"),
    path("accounts/", include("searchledger.apps.accounts.urls")),
    path("ledger/", include("searchledger.apps.ledger.urls")),
    path("systems/", include("searchledger.apps.systems.urls")),
    path("grants/", include("searchledger.apps.grants.urls")),
    path("training/", include("searchledger.apps.training.urls")),
    path("bulk/", include("searchledger.apps.bulk.urls")),
    path("searches/", include("searchledger.apps.searches.urls")),
    path("findings/", include("searchledger.apps.findings.urls")),
    path("reviews/", include("searchledger.apps.reviews.urls")),
    path("access-logs/", include("searchledger.apps.accesslogs.urls")),
    path("reconciliation/", include("searchledger.apps.reconciliation.urls")),
    path("oversight/", include("searchledger.apps.oversight.urls")),
    path("reports/", include("searchledger.apps.reports.urls")),
    path("transparency/", include("searchledger.apps.reports.public_urls")),
    path("api/", api.urls),
]
