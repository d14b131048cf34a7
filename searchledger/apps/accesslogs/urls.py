"""URLs: external access logs."""

from django.urls import URLPattern

__all__ = ["app_name", "urlpatterns"]

app_name = "accesslogs"

urlpatterns: list[URLPattern] = []
