"""URLs for the external systems catalogue."""

from django.urls import path

from searchledger.apps.systems import views

__all__ = ["urlpatterns"]

app_name = "systems"

urlpatterns = [
    path("", views.system_list, name="list"),
    path("new/", views.system_create, name="create"),
    path("<slug:code>/", views.system_detail, name="detail"),
    path("<slug:code>/edit/", views.system_edit, name="edit"),
    path("<slug:code>/rules/", views.rules_publish, name="rules"),
    path("<slug:code>/rules/acknowledge/", views.rules_acknowledge, name="acknowledge"),
]
