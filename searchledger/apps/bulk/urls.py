"""URLs for bulk import."""

from django.urls import path

from searchledger.apps.bulk import views

__all__ = ["urlpatterns"]

app_name = "bulk"

urlpatterns = [path("", views.bulk_import, name="import")]
