"""URLs for training."""

from django.urls import path

from searchledger.apps.training import views

__all__ = ["urlpatterns"]

app_name = "training"

urlpatterns = [
    path("", views.training_list, name="list"),
    path("courses/new/", views.course_create, name="course_create"),
    path("completions/new/", views.completion_create, name="completion_create"),
]
