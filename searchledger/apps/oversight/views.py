"""Pages of the oversight register: every role reads it; administrators and auditors keep
it (memos, responses, action plans, evidence, status). Every change goes through
``oversight.actions``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from searchledger.apps.oversight import actions, selectors
from searchledger.apps.oversight.forms import (
    MemoForm,
    MilestoneDoneForm,
    MilestoneForm,
    ResponseForm,
    StatusForm,
)
from searchledger.apps.oversight.models import Milestone
from searchledger.apps.web.forms import add_validation_errors
from searchledger.apps.web.permissions import actor_from_request, requires, signed_in
from searchledger.core.actor import Actor
from searchledger.core.roles import Permission

__all__ = [
    "memo_detail",
    "memo_list",
    "memo_new",
    "milestone_add",
    "milestone_done",
    "recommendation_link_finding",
    "recommendation_link_report",
    "recommendation_respond",
    "recommendation_status",
]


def _form_page(
    request: HttpRequest, form: forms.Form, title: str, cancel: str, **extra: Any
) -> HttpResponse:
    return render(
        request, "web/form_page.html", {"form": form, "title": title, "cancel_url": cancel, **extra}
    )


@requires(Permission.VIEW_RECOMMENDATIONS)
def memo_list(request: HttpRequest) -> HttpResponse:
    """Every memorandum with its recommendations, responses and what is late."""
    return render(
        request,
        "oversight/memo_list.html",
        {
            "memos": selectors.list_memos(),
            "may_manage": signed_in(request).may(Permission.MANAGE_RECOMMENDATIONS),
        },
    )


@requires(Permission.VIEW_RECOMMENDATIONS)
def memo_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One memorandum: each recommendation's response, status, action plan and evidence."""
    return render(
        request,
        "oversight/memo_detail.html",
        {
            "summary": selectors.access_memo_by_id(pk),
            "may_manage": signed_in(request).may(Permission.MANAGE_RECOMMENDATIONS),
            "may_view_findings": signed_in(request).may(Permission.VIEW_FINDINGS),
            "done_form": MilestoneDoneForm(),
        },
    )


@requires(Permission.MANAGE_RECOMMENDATIONS)
@require_http_methods(["GET", "POST"])
def memo_new(request: HttpRequest) -> HttpResponse:
    """Record a memorandum and its recommendations."""
    form = MemoForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            memo = actions.do_record_memo(
                body=data["body"],
                reference=data["reference"],
                title=data["title"],
                issued_on=data["issued_on"],
                response_days=data["response_days"],
                recommendations=form.texts(),
                actor=actor_from_request(request),
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(
                request, f"{memo} recorded; the response is due {memo.response_due_on}."
            )
            return redirect("oversight:memo", pk=memo.pk)
    return _form_page(
        request, form, "Record an oversight memorandum", reverse("oversight:list"), submit="Record"
    )


def _recommendation_form(
    request: HttpRequest,
    pk: int,
    form_class: type[forms.Form],
    act: Callable[[dict[str, Any], Actor], object],
    *,
    title: str,
    submit: str,
    done: str,
) -> HttpResponse:
    """A form page about one recommendation: on a valid POST, ``act`` (an action) with the
    cleaned data; the action's errors go back on the form; success returns to the memo."""
    recommendation = selectors.access_recommendation_by_id(pk)
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            act(form.cleaned_data, actor_from_request(request))
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, f"{done} ({recommendation}).")
            return redirect("oversight:memo", pk=recommendation.memo_id)
    return _form_page(
        request,
        form,
        f"{title} {recommendation}",
        reverse("oversight:memo", args=[recommendation.memo_id]),
        intro=recommendation.text,
        submit=submit,
    )


