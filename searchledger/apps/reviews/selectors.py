"""Reads for supervisory review, filtered to what the reader may see.

Supervisors see the campaigns of their own unit and the units below it; auditors and
administrators see every campaign. :func:`sample_facts` loads what the pure sampler
(``core.reviews.draw_sample``) needs about a unit's searches in a period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from searchledger.apps.accounts.models import Account, OrgUnit
from searchledger.apps.reviews.models import CampaignStatus, ReviewCampaign, ReviewItem
from searchledger.apps.searches.models import SearchRecord
from searchledger.core.actor import Actor
from searchledger.core.reviews import RETRY_WINDOW_DAYS, SearchFacts
from searchledger.core.roles import Permission, Role
from searchledger.core.scope import units_below

__all__ = [
    "CampaignProgress",
    "access_campaign_by_id",
    "access_item_by_id",
    "campaign_progress",
    "list_campaigns",
    "reviewable_units",
    "sample_facts",
    "units_under",
]


def units_under(unit_id: int) -> set[int]:
    """``unit_id`` and every unit below it."""
    return units_below(unit_id, OrgUnit.objects.values_list("pk", "parent_id"))


def reviewable_units(actor: Actor) -> QuerySet[OrgUnit]:
    """The units ``actor`` may open a campaign for: every unit for auditors and
    administrators, a supervisor's own unit and those below it, none for anyone else."""
    units = OrgUnit.objects.all()
    if not actor.is_system and not actor.may(Permission.REVIEW_SEARCHES):
        return units.none()
    if actor.is_system or actor.role in {Role.ADMINISTRATOR, Role.AUDITOR}:
        return units
    me = Account.objects.filter(pk=actor.account_id).first()
    if me is None or me.org_unit_id is None:
        return units.none()
    return units.filter(pk__in=units_under(me.org_unit_id))


def list_campaigns(actor: Actor) -> QuerySet[ReviewCampaign]:
    """The campaigns ``actor`` may see, newest first, with their progress counts."""
    return (
        ReviewCampaign.objects.filter(org_unit__in=reviewable_units(actor))
        .select_related("org_unit", "opened_by")
        .annotate(
            sampled=Count("items"),
            reviewed=Count("items", filter=Q(items__reviewed_at__isnull=False)),
        )
    )


def access_campaign_by_id(campaign_id: int, actor: Actor) -> ReviewCampaign:
    """One campaign, if ``actor`` may see it."""
    campaign = list_campaigns(actor).filter(pk=campaign_id).first()
    if campaign is None:
        raise PermissionDenied("no such campaign among those you may see")
    return campaign


def access_item_by_id(item_id: int, actor: Actor) -> ReviewItem:
    """One sampled search, if ``actor`` may see its campaign."""
    item = (
        ReviewItem.objects.filter(pk=item_id, campaign__org_unit__in=reviewable_units(actor))
        .select_related(
            "campaign",
            "campaign__org_unit",
            "search",
            "search__officer",
            "search__system",
            "search__purpose",
            "reviewed_by",
        )
        .first()
    )
    if item is None:
        raise PermissionDenied("no such review item among those you may see")
    return item


@dataclass(frozen=True)
class CampaignProgress:
    """An open campaign's progress, for the dashboard and the work list."""

    campaign: ReviewCampaign
    sampled: int
    reviewed: int
    overdue: bool

    @property
    def remaining(self) -> int:
        """Sampled searches not yet reviewed."""
        return self.sampled - self.reviewed


def campaign_progress(actor: Actor, today: date | None = None) -> list[CampaignProgress]:
    """Every open campaign ``actor`` may review, with reviewed/sampled counts."""
    today = today or timezone.localdate()
    return [
        CampaignProgress(
            campaign=c,
            sampled=c.sampled,  # type: ignore[attr-defined]  # annotated by list_campaigns
            reviewed=c.reviewed,  # type: ignore[attr-defined]  # annotated by list_campaigns
            overdue=c.deadline < today,
        )
        for c in list_campaigns(actor).filter(status=CampaignStatus.OPEN).order_by("deadline")
    ]


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def sample_facts(unit_id: int, start: date, end: date) -> list[SearchFacts]:
    """What the sampler needs about every search of the unit (and the units below it)
    requested from ``start`` to ``end`` inclusive, plus the refusals of the
    :data:`RETRY_WINDOW_DAYS` before ``start`` (to find retries; never sampled)."""
    units = units_under(unit_id)
    since = _day_start(start)
    until = _day_start(end + timedelta(days=1))
    earliest = since - timedelta(days=RETRY_WINDOW_DAYS)
    rows = SearchRecord.objects.filter(
        org_unit_id__in=units, requested_at__gte=earliest, requested_at__lt=until
    ).values_list(
        "pk",
        "officer_id",
        "case_system",
        "case_number",
        "status",
        "requested_at",
        "decision_reasons",
        "roi_number",
    )
    facts: list[SearchFacts] = []
    for pk, officer, case_system, number, status, requested_at, reasons, roi in rows:
        in_period = requested_at >= since
        if not in_period and status != "refused":
            continue
        facts.append(
            SearchFacts(
                search_id=pk,
                officer_id=officer,
                case_key=f"{case_system}/{number}".upper(),
                status=status,
                requested_at=requested_at,
                reason_codes=frozenset(r.get("code", "") for r in reasons or []),
                has_roi_number=bool(roi),
                in_period=in_period,
            )
        )
    return facts
