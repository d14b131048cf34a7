"""URLs: reconciliation."""

from django.urls import URLPattern

__all__ = ["app_name", "urlpatterns"]

app_name = "reconciliation"

urlpatterns: list[URLPattern] = []
