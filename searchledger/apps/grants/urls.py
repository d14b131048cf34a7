"""URLs for access grants."""

from django.urls import path

from searchledger.apps.grants import views

__all__ = ["urlpatterns"]

app_name = "grants"

urlpatterns = [
    path("", views.grant_list, name="list"),
    path("request/", views.grant_request, name="request"),
    path("access/", views.access_overview, name="overview"),
    path("work/", views.work_list, name="work"),
    path("people/<int:pk>/", views.person_access, name="person"),
    path("<int:pk>/", views.grant_detail, name="detail"),
    path("<int:pk>/<str:decision>/", views.grant_decide, name="decide"),
]
