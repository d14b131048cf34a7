"""URL patterns for probe images (combined in searches/urls.py)."""

from django.urls import URLPattern, path

from searchledger.apps.searches import probe_views

__all__ = ["urlpatterns"]

urlpatterns: list[URLPattern] = [
    path("<int:pk>/probe/", probe_views.probe_page, name="probe"),
    path("<int:pk>/probe/image", probe_views.probe_image, name="probe_image"),
]
