"""URLs for accounts."""

from django.urls import path

from searchledger.apps.accounts import views

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
]
