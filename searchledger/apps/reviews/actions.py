"""The only writers of review campaigns and their reviews.

A supervisor (for their own unit and the units below it), an auditor or an administrator
*opens* a campaign for a unit and a period: the sample is drawn at once by the pure rule
``core.reviews.draw_sample`` with a seed given or generated, and both the seed and the sample
are recorded on the ledger so that anyone can draw it again. Each sampled search is then
*reviewed* against the checklist, once, by someone other than the officer who ran it; a "no"
may raise a finding (source ``review``) in the same action. The campaign is *closed* once
every sampled search is reviewed.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from searchledger.apps.accounts.models import OrgUnit
from searchledger.apps.authz import require, require_scope
from searchledger.apps.findings.actions import FindingDraft, raise_finding
from searchledger.apps.findings.models import Finding
from searchledger.apps.ledger import writer
from searchledger.apps.reviews.models import CampaignStatus, ReviewCampaign, ReviewItem
from searchledger.apps.reviews.selectors import reviewable_units, sample_facts
from searchledger.core.actor import Actor
from searchledger.core.reviews import (
    Answer,
    ChecklistItem,
    Severity,
    checklist_errors,
    draw_sample,
    severity_for_item,
)
from searchledger.core.roles import Permission
from searchledger.ledger.events import LedgerEventType

__all__ = [
    "FINDING_KINDS",
    "MAX_SEED",
    "CampaignRequest",
    "ReviewInput",
    "do_close_campaign",
    "do_open_campaign",
    "do_record_review",
]

_CAMPAIGN = "reviews.reviewcampaign"
_ITEM = "reviews.reviewitem"
MAX_SEED = 2**63 - 1
_MAX_PERIOD_DAYS = 366

# The kind of the finding raised when a checklist item is answered "no".
FINDING_KINDS: Mapping[ChecklistItem, str] = {
    ChecklistItem.DOCUMENTATION_COMPLETE: "documentation_incomplete",
    ChecklistItem.PURPOSE_ALLOWED: "purpose_not_allowed",
    ChecklistItem.TECHNIQUES_ATTESTED: "techniques_not_attested",
    ChecklistItem.CANDIDATES_VETTED: "candidates_not_vetted",
    ChecklistItem.LEAD_CORRECTLY_RECORDED: "lead_incorrectly_recorded",
}


@dataclass(frozen=True)
class CampaignRequest:
    """What whoever opens a campaign chooses. ``random_share`` is a decimal string or
    number from 0 to 1 (e.g. "0.10"); ``seed`` None means generate one."""

    org_unit_code: str
    period_start: date
    period_end: date
    deadline: date
    random_share: str | Decimal | float = "0.10"
    seed: int | None = None


@dataclass(frozen=True)
class ReviewInput:
    """A reviewer's review of one sampled search: an answer per checklist item ("yes",
    "no" or "na"), the verdict, notes, and the items answered "no" for which a finding is
    raised (with an optional severity each; else ``core.reviews.severity_for_item``)."""

    answers: Mapping[str, str]
    verdict: str
    notes: str = ""
    raise_findings: Sequence[str] = ()
    severities: Mapping[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------- opening


def _share(value: str | Decimal | float, errors: dict[str, str]) -> Decimal:
    try:
        share = Decimal(str(value).strip())
    except InvalidOperation:
        errors["random_share"] = "a share between 0 and 1, e.g. 0.10"
        return Decimal(0)
    if not share.is_finite() or not Decimal(0) <= share <= Decimal(1):
        errors["random_share"] = "a share between 0 and 1, e.g. 0.10"
        return Decimal(0)
    return share.quantize(Decimal("0.001"))


@transaction.atomic
def do_open_campaign(campaign: CampaignRequest, *, actor: Actor) -> ReviewCampaign:
    """Open a review of a unit's searches in a period and draw its sample.

    ``REVIEW_SEARCHES``; a supervisor only for their own unit or a unit below it. Appends
    ``REVIEW_CAMPAIGN_OPENED`` (unit, period, share, seed, deadline) and
    ``REVIEW_SAMPLE_DRAWN`` (every sampled search id with its reasons)."""
    require(actor, Permission.REVIEW_SEARCHES)
    errors: dict[str, str] = {}
    unit = OrgUnit.objects.filter(code=campaign.org_unit_code).first()
    if unit is None:
        errors["org_unit"] = f"no org unit with code {campaign.org_unit_code!r}"
    today = timezone.localdate()
    if campaign.period_start > campaign.period_end:
        errors["period_end"] = "the period ends after it starts"
    elif (campaign.period_end - campaign.period_start).days >= _MAX_PERIOD_DAYS:
        errors["period_end"] = f"a period is at most {_MAX_PERIOD_DAYS} days"
    if campaign.period_start > today:
        errors["period_start"] = "a period cannot start in the future"
    if campaign.deadline < today:
        errors["deadline"] = "the deadline cannot be in the past"
    share = _share(campaign.random_share, errors)
    if campaign.seed is not None and not 0 <= campaign.seed <= MAX_SEED:
        errors["seed"] = f"a seed is a whole number from 0 to {MAX_SEED}"
    if errors or unit is None:
        raise ValidationError(errors)
    if not reviewable_units(actor).filter(pk=unit.pk).exists():
        raise PermissionDenied("that unit is outside your own")
    generated = campaign.seed is None
    seed = secrets.randbelow(MAX_SEED + 1) if campaign.seed is None else campaign.seed
    facts = sample_facts(unit.pk, campaign.period_start, campaign.period_end)
    sample = draw_sample(facts, share=float(share), seed=seed)
    record = ReviewCampaign(
        org_unit=unit,
        period_start=campaign.period_start,
        period_end=campaign.period_end,
        random_share=share,
        seed=seed,
        seed_generated=generated,
        deadline=campaign.deadline,
        candidates=sum(1 for f in facts if f.in_period),
        opened_at=timezone.now(),
        opened_by_id=None if actor.is_system else actor.account_id,
    )
    record.save(force_insert=True)
    for drawn in sample:
        ReviewItem(
            campaign=record,
            search_id=drawn.search_id,
            reasons=[r.value for r in drawn.reasons],
            refused_search_id=drawn.refused_search_id,
        ).save(force_insert=True)
    writer.append(
        LedgerEventType.REVIEW_CAMPAIGN_OPENED,
        object_type=_CAMPAIGN,
        object_id=record.pk,
        actor=actor,
        data={
            "org_unit": unit.code,
            "period_start": record.period_start.isoformat(),
            "period_end": record.period_end.isoformat(),
            "random_share": str(share),
            "seed": str(seed),
            "seed_generated": generated,
            "deadline": record.deadline.isoformat(),
        },
    )
    reasons = Counter(r.value for drawn in sample for r in drawn.reasons)
    writer.append(
        LedgerEventType.REVIEW_SAMPLE_DRAWN,
        object_type=_CAMPAIGN,
        object_id=record.pk,
        actor=actor,
        data={
            "candidates": record.candidates,
            "sampled": len(sample),
            "reasons": dict(sorted(reasons.items())),
            "searches": [
                {"search": d.search_id, "reasons": [r.value for r in d.reasons]} for d in sample
            ],
        },
    )
    return record


# --------------------------------------------------------------------------- reviewing


def _lock_item(item_id: int) -> ReviewItem:
    item = (
        ReviewItem.objects.select_for_update(of=("self",))
        .select_related("campaign", "campaign__org_unit", "search", "search__officer")
        .filter(pk=item_id)
        .first()
    )
    if item is None:
        raise ValidationError({"item": f"no review item with id {item_id}"})
    return item


def _require_reviewer(actor: Actor, campaign: ReviewCampaign) -> None:
    """``REVIEW_SEARCHES`` and the campaign's unit within the actor's reach."""
    require(actor, Permission.REVIEW_SEARCHES)
    if not reviewable_units(actor).filter(pk=campaign.org_unit_id).exists():
        raise PermissionDenied("that campaign's unit is outside your own")


def _ref(item: ReviewItem, checked: ChecklistItem) -> str:
    """The source reference of the finding a review raises for one checklist item."""
    return f"review-item:{item.pk}:{checked.value}"


def _finding_drafts(
    item: ReviewItem, review: ReviewInput, errors: dict[str, str]
) -> list[FindingDraft]:
    """The findings a review raises: one per checklist item answered "no" and chosen."""
    drafts: list[FindingDraft] = []
    for name in review.raise_findings:
        try:
            checked = ChecklistItem(name)
        except ValueError:
            errors["raise_findings"] = f"unknown checklist item {name!r}"
            continue
        if review.answers.get(name) != Answer.NO.value:
            errors["raise_findings"] = f"{checked.label.lower()} passed: no finding to raise"
            continue
        severity = review.severities.get(name) or severity_for_item(checked).value
        if severity not in {s.value for s in Severity}:
            errors["severities"] = f"unknown severity {severity!r}"
            continue
        search = item.search
        drafts.append(
            FindingDraft(
                source="review",
                kind=FINDING_KINDS[checked],
                severity=severity,
                summary=f"Review of search {search.pk}: {checked.label.lower()}: no",
                source_ref=_ref(item, checked),
                subject_id=search.officer_id,
                system_id=search.system_id,
                search_id=search.pk,
                org_unit_id=search.org_unit_id,
                detail={
                    "campaign": item.campaign_id,
                    "checklist_item": checked.label,
                    "verdict": review.verdict,
                },
            )
        )
    return drafts


@transaction.atomic
def do_record_review(
    item_id: int, review: ReviewInput, *, actor: Actor
) -> tuple[ReviewItem, list[Finding]]:
    """Record the review of one sampled search, once, and raise the findings chosen.

    ``REVIEW_SEARCHES``, the campaign's unit within reach, the campaign open, and never the
    officer who ran the search. Appends ``REVIEW_ITEM_RECORDED`` (answers and verdict in
    clear, notes as a commitment) and one ``FINDING_RAISED`` per finding."""
    item = _lock_item(item_id)
    _require_reviewer(actor, item.campaign)
    if actor.account_id == item.search.officer_id:
        raise PermissionDenied("no one reviews their own search")
    require_scope(actor, item.search.officer)
    if item.campaign.status != CampaignStatus.OPEN:
        raise ValidationError({"campaign": "the campaign is closed"})
    if item.reviewed:
        raise ValidationError({"item": f"search {item.search_id} is already reviewed"})
    errors = checklist_errors(review.answers, review.verdict, notes=review.notes)
    drafts = _finding_drafts(item, review, errors) if not errors else []
    if errors:
        raise ValidationError(errors)
    item.answers = {i.value: review.answers[i.value] for i in ChecklistItem}
    item.verdict = review.verdict
    item.notes = review.notes.strip()
    item.reviewed_at = timezone.now()
    item.reviewed_by_id = None if actor.is_system else actor.account_id
    item.save(update_fields=["answers", "verdict", "notes", "reviewed_at", "reviewed_by"])
    writer.append(
        LedgerEventType.REVIEW_ITEM_RECORDED,
        object_type=_ITEM,
        object_id=item.pk,
        actor=actor,
        data={
            "campaign": item.campaign_id,
            "search": item.search_id,
            "answers": item.answers,
            "verdict": item.verdict,
            "findings": len(drafts),
        },
        personal={"notes": item.notes},
    )
    findings = [raise_finding(draft, actor=actor)[0] for draft in drafts]
    return item, findings


@transaction.atomic
def do_close_campaign(campaign_id: int, *, actor: Actor, note: str = "") -> ReviewCampaign:
    """Close a campaign once every sampled search is reviewed; appends
    ``REVIEW_CAMPAIGN_CLOSED`` with the count of each verdict."""
    campaign = (
        ReviewCampaign.objects.select_for_update(of=("self",))
        .select_related("org_unit")
        .filter(pk=campaign_id)
        .first()
    )
    if campaign is None:
        raise ValidationError({"campaign": f"no campaign with id {campaign_id}"})
    _require_reviewer(actor, campaign)
    if campaign.status != CampaignStatus.OPEN:
        raise ValidationError({"campaign": "the campaign is already closed"})
    items = list(campaign.items.all())
    waiting = sum(1 for i in items if not i.reviewed)
    if waiting:
        raise ValidationError({"campaign": f"{waiting} sampled searches are not reviewed yet"})
    campaign.status = CampaignStatus.CLOSED
    campaign.closed_at = timezone.now()
    campaign.closed_by_id = None if actor.is_system else actor.account_id
    campaign.closing_note = note.strip()
    campaign.save(update_fields=["status", "closed_at", "closed_by", "closing_note"])
    verdicts = Counter(i.verdict for i in items)
    writer.append(
        LedgerEventType.REVIEW_CAMPAIGN_CLOSED,
        object_type=_CAMPAIGN,
        object_id=campaign.pk,
        actor=actor,
        data={
            "sampled": len(items),
            "verdicts": dict(sorted(verdicts.items())),
            "findings": Finding.objects.filter(
                source="review", source_ref__in=[_ref(i, c) for i in items for c in ChecklistItem]
            ).count(),
        },
        personal={"note": campaign.closing_note},
    )
    return campaign
