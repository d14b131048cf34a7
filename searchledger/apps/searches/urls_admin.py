"""URL patterns of the administrator pages for searches: policies, purposes (offence
categories) and known cases (combined in searches/urls.py)."""

from django.urls import URLPattern, path

from searchledger.apps.searches import admin_views

__all__ = ["urlpatterns"]

urlpatterns: list[URLPattern] = [
    path("policies/", admin_views.policy_list, name="policies"),
    path("policies/set/", admin_views.policy_set, name="policy_set"),
    path("purposes/", admin_views.purpose_list, name="purposes"),
    path("purposes/new/", admin_views.purpose_create, name="purpose_create"),
    path("purposes/<slug:code>/retire/", admin_views.purpose_retire, name="purpose_retire"),
    path("cases/", admin_views.case_list, name="cases"),
    path("cases/new/", admin_views.case_open, name="case_open"),
    path("cases/<int:pk>/close/", admin_views.case_close, name="case_close"),
]
