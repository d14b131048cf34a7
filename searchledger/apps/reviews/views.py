"""Pages for supervisory review: the campaigns (with progress), opening one, a campaign's
sampled searches, the checklist of one search (htmx re-renders only the form when the
checklist is refused), and closing a campaign.

Every page needs ``REVIEW_SEARCHES`` (supervisors, auditors, administrators); the selectors
limit a supervisor to the campaigns of their own unit and the units below it, and the
actions check it again.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from searchledger.apps.ledger import selectors as ledger_selectors
from searchledger.apps.reviews import actions, selectors
from searchledger.apps.reviews.forms import CampaignForm, ChecklistForm, CloseCampaignForm
from searchledger.apps.reviews.models import CampaignStatus, ReviewItem
from searchledger.apps.web.permissions import actor_from_request, requires, signed_in
from searchledger.core.roles import Permission

__all__ = [
    "campaign_close",
    "campaign_detail",
    "campaign_list",
    "campaign_open",
    "item_review",
]

_REFUSED = "Your role does not allow this page."
_PERMISSION = Permission.REVIEW_SEARCHES


def _attach(form: Any, exc: ValidationError) -> None:
    """Attach an action's errors to the fields they name, the rest above the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for name, problems in exc.message_dict.items():
        if name in form.fields:
            form.add_error(name, problems)
        else:
            label = name.replace("_", " ").capitalize()
            form.add_error(None, [f"{label}: {p}" for p in problems])


@requires(_PERMISSION)
def campaign_list(request: HttpRequest) -> HttpResponse:
    """Every campaign the viewer may see, newest first, with reviewed/sampled counts."""
    campaigns = selectors.list_campaigns(actor_from_request(request))
    return render(
        request,
        "reviews/campaign_list.html",
        {"campaigns": campaigns, "today": timezone.localdate()},
    )


@requires(_PERMISSION)
@require_http_methods(["GET", "POST"])
def campaign_open(request: HttpRequest) -> HttpResponse:
    """Open a campaign for a unit and a period; the sample is drawn at once."""
    actor = actor_from_request(request)
    units = selectors.reviewable_units(actor)
    if request.method == "POST":
        form = CampaignForm(request.POST, units=units)
        if form.is_valid():
            try:
                campaign = actions.do_open_campaign(form.request(), actor=actor)
            except ValidationError as exc:
                _attach(form, exc)
            except PermissionDenied:
                return HttpResponseForbidden(_REFUSED)
            else:
                messages.success(
                    request, f"Campaign opened: {campaign.items.count()} searches sampled."
                )
                return redirect("reviews:detail", pk=campaign.pk)
    else:
        form = CampaignForm(initial=CampaignForm.defaults(), units=units)
    return render(request, "reviews/campaign_open.html", {"form": form})


@requires(_PERMISSION)
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A campaign: its sample with the reasons each search was drawn, the progress, and
    closing it once every search is reviewed."""
    try:
        campaign = selectors.access_campaign_by_id(pk, actor_from_request(request))
    except PermissionDenied:
        raise Http404("no such campaign, or it is outside your unit") from None
    items = campaign.items.select_related(
        "search", "search__officer", "search__system", "reviewed_by"
    )
    sampled = campaign.sampled  # type: ignore[attr-defined]  # annotated by list_campaigns
    reviewed = campaign.reviewed  # type: ignore[attr-defined]  # annotated by list_campaigns
    return render(
        request,
        "reviews/campaign_detail.html",
        {
            "campaign": campaign,
            "items": items,
            "sampled": sampled,
            "reviewed": reviewed,
            "percent": round(100 * reviewed / sampled) if sampled else 100,
            "may_close": campaign.status == CampaignStatus.OPEN and reviewed == sampled,
            "overdue": campaign.status == CampaignStatus.OPEN
            and campaign.deadline < timezone.localdate(),
            "close_form": CloseCampaignForm(),
            "history": ledger_selectors.object_history("reviews.reviewcampaign", campaign.pk),
        },
    )


@requires(_PERMISSION)
@require_POST
def campaign_close(request: HttpRequest, pk: int) -> HttpResponse:
    """Close a campaign whose every sampled search is reviewed."""
    actor = actor_from_request(request)
    try:
        selectors.access_campaign_by_id(pk, actor)
    except PermissionDenied:
        raise Http404("no such campaign, or it is outside your unit") from None
    form = CloseCampaignForm(request.POST)
    form.is_valid()
    try:
        actions.do_close_campaign(pk, actor=actor, note=form.cleaned_data.get("note") or "")
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    except PermissionDenied:
        return HttpResponseForbidden(_REFUSED)
    else:
        messages.success(request, "The campaign is closed.")
    return redirect("reviews:detail", pk=pk)


def _next_item(item: ReviewItem) -> ReviewItem | None:
    """The next sampled search of the campaign still to review."""
    return (
        item.campaign.items.filter(reviewed_at__isnull=True)
        .exclude(pk=item.pk)
        .order_by("search_id")
        .first()
    )


@requires(_PERMISSION)
@require_http_methods(["GET", "POST"])
def item_review(request: HttpRequest, pk: int) -> HttpResponse:
    """The checklist of one sampled search, beside a summary of its record (the full record
    is a link: opening it is logged like any view of a search)."""
    actor = actor_from_request(request)
    try:
        item = selectors.access_item_by_id(pk, actor)
    except PermissionDenied:
        raise Http404("no such review item, or it is outside your unit") from None
    user = signed_in(request)
    form = ChecklistForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            _, findings = actions.do_record_review(item.pk, form.review(), actor=actor)
        except ValidationError as exc:
            _attach(form, exc)
        except PermissionDenied:
            return HttpResponseForbidden(_REFUSED)
        else:
            raised = f" and {len(findings)} findings raised" if findings else ""
            messages.success(request, f"Review of search {item.search_id} recorded{raised}.")
            following = _next_item(item)
            target = (
                reverse("reviews:item", args=[following.pk])
                if following
                else reverse("reviews:detail", args=[item.campaign_id])
            )
            if request.headers.get("HX-Request"):
                response = HttpResponse(status=204)
                response["HX-Redirect"] = target
                return response
            return redirect(target)
    return render(
        request,
        "reviews/item_review.html",
        {
            "item": item,
            "search": item.search,
            "form": form,
            "own": item.search.officer_id == user.pk,
            "may_review": not item.reviewed and item.campaign.status == CampaignStatus.OPEN,
        },
    )
