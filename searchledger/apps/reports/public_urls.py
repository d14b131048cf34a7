"""URLs: the public transparency reports (open to anyone, signed in or not)."""

from django.urls import path

from searchledger.apps.reports import transparency_views as views

__all__ = ["app_name", "urlpatterns"]

app_name = "transparency"

urlpatterns = [
    path("", views.public_list, name="list"),
    path("<int:pk>/", views.public_detail, name="detail"),
    path("<int:pk>.csv", views.public_csv, name="csv"),
    path("<int:pk>.pdf", views.public_pdf, name="pdf"),
]
