"""URLs for accounts."""

from django.urls import path

from searchledger.apps.accounts import security_views, views

__all__ = ["urlpatterns"]

app_name = "accounts"

urlpatterns = [
    path("", views.account_list, name="list"),
    path("new/", views.account_create, name="create"),
    path("units/", views.unit_list, name="units"),
    path("units/new/", views.unit_create, name="unit_create"),
    path("<int:pk>/assign/", views.account_assign, name="assign"),
    path(
        "<int:pk>/deactivate/",
        views.account_status,
        {"change": "deactivate"},
        name="deactivate",
    ),
    path(
        "<int:pk>/reactivate/",
        views.account_status,
        {"change": "reactivate"},
        name="reactivate",
    ),
    # One's own sign-in security: the TOTP authenticator and personal API tokens.
    path("mfa/", security_views.mfa_status, name="mfa"),
    path("mfa/enrol/", security_views.mfa_enrol, name="mfa_enrol"),
    path("mfa/verify/", security_views.mfa_verify, name="mfa_verify"),
    path("mfa/remove/", security_views.mfa_remove, name="mfa_remove"),
    path("tokens/", security_views.token_list, name="tokens"),
    path("tokens/new/", security_views.token_create, name="token_create"),
    path("tokens/<int:pk>/revoke/", security_views.token_revoke, name="token_revoke"),
    # Administrators: everyone's authenticators and tokens.
    path("credentials/", security_views.credentials_overview, name="credentials"),
    path("<int:pk>/mfa/reset/", security_views.mfa_reset, name="mfa_reset"),
]
