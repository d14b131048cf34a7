"""URLs: the oversight register."""

from django.urls import path

from searchledger.apps.oversight import views

__all__ = ["app_name", "urlpatterns"]

app_name = "oversight"

urlpatterns = [
    path("", views.memo_list, name="list"),
    path("new/", views.memo_new, name="memo_new"),
    path("<int:pk>/", views.memo_detail, name="memo"),
    path("recommendations/<int:pk>/respond/", views.recommendation_respond, name="respond"),
    path("recommendations/<int:pk>/milestones/", views.milestone_add, name="milestone_add"),
    path("recommendations/<int:pk>/status/", views.recommendation_status, name="status"),
    path(
        "recommendations/<int:pk>/findings/",
        views.recommendation_link_finding,
        name="link_finding",
    ),
    path(
        "recommendations/<int:pk>/reports/",
        views.recommendation_link_report,
        name="link_report",
    ),
    path("milestones/<int:pk>/done/", views.milestone_done, name="milestone_done"),
]
