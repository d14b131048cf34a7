"""The only writers of findings.

Reviews and reconciliation raise findings with :func:`raise_finding` inside their own
permission-checked action; a reviewer raises one by hand with :func:`do_raise_finding`.
A finding is owned by the subject's supervisor (or by nobody: the auditors' queue), is due
a number of business days after it was raised (``core.reviews.finding_due``), and is then
worked: reassigned, remediation recorded, closed with a resolution, reopened, and escalated
to the owner's own supervisor when overdue. Every change appends one ledger entry; the
summary, detail, remediation and notes enter the ledger only as commitments.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from searchledger.apps.accounts.models import Account, OrgUnit
from searchledger.apps.authz import require, require_scope
from searchledger.apps.findings.models import Finding
from searchledger.apps.ledger import writer
from searchledger.apps.searches.models import SearchRecord
from searchledger.apps.systems.models import ExternalSystem
from searchledger.core.actor import Actor
from searchledger.core.reviews import (
    FINDING_KIND,
    FindingSource,
    FindingStatus,
    Resolution,
    Severity,
    finding_due,
)
from searchledger.core.roles import Permission, Role
from searchledger.ledger.events import LedgerEventType

__all__ = [
    "FindingDraft",
    "do_assign_finding",
    "do_close_finding",
    "do_escalate_overdue_findings",
    "do_log_findings_export",
    "do_raise_finding",
    "do_record_remediation",
    "do_reopen_finding",
    "raise_finding",
]

_FINDING = "findings.finding"
_SUMMARY_MAX = 300
_SOURCE_REF_MAX = 200
_DETAIL_MAX = 40


@dataclass(frozen=True)
class FindingDraft:
    """A finding as its source describes it, before it is validated and routed.

    ``source_ref`` is unique per source: raising the same ``(source, source_ref)`` again
    returns the existing finding and writes nothing. ``detail`` is shown on the finding's
    page (e.g. an external account id, an import's SHA-256, a line number) and never enters
    the ledger in clear. ``due`` defaults from the severity (``core.reviews.finding_due``)."""

    source: str
    kind: str
    severity: str
    summary: str
    source_ref: str
    subject_id: int | None = None
    system_id: int | None = None
    search_id: int | None = None
    org_unit_id: int | None = None
    detail: Mapping[str, str | int | None] = field(default_factory=dict)
    due: date | None = None


# --------------------------------------------------------------------------- helpers


def _clean_detail(detail: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """``detail`` as plain JSON (string keys; string, integer or null values)."""
    if len(detail) > _DETAIL_MAX:
        errors["detail"] = f"at most {_DETAIL_MAX} detail fields"
        return {}
    clean: dict[str, Any] = {}
    for key, value in detail.items():
        if not isinstance(key, str) or not key.strip():
            errors["detail"] = f"detail field names are non-empty strings, not {key!r}"
        elif value is not None and (isinstance(value, bool) or not isinstance(value, str | int)):
            errors["detail"] = f"detail {key!r} is a string, an integer or empty"
        elif isinstance(value, str) and len(value) > 2000:
            errors["detail"] = f"detail {key!r} is longer than 2000 characters"
        else:
            clean[key.strip()] = value
    return clean


def _route_owner(subject: Account | None) -> Account | None:
    """The owner of a finding about ``subject``: their supervisor if active and able to work
    findings, else nobody (the finding waits in the auditors' and administrators' queue)."""
    if subject is None or subject.supervisor_id is None:
        return None
    supervisor = Account.objects.filter(pk=subject.supervisor_id).first()
    if supervisor is None:
        return None
    if not supervisor.may(Permission.MANAGE_FINDINGS):
        return None
    return supervisor


def _validate(
    draft: FindingDraft,
) -> tuple[
    FindingSource,
    Severity,
    Account | None,
    ExternalSystem | None,
    SearchRecord | None,
    OrgUnit | None,
    dict[str, Any],
]:
    """Check a draft; raise ``ValidationError`` naming each field that is wrong."""
    errors: dict[str, str] = {}
    source: FindingSource | None = None
    severity: Severity | None = None
    try:
        source = FindingSource(draft.source)
    except ValueError:
        errors["source"] = f"unknown source {draft.source!r}; one of {', '.join(FindingSource)}"
    if not FINDING_KIND.match(draft.kind or ""):
        errors["kind"] = "a kind is a slug of lower-case letters, digits and underscores"
    try:
        severity = Severity(draft.severity)
    except ValueError:
        errors["severity"] = f"unknown severity {draft.severity!r}; one of {', '.join(Severity)}"
    summary = (draft.summary or "").strip()
    if not summary:
        errors["summary"] = "a one-line summary is required"
    elif len(summary) > _SUMMARY_MAX or "\n" in summary:
        errors["summary"] = f"the summary is one line of at most {_SUMMARY_MAX} characters"
    ref = (draft.source_ref or "").strip()
    if not ref or len(ref) > _SOURCE_REF_MAX:
        errors["source_ref"] = f"a source reference of 1 to {_SOURCE_REF_MAX} characters"
    subject = system = search = unit = None
    if draft.subject_id is not None:
        subject = Account.objects.filter(pk=draft.subject_id).first()
        if subject is None:
            errors["subject"] = f"no account with id {draft.subject_id}"
    if draft.system_id is not None:
        system = ExternalSystem.objects.filter(pk=draft.system_id).first()
        if system is None:
            errors["system"] = f"no system with id {draft.system_id}"
    if draft.search_id is not None:
        search = SearchRecord.objects.filter(pk=draft.search_id).first()
        if search is None:
            errors["search"] = f"no search record with id {draft.search_id}"
    if draft.org_unit_id is not None:
        unit = OrgUnit.objects.filter(pk=draft.org_unit_id).first()
        if unit is None:
            errors["org_unit"] = f"no org unit with id {draft.org_unit_id}"
    detail = _clean_detail(draft.detail, errors)
    if draft.due is not None and draft.due < timezone.localdate():
        errors["due"] = "a finding cannot be due in the past"
    if errors or source is None or severity is None:
        raise ValidationError(errors)
    return source, severity, subject, system, search, unit, detail


def _append(
    event: LedgerEventType,
    finding: Finding,
    actor: Actor,
    data: dict[str, Any] | None = None,
    personal: dict[str, str] | None = None,
) -> None:
    writer.append(
        event,
        object_type=_FINDING,
        object_id=finding.pk,
        actor=actor,
        data={
            "source": finding.source,
            "kind": finding.kind,
            "severity": finding.severity,
            "status": finding.status,
            "owner": finding.owner_id,
            "due": finding.due.isoformat(),
            **(data or {}),
        },
        personal=personal,
    )


def _by(actor: Actor) -> int | None:
    return None if actor.is_system else actor.account_id


# --------------------------------------------------------------------------- raising


def raise_finding(draft: FindingDraft, *, actor: Actor) -> tuple[Finding, bool]:
    """Raise a finding inside the caller's transaction; returns ``(finding, created)``.

    No permission check of its own: the calling action checks ``RECONCILE`` or
    ``REVIEW_SEARCHES``. Validates the draft (``ValidationError`` naming the field), routes
    the owner (the subject's supervisor, else nobody), creates the finding and appends
    ``FINDING_RAISED``. The same ``(source, source_ref)`` again returns the existing finding
    and writes nothing."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("raise_finding runs inside the calling action's transaction")
    source, severity, subject, system, search, unit, detail = _validate(draft)
    ref = draft.source_ref.strip()
    # Lock the ledger head first: every writer takes it, so two callers raising the same
    # (source, source_ref) at once are serialised and the second finds the first's row.
    writer.lock_head()
    existing = Finding.objects.filter(source=source.value, source_ref=ref).first()
    if existing is not None:
        return existing, False
    if unit is None and subject is not None:
        unit = subject.org_unit
    if unit is None and search is not None:
        unit = search.org_unit
    if subject is None and search is not None:
        subject = search.officer
        unit = unit or search.org_unit
    if system is None and search is not None:
        system = search.system
    now = timezone.now()
    owner = _route_owner(subject)
    finding = Finding(
        source=source.value,
        source_ref=ref,
        kind=draft.kind,
        severity=severity.value,
        status=FindingStatus.OPEN.value,
        subject=subject,
        org_unit=unit,
        system=system,
        search=search,
        owner=owner,
        due=draft.due or finding_due(timezone.localdate(now), severity),
        summary=draft.summary.strip(),
        detail=detail,
        raised_at=now,
        raised_by_id=_by(actor),
    )
    finding.save(force_insert=True)
    _append(
        LedgerEventType.FINDING_RAISED,
        finding,
        actor,
        data={
            "subject": finding.subject_id,
            "org_unit": unit.code if unit else None,
            "system": system.code if system else None,
            "search": finding.search_id,
        },
        personal={
            "summary": finding.summary,
            "source_ref": finding.source_ref,
            "detail": json.dumps(detail, sort_keys=True, ensure_ascii=False),
        },
    )
    return finding, True


@transaction.atomic
def do_raise_finding(draft: FindingDraft, *, actor: Actor) -> Finding:
    """Raise a finding by hand (a reviewer or an auditor): ``MANAGE_FINDINGS``, and the
    subject (or the search's officer) must be in the actor's scope. An empty
    ``source_ref`` is given a fresh one. Raises ``ValidationError`` for a duplicate."""
    require(actor, Permission.MANAGE_FINDINGS)
    if not draft.source_ref.strip():
        draft = replace(draft, source_ref=f"manual-{uuid.uuid4().hex}")
    _, _, subject, _, search, _, _ = _validate(draft)
    for person in (subject, search.officer if search else None):
        if person is not None:
            require_scope(actor, person)
    if actor.account_id in {subject.pk if subject else None, search.officer_id if search else None}:
        raise PermissionDenied("no one raises a finding about themself")
    finding, created = raise_finding(draft, actor=actor)
    if not created:
        raise ValidationError({"source_ref": f"finding {finding.pk} was already raised for it"})
    return finding


# --------------------------------------------------------------------------- working a finding


def _lock(finding_id: int) -> Finding:
    finding = (
        Finding.objects.select_for_update(of=("self",))
        .select_related("subject", "owner", "system", "org_unit")
        .filter(pk=finding_id)
        .first()
    )
    if finding is None:
        raise ValidationError({"finding": f"no finding with id {finding_id}"})
    return finding


def _require_manager(actor: Actor, finding: Finding) -> None:
    """``MANAGE_FINDINGS``, and a supervisor only on findings they own or about people in
    their scope; nobody works a finding about themself."""
    require(actor, Permission.MANAGE_FINDINGS)
    if actor.is_system:
        return
    if finding.subject_id == actor.account_id:
        raise PermissionDenied("no one works a finding about themself")
    if actor.role in {Role.ADMINISTRATOR, Role.AUDITOR}:
        return
    if finding.owner_id == actor.account_id:
        return
    if finding.subject is None:
        raise PermissionDenied("findings about no one are worked by auditors and administrators")
    require_scope(actor, finding.subject)


@transaction.atomic
def do_assign_finding(finding_id: int, owner_id: int | None, *, actor: Actor) -> Finding:
    """Give a finding to ``owner_id`` (someone who may work findings and has the subject in
    scope), or to nobody (back to the queue)."""
    finding = _lock(finding_id)
    _require_manager(actor, finding)
    if finding.status == FindingStatus.CLOSED:
        raise ValidationError({"finding": f"finding {finding.pk} is closed; reopen it first"})
    owner = None
    if owner_id is not None:
        owner = Account.objects.select_related("org_unit").filter(pk=owner_id).first()
        if owner is None or not owner.may(Permission.MANAGE_FINDINGS):
            raise ValidationError(
                {"owner": "the owner must be an active account that works findings"}
            )
        if owner.pk == finding.subject_id:
            raise ValidationError({"owner": "a finding is never owned by the person it is about"})
        if finding.subject is not None:
            try:
                require_scope(Actor(account_id=owner.pk, role=Role(owner.role)), finding.subject)
            except PermissionDenied as exc:
                raise ValidationError(
                    {"owner": f"{owner.username} does not supervise the person it is about"}
                ) from exc
    if finding.owner_id == (owner.pk if owner else None):
        raise ValidationError({"owner": "the finding already has that owner"})
    previous = finding.owner_id
    finding.owner = owner
    finding.save(update_fields=["owner"])
    _append(LedgerEventType.FINDING_ASSIGNED, finding, actor, data={"previous_owner": previous})
    return finding


@transaction.atomic
def do_record_remediation(finding_id: int, remediation: str, *, actor: Actor) -> Finding:
    """Record what was done about an open finding (retraining, a corrected record, ...)."""
    finding = _lock(finding_id)
    _require_manager(actor, finding)
    if not remediation.strip():
        raise ValidationError({"remediation": "say what was done"})
    if finding.status == FindingStatus.CLOSED:
        raise ValidationError({"finding": f"finding {finding.pk} is closed; reopen it first"})
    finding.status = FindingStatus.REMEDIATION_RECORDED.value
    finding.remediation = remediation.strip()
    finding.remediation_at = timezone.now()
    finding.remediation_by_id = _by(actor)
    finding.save(update_fields=["status", "remediation", "remediation_at", "remediation_by"])
    _append(
        LedgerEventType.FINDING_REMEDIATION_RECORDED,
        finding,
        actor,
        personal={"remediation": finding.remediation},
    )
    return finding


@transaction.atomic
def do_close_finding(finding_id: int, resolution: str, *, note: str, actor: Actor) -> Finding:
    """Close a finding with a resolution and a note. ``remediated`` needs the remediation
    recorded first."""
    finding = _lock(finding_id)
    _require_manager(actor, finding)
    errors: dict[str, str] = {}
    try:
        chosen = Resolution(resolution)
    except ValueError:
        errors["resolution"] = f"unknown resolution {resolution!r}; one of {', '.join(Resolution)}"
        chosen = None
    if not note.strip():
        errors["note"] = "say why the finding is closed"
    if finding.status == FindingStatus.CLOSED:
        errors["finding"] = f"finding {finding.pk} is already closed"
    elif chosen is Resolution.REMEDIATED and finding.status != FindingStatus.REMEDIATION_RECORDED:
        errors["resolution"] = "record the remediation before closing as remediated"
    if errors or chosen is None:
        raise ValidationError(errors)
    finding.status = FindingStatus.CLOSED.value
    finding.resolution = chosen.value
    finding.closure_note = note.strip()
    finding.closed_at = timezone.now()
    finding.closed_by_id = _by(actor)
    finding.save(update_fields=["status", "resolution", "closure_note", "closed_at", "closed_by"])
    _append(
        LedgerEventType.FINDING_CLOSED,
        finding,
        actor,
        data={"resolution": chosen.value},
        personal={"note": finding.closure_note},
    )
    return finding


@transaction.atomic
def do_reopen_finding(finding_id: int, *, reason: str, actor: Actor) -> Finding:
    """Reopen a closed finding (new facts, a closure in error); it is open again with its
    remediation kept, and due by the later of its due date and the severity's default."""
    finding = _lock(finding_id)
    _require_manager(actor, finding)
    if not reason.strip():
        raise ValidationError({"reason": "say why the finding is reopened"})
    if finding.status != FindingStatus.CLOSED:
        raise ValidationError({"finding": f"finding {finding.pk} is not closed"})
    previous = finding.resolution
    finding.status = FindingStatus.OPEN.value
    finding.resolution = ""
    finding.closure_note = ""
    finding.closed_at = None
    finding.closed_by = None
    finding.escalated_at = None
    finding.escalated_to = None
    today = timezone.localdate()
    finding.due = max(finding.due, finding_due(today, Severity(finding.severity)))
    finding.save(
        update_fields=[
            "status",
            "resolution",
            "closure_note",
            "closed_at",
            "closed_by",
            "escalated_at",
            "escalated_to",
            "due",
        ]
    )
    _append(
        LedgerEventType.FINDING_REOPENED,
        finding,
        actor,
        data={"previous_resolution": previous},
        personal={"reason": reason.strip()},
    )
    return finding


@transaction.atomic
def do_escalate_overdue_findings(*, actor: Actor, today: date) -> list[Finding]:
    """Escalate every finding not closed, past its due date and not yet escalated: to the
    owner's own supervisor (who becomes the one it is escalated to; the owner keeps it).
    Unowned findings and owners without a supervisor are escalated to nobody, which still
    marks them escalated and appears on the auditors' queue. Idempotent: a finding is
    escalated once (until it is reopened). Administrators and the system (the daily job)."""
    require(actor, Permission.MANAGE_FINDINGS)
    if not actor.is_system and actor.role is not Role.ADMINISTRATOR:
        raise PermissionDenied("escalation runs as the system or an administrator")
    overdue = (
        Finding.objects.select_for_update(of=("self",))
        .select_related("owner")
        .exclude(status=FindingStatus.CLOSED.value)
        .filter(due__lt=today, escalated_at__isnull=True)
        .order_by("pk")
    )
    now = timezone.now()
    done: list[Finding] = []
    for finding in overdue:
        target = None
        if finding.owner is not None and finding.owner.supervisor_id is not None:
            target = Account.objects.filter(pk=finding.owner.supervisor_id, is_active=True).first()
        finding.escalated_at = now
        finding.escalated_to = target
        finding.save(update_fields=["escalated_at", "escalated_to"])
        _append(
            LedgerEventType.FINDING_ESCALATED,
            finding,
            actor,
            data={
                "escalated_to": target.pk if target else None,
                "days_overdue": (today - finding.due).days,
            },
        )
        done.append(finding)
    return done


@transaction.atomic
def do_log_findings_export(
    finding_ids: list[int], *, system_id: int | None, actor: Actor, channel: str
) -> None:
    """Record that ``actor`` exported these findings (CSV for a system owner's auditor): one
    entry, naming the system and how many, committing to which."""
    require(actor, Permission.VIEW_FINDINGS)
    ids = sorted(finding_ids)
    writer.append(
        LedgerEventType.FINDING_EXPORTED,
        object_type=_FINDING,
        object_id="export",
        actor=actor,
        data={"channel": channel, "system": system_id, "findings": len(ids)},
        personal={"finding_ids": ",".join(str(i) for i in ids)},
    )
