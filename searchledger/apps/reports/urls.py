"""URLs: reports."""

from django.urls import path

from searchledger.apps.reports import dashboard_views, transparency_views, views

__all__ = ["app_name", "urlpatterns"]

app_name = "reports"

urlpatterns = [
    path("audit-trail/", views.audit_trail, name="audit"),
    path("audit-trail/export/", views.audit_export, name="audit_export"),
    path("dashboard/", dashboard_views.dashboard, name="dashboard"),
    path("transparency/", transparency_views.transparency_draft, name="transparency"),
    path(
        "transparency/publish/",
        transparency_views.transparency_publish,
        name="transparency_publish",
    ),
]
