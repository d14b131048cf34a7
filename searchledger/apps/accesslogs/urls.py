"""URLs: external access logs."""

from django.urls import path

from searchledger.apps.accesslogs import views

__all__ = ["app_name", "urlpatterns"]

app_name = "accesslogs"

urlpatterns = [
    path("", views.index, name="index"),
    path("imports/<int:pk>/", views.import_detail, name="detail"),
    path("imports/<int:pk>/progress/", views.import_progress, name="progress"),
    path("imports/<int:pk>/rejects.csv", views.import_rejects, name="rejects"),
    path("imports/<int:pk>/resume/", views.import_resume, name="resume"),
    path("accounts/<int:pk>/map/", views.account_map, name="map"),
    path("accounts/<int:pk>/unmap/", views.account_unmap, name="unmap"),
    path("<slug:code>/", views.system_imports, name="system"),
    path("<slug:code>/mapping/", views.mapping_set, name="mapping"),
    path("<slug:code>/upload/", views.upload, name="upload"),
    path("<slug:code>/accounts/", views.external_accounts, name="accounts"),
    path(
        "<slug:code>/accounts/upload/",
        views.account_mappings_upload,
        name="accounts_upload",
    ),
]
