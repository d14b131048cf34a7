"""Pages for training courses and completions."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from searchledger.apps.authz import scoped_accounts
from searchledger.apps.training import actions
from searchledger.apps.training.forms import CompletionForm, CourseForm
from searchledger.apps.training.models import Course, TrainingCompletion
from searchledger.apps.web.forms import add_validation_errors
from searchledger.apps.web.permissions import actor_from_request, requires, signed_in
from searchledger.core.access import training_valid_until
from searchledger.core.roles import Permission

__all__ = ["completion_create", "course_create", "training_list"]


@requires(Permission.VIEW_GRANTS)
def training_list(request: HttpRequest) -> HttpResponse:
    """Courses, and the completions of the people the viewer may see."""
    completions = (
        TrainingCompletion.objects.filter(account__in=scoped_accounts(actor_from_request(request)))
        .select_related("account", "course")
        .order_by("-completed_on")[:200]
    )
    rows = [(c, training_valid_until(c.completed_on, c.course.valid_for_days)) for c in completions]
    user = signed_in(request)
    return render(
        request,
        "training/training_list.html",
        {
            "courses": Course.objects.order_by("name"),
            "rows": rows,
            "can_manage": user.may(Permission.MANAGE_SYSTEMS),
            "can_record": user.may(Permission.RECORD_TRAINING),
        },
    )


@requires(Permission.MANAGE_SYSTEMS)
@require_http_methods(["GET", "POST"])
def course_create(request: HttpRequest) -> HttpResponse:
    """Add a course."""
    form = CourseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            course = actions.do_create_course(
                **form.cleaned_data, actor=actor_from_request(request)
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, f"Course {course.name} added.")
            return redirect("training:list")
    return render(
        request,
        "web/form_page.html",
        {"form": form, "title": "Add a course", "cancel_url": reverse("training:list")},
    )


@requires(Permission.RECORD_TRAINING)
@require_http_methods(["GET", "POST"])
def completion_create(request: HttpRequest) -> HttpResponse:
    """Record that someone completed a course."""
    form = CompletionForm(
        request.POST or None, accounts=scoped_accounts(actor_from_request(request))
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.do_record_completion(
                data["account"].pk,
                course_code=data["course"].code,
                completed_on=data["completed_on"],
                evidence=data["evidence"],
                actor=actor_from_request(request),
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, "Completion recorded.")
            return redirect("training:list")
    return render(
        request,
        "web/form_page.html",
        {
            "form": form,
            "title": "Record a training completion",
            "cancel_url": reverse("training:list"),
        },
    )