@requires(Permission.MANAGE_RECOMMENDATIONS)
@require_http_methods(["GET", "POST"])
def recommendation_respond(request: HttpRequest, pk: int) -> HttpResponse:
    """Record (or revise) the agency's response to a recommendation."""
    return _recommendation_form(
        request,
        pk,
        ResponseForm,
        lambda data, actor: actions.do_respond_to_recommendation(
            pk,
            response=data["response"],
            reasons=data["reasons"],
            responded_on=data["responded_on"],
            actor=actor,
        ),
        title="Respond to",
        submit="Record the response",
        done="Response recorded",
    )


@requires(Permission.MANAGE_RECOMMENDATIONS)
@require_http_methods(["GET", "POST"])
def milestone_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a step to a recommendation's action plan."""
    return _recommendation_form(
        request,
        pk,
        MilestoneForm,
        lambda data, actor: actions.do_add_milestone(
            pk,
            description=data["description"],
            owner_id=data["owner"].pk,
            due_on=data["due_on"],
            actor=actor,
        ),
        title="Action plan for",
        submit="Add the milestone",
        done="Milestone added",
    )


@requires(Permission.MANAGE_RECOMMENDATIONS)
@require_POST
def milestone_done(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark a milestone done, with its evidence."""
    milestone = Milestone.objects.select_related("recommendation").filter(pk=pk).first()
    memo_id = milestone.recommendation.memo_id if milestone else None
    form = MilestoneDoneForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors.get_json_data())
        actions.do_complete_milestone(
            pk,
            evidence=form.cleaned_data["evidence"],
            done_on=form.cleaned_data["done_on"],
            actor=actor_from_request(request),
        )
    except ValidationError as exc:
        messages.error(request, "; ".join(_messages(exc)))
    else:
        messages.success(request, "Milestone marked done.")
    if memo_id is None:
        return redirect("oversight:list")
    return redirect("oversight:memo", pk=memo_id)


def _link(
    request: HttpRequest, pk: int, field: str, link: Callable[[int, int, Actor], object]
) -> HttpResponse:
    """Link the evidence numbered in the POST's ``field`` to a recommendation."""
    recommendation = selectors.access_recommendation_by_id(pk)
    raw = request.POST.get(field, "").strip()
    try:
        if not raw.isdigit():
            raise ValidationError({field: f"{raw!r} is not a {field} number"})
        link(pk, int(raw), actor_from_request(request))
    except ValidationError as exc:
        messages.error(request, "; ".join(_messages(exc)))
    else:
        messages.success(request, f"{field.capitalize()} {raw} linked to {recommendation}.")
    return redirect("oversight:memo", pk=recommendation.memo_id)


@requires(Permission.MANAGE_RECOMMENDATIONS)
@require_POST
def recommendation_link_finding(request: HttpRequest, pk: int) -> HttpResponse:
    """Link a finding as evidence for a recommendation."""
    return _link(
        request, pk, "finding", lambda r, n, actor: actions.do_link_finding(r, n, actor=actor)
    )


@requires(Permission.MANAGE_RECOMMENDATIONS)
@require_POST
def recommendation_link_report(request: HttpRequest, pk: int) -> HttpResponse:
    """Link a published transparency report as evidence for a recommendation."""
    return _link(
        request, pk, "report", lambda r, n, actor: actions.do_link_report(r, n, actor=actor)
    )


@requires(Permission.MANAGE_RECOMMENDATIONS)
@require_http_methods(["GET", "POST"])
def recommendation_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Record what the oversight body decided: plan accepted, not accepted, or closed."""
    return _recommendation_form(
        request,
        pk,
        StatusForm,
        lambda data, actor: actions.do_change_recommendation_status(
            pk,
            status=data["status"],
            closure=data["closure"],
            note=data["note"],
            on=data["on"],
            actor=actor,
        ),
        title="Status of",
        submit="Record the decision",
        done="Decision recorded",
    )


def _messages(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [f"{field}: {' '.join(errors)}" for field, errors in exc.message_dict.items()]
    return list(exc.messages)
