"""URL patterns for search records and approvals (combined in searches/urls.py)."""

from django.urls import URLPattern, path

from searchledger.apps.searches import views

__all__ = ["urlpatterns"]

urlpatterns: list[URLPattern] = [
    path("", views.search_list_mine, name="mine"),
    path("unit/", views.search_list_unit, name="unit"),
    path("unit/export.csv", views.search_export, name="export"),
    path("request/", views.search_request, name="request"),
    path("approvals/", views.search_approvals, name="approvals"),
    path("<int:pk>/", views.search_detail, name="detail"),
    path("<int:pk>/approve/", views.search_approve, name="approve"),
    path("<int:pk>/refuse/", views.search_refuse, name="refuse"),
    path("<int:pk>/cancel/", views.search_cancel, name="cancel"),
    path("<int:pk>/outcome/", views.search_outcome, name="outcome"),
    path("<int:pk>/roi/", views.search_roi, name="roi"),
]
