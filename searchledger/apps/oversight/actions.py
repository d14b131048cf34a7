"""The only writers of the oversight register: memos and their recommendations, the
agency's responses, action-plan milestones, the findings linked as evidence, and status
changes. Each change is permission-checked (``MANAGE_RECOMMENDATIONS``) and appends one
ledger entry; texts (recommendation, reasons, milestone, evidence, notes) enter the ledger
only as commitments.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from searchledger.apps.accounts.models import Account
from searchledger.apps.authz import require
from searchledger.apps.findings.models import Finding
from searchledger.apps.ledger import writer
from searchledger.apps.oversight.models import Milestone, OversightMemo, Recommendation
from searchledger.apps.reports.models import PublishedReport
from searchledger.core.actor import Actor
from searchledger.core.oversight import (
    DEFAULT_RESPONSE_DAYS,
    Closure,
    RecommendationStatus,
    Response,
    ResponseFacts,
    response_due,
    response_errors,
)
from searchledger.core.roles import Permission
from searchledger.ledger.events import LedgerEventType

__all__ = [
    "do_add_milestone",
    "do_change_recommendation_status",
    "do_complete_milestone",
    "do_link_finding",
    "do_link_report",
    "do_record_memo",
    "do_respond_to_recommendation",
]

_MEMO = "oversight.oversightmemo"
_RECOMMENDATION = "oversight.recommendation"
_MILESTONE = "oversight.milestone"
MAX_RECOMMENDATIONS = 100


def _lock(recommendation_id: int) -> Recommendation:
    found = (
        # The recommendation only, not its memo (see grants.actions._lock).
        Recommendation.objects.select_for_update(of=("self",))
        .select_related("memo")
        .filter(pk=recommendation_id)
        .first()
    )
    if found is None:
        raise ValidationError({"recommendation": f"no recommendation {recommendation_id}"})
    return found


def _append(
    event: LedgerEventType,
    recommendation: Recommendation,
    actor: Actor,
    data: dict[str, Any],
    personal: dict[str, str] | None = None,
) -> None:
    writer.append(
        event,
        object_type=_RECOMMENDATION,
        object_id=recommendation.pk,
        actor=actor,
        data={"memo": recommendation.memo_id, "number": recommendation.number, **data},
        personal=personal,
    )


@transaction.atomic
def do_record_memo(
    *,
    body: str,
    reference: str,
    title: str,
    issued_on: date,
    recommendations: Sequence[str],
    response_days: int = DEFAULT_RESPONSE_DAYS,
    actor: Actor,
) -> OversightMemo:
    """Record a memorandum and its numbered recommendations (numbered 1, 2, ... in the
    order given). The response is due ``response_days`` calendar days after issue."""
    require(actor, Permission.MANAGE_RECOMMENDATIONS)
    errors: dict[str, str] = {}
    body, reference, title = body.strip(), reference.strip(), title.strip()
    texts = [text.strip() for text in recommendations]
    for name, value in (("body", body), ("reference", reference), ("title", title)):
        if not value:
            errors[name] = f"the {name} is required"
    if reference and OversightMemo.objects.filter(reference=reference).exists():
        errors["reference"] = f"a memorandum {reference!r} is already in the register"
    if not texts or not all(texts):
        errors["recommendations"] = "give each recommendation's text (none may be empty)"
    elif len(texts) > MAX_RECOMMENDATIONS:
        errors["recommendations"] = f"at most {MAX_RECOMMENDATIONS} recommendations per memo"
    if issued_on > timezone.localdate():
        errors["issued_on"] = "the memorandum cannot be issued in the future"
    try:
        due = response_due(issued_on, response_days)
    except ValueError as exc:
        errors["response_days"] = str(exc)
    if errors:
        raise ValidationError(errors)
    memo = OversightMemo(
        body=body,
        reference=reference,
        title=title,
        issued_on=issued_on,
        response_due_on=due,
        recorded_at=timezone.now(),
        recorded_by_id=actor.account_id,
    )
    memo.save(force_insert=True)
    # Before the entry, which commits to the state of every row the action wrote.
    for number, text in enumerate(texts, 1):
        Recommendation(memo=memo, number=number, text=text).save(force_insert=True)
    writer.append(
        LedgerEventType.OVERSIGHT_MEMO_RECORDED,
        object_type=_MEMO,
        object_id=memo.pk,
        actor=actor,
        data={
            "body": body,
            "reference": reference,
            "issued_on": issued_on.isoformat(),
            "response_due_on": due.isoformat(),
            "recommendations": len(texts),
        },
        personal={"title": title, **{f"recommendation_{n}": t for n, t in enumerate(texts, 1)}},
    )
    return memo


@transaction.atomic
def do_respond_to_recommendation(
    recommendation_id: int,
    *,
    response: str,
    reasons: str,
    responded_on: date,
    actor: Actor,
) -> Recommendation:
    """Record the agency's response. A concurrence leaves the recommendation open and
    unresolved until the oversight body accepts the action plan (a status change); a
    non-concurrence needs reasons. A response may be revised while the recommendation is
    open (each revision is on the ledger)."""
    require(actor, Permission.MANAGE_RECOMMENDATIONS)
    recommendation = _lock(recommendation_id)
    if recommendation.status == RecommendationStatus.CLOSED.value:
        raise ValidationError({"response": "the recommendation is closed"})
    try:
        answer = Response(response)
    except ValueError:
        raise ValidationError(
            {"response": f"unknown response {response!r}; one of {', '.join(Response)}"}
        ) from None
    errors = response_errors(
        ResponseFacts(answer, reasons, responded_on, recommendation.memo.issued_on)
    )
    if responded_on > timezone.localdate():
        errors.setdefault("responded_on", "the response cannot be dated in the future")
    if errors:
        raise ValidationError(errors)
    recommendation.response = answer.value
    recommendation.reasons = reasons.strip()
    recommendation.responded_on = responded_on
    recommendation.responded_by_id = actor.account_id
    recommendation.save(update_fields=["response", "reasons", "responded_on", "responded_by"])
    late = responded_on > recommendation.memo.response_due_on
    _append(
        LedgerEventType.OVERSIGHT_RESPONSE_RECORDED,
        recommendation,
        actor,
        {"response": answer.value, "responded_on": responded_on.isoformat(), "late": late},
        {"reasons": recommendation.reasons} if recommendation.reasons else None,
    )
    return recommendation


@transaction.atomic
def do_add_milestone(
    recommendation_id: int,
    *,
    description: str,
    owner_id: int,
    due_on: date,
    actor: Actor,
) -> Milestone:
    """Add a step to the action plan of a recommendation the agency concurred with (fully or
    in part), owned by an active account."""
    require(actor, Permission.MANAGE_RECOMMENDATIONS)
    recommendation = _lock(recommendation_id)
    errors: dict[str, str] = {}
    if recommendation.response not in {Response.CONCUR.value, Response.PARTIALLY_CONCUR.value}:
        errors["recommendation"] = "an action plan follows a concurrence; record that first"
    if recommendation.status == RecommendationStatus.CLOSED.value:
        errors["recommendation"] = "the recommendation is closed"
    if not description.strip():
        errors["description"] = "describe the milestone"
    owner = Account.objects.filter(pk=owner_id, is_active=True).first()
    if owner is None:
        errors["owner"] = f"no active account {owner_id} to own the milestone"
    if due_on < recommendation.memo.issued_on:
        errors["due_on"] = "the milestone cannot be due before the memorandum was issued"
    if errors:
        raise ValidationError(errors)
    milestone = Milestone(
        recommendation=recommendation,
        description=description.strip(),
        owner=owner,
        due_on=due_on,
    )
    milestone.save(force_insert=True)
    _append(
        LedgerEventType.OVERSIGHT_MILESTONE_ADDED,
        recommendation,
        actor,
        {"milestone": milestone.pk, "owner": owner_id, "due_on": due_on.isoformat()},
        {"description": milestone.description},
    )
    return milestone


@transaction.atomic
def do_complete_milestone(
    milestone_id: int, *, evidence: str, done_on: date, actor: Actor
) -> Milestone:
    """Mark a milestone done, with the evidence that it is (a policy issued, a training
    delivered, a review campaign closed ...)."""
    require(actor, Permission.MANAGE_RECOMMENDATIONS)
    milestone = (
        Milestone.objects.select_for_update(of=("self",))  # not the joined rows
        .select_related("recommendation__memo")
        .filter(pk=milestone_id)
        .first()
    )
    if milestone is None:
        raise ValidationError({"milestone": f"no milestone {milestone_id}"})
    errors: dict[str, str] = {}
    if milestone.done_on is not None:
        errors["milestone"] = f"the milestone was marked done on {milestone.done_on}"
    if not evidence.strip():
        errors["evidence"] = "say what shows the milestone is done"
    if done_on > timezone.localdate():
        errors["done_on"] = "a milestone cannot be done in the future"
    if errors:
        raise ValidationError(errors)
    milestone.done_on = done_on
    milestone.evidence = evidence.strip()
    milestone.save(update_fields=["done_on", "evidence"])
    _append(
        LedgerEventType.OVERSIGHT_MILESTONE_DONE,
        milestone.recommendation,
        actor,
        {
            "milestone": milestone.pk,
            "done_on": done_on.isoformat(),
            "late": done_on > milestone.due_on,
        },
        {"evidence": milestone.evidence},
    )
    return milestone


@transaction.atomic
def do_link_finding(recommendation_id: int, finding_id: int, *, actor: Actor) -> Recommendation:
    """Link a finding (from a review or a reconciliation) as evidence of progress on, or of
    the need for, a recommendation."""
    require(actor, Permission.MANAGE_RECOMMENDATIONS)
    recommendation = _lock(recommendation_id)
    finding = Finding.objects.filter(pk=finding_id).first()
    if finding is None:
        raise ValidationError({"finding": f"no finding {finding_id}"})
    if recommendation.findings.filter(pk=finding_id).exists():
        raise ValidationError({"finding": f"finding {finding_id} is already linked"})
    recommendation.findings.add(finding)
    _append(
        LedgerEventType.OVERSIGHT_EVIDENCE_LINKED,
        recommendation,
        actor,
        {"finding": finding_id},
    )
    return recommendation


@transaction.atomic
def do_link_report(recommendation_id: int, report_id: int, *, actor: Actor) -> Recommendation:
    """Link a published transparency report as evidence of progress on a recommendation."""
    require(actor, Permission.MANAGE_RECOMMENDATIONS)
    recommendation = _lock(recommendation_id)
    if not PublishedReport.objects.filter(pk=report_id).exists():
        raise ValidationError({"report": f"no published report {report_id}"})
    if recommendation.reports.filter(pk=report_id).exists():
        raise ValidationError({"report": f"report {report_id} is already linked"})
    recommendation.reports.add(report_id)
    _append(
        LedgerEventType.OVERSIGHT_EVIDENCE_LINKED,
        recommendation,
        actor,
        {"report": report_id},
    )
    return recommendation


@transaction.atomic
def do_change_recommendation_status(
    recommendation_id: int,
    *,
    status: str,
    closure: str = "",
    note: str,
    on: date,
    actor: Actor,
) -> Recommendation:
    """Record what the oversight body decided: the plan is accepted (open, resolved), it is
    not (open, unresolved), or the recommendation is closed (implemented, not implemented or
    superseded). A closed recommendation stays closed."""
    require(actor, Permission.MANAGE_RECOMMENDATIONS)
    recommendation = _lock(recommendation_id)
    errors: dict[str, str] = {}
    try:
        new = RecommendationStatus(status)
    except ValueError:
        raise ValidationError(
            {"status": f"unknown status {status!r}; one of {', '.join(RecommendationStatus)}"}
        ) from None
    if recommendation.status == RecommendationStatus.CLOSED.value:
        errors["status"] = "the recommendation is already closed"
    elif new.value == recommendation.status:
        errors["status"] = f"the recommendation is already {new.value.replace('_', ' ')}"
    if new is RecommendationStatus.OPEN_RESOLVED and recommendation.response not in {
        Response.CONCUR.value,
        Response.PARTIALLY_CONCUR.value,
    }:
        errors["status"] = "only a concurrence with an action plan can be resolved"
    ending: Closure | None = None
    if new is RecommendationStatus.CLOSED:
        try:
            ending = Closure(closure)
        except ValueError:
            errors["closure"] = f"say how it closed: one of {', '.join(Closure)}"
    elif closure:
        errors["closure"] = "only a closed recommendation has a closure"
    if not note.strip():
        errors["note"] = "say what the oversight body decided and where it is recorded"
    if on > timezone.localdate() or on < recommendation.memo.issued_on:
        errors["on"] = "the date must be between the memorandum's issue and today"
    if errors:
        raise ValidationError(errors)
    before = recommendation.status
    recommendation.status = new.value
    recommendation.closure = ending.value if ending else ""
    recommendation.closure_note = note.strip()
    recommendation.closed_on = on if ending else None
    recommendation.save(update_fields=["status", "closure", "closure_note", "closed_on"])
    _append(
        LedgerEventType.OVERSIGHT_STATUS_CHANGED,
        recommendation,
        actor,
        {
            "from": before,
            "to": new.value,
            "closure": recommendation.closure,
            "on": on.isoformat(),
        },
        {"note": recommendation.closure_note},
    )
    return recommendation
