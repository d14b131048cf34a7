"""URLs: findings."""

from django.urls import URLPattern, path

from searchledger.apps.findings import views

__all__ = ["app_name", "urlpatterns"]

app_name = "findings"

urlpatterns: list[URLPattern] = [
    path("", views.finding_list, name="list"),
    path("export.csv", views.finding_export, name="export"),
    path("raise/", views.finding_raise, name="raise"),
    path("<int:pk>/", views.finding_detail, name="detail"),
    path("<int:pk>/assign/", views.finding_assign, name="assign"),
    path("<int:pk>/remediation/", views.finding_remediation, name="remediation"),
    path("<int:pk>/close/", views.finding_close, name="close"),
    path("<int:pk>/reopen/", views.finding_reopen, name="reopen"),
]
