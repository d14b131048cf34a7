"""URLs: reconciliation."""

from django.urls import URLPattern, path

from searchledger.apps.reconciliation import views

__all__ = ["app_name", "urlpatterns"]

app_name = "reconciliation"

urlpatterns: list[URLPattern] = [
    path("", views.run_list, name="list"),
    path("new/", views.run_new, name="new"),
    path("<int:pk>/", views.run_detail, name="detail"),
]
