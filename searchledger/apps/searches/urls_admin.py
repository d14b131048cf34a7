"""URL patterns for one part of the searches app (combined in searches/urls.py)."""

from django.urls import URLPattern

__all__ = ["urlpatterns"]

urlpatterns: list[URLPattern] = []
