"""URLs: supervisory review."""

from django.urls import URLPattern

__all__ = ["app_name", "urlpatterns"]

app_name = "reviews"

urlpatterns: list[URLPattern] = []
