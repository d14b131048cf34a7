"""URLs: findings."""

from django.urls import URLPattern

__all__ = ["app_name", "urlpatterns"]

app_name = "findings"

urlpatterns: list[URLPattern] = []
