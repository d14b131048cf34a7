"""URLs: reports."""

from django.urls import path

from searchledger.apps.reports import views

__all__ = ["app_name", "urlpatterns"]

app_name = "reports"

urlpatterns = [
    path("audit-trail/", views.audit_trail, name="audit"),
    path("audit-trail/export/", views.audit_export, name="audit_export"),
]
