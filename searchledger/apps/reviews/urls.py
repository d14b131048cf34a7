"""URLs: supervisory review."""

from django.urls import URLPattern, path

from searchledger.apps.reviews import views

__all__ = ["app_name", "urlpatterns"]

app_name = "reviews"

urlpatterns: list[URLPattern] = [
    path("", views.campaign_list, name="list"),
    path("open/", views.campaign_open, name="open"),
    path("<int:pk>/", views.campaign_detail, name="detail"),
    path("<int:pk>/close/", views.campaign_close, name="close"),
    path("items/<int:pk>/", views.item_review, name="item"),
]
