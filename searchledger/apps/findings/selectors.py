"""Reads of findings, filtered to what the reader may see.

Auditors, oversight and administrators see every finding; a supervisor sees the findings
they own, those escalated to them and those about people in their scope; nobody else sees
any. :func:`list_findings` applies the list's filters; :func:`findings_work` feeds the
work list and the home page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils import timezone

from searchledger.apps.authz import scoped_accounts
from searchledger.apps.findings.models import Finding
from searchledger.core.actor import Actor
from searchledger.core.reviews import FindingStatus
from searchledger.core.roles import Permission, Role

__all__ = [
    "FindingFilters",
    "FindingsWork",
    "access_finding_by_id",
    "findings_work",
    "list_findings",
    "visible_findings",
    "work_findings",
]

_AGENCY_WIDE = frozenset({Role.ADMINISTRATOR, Role.AUDITOR, Role.OVERSIGHT})


def visible_findings(actor: Actor) -> QuerySet[Finding]:
    """Every finding ``actor`` may see."""
    findings = Finding.objects.select_related("subject", "owner", "system", "org_unit")
    if actor.is_system or actor.role in _AGENCY_WIDE:
        return findings
    if not actor.may(Permission.VIEW_FINDINGS):
        return findings.none()
    return findings.filter(
        Q(owner_id=actor.account_id)
        | Q(escalated_to_id=actor.account_id)
        | Q(subject__in=scoped_accounts(actor).exclude(pk=actor.account_id))
    )


def access_finding_by_id(finding_id: int, actor: Actor) -> Finding:
    """One finding, if ``actor`` may see it."""
    finding = visible_findings(actor).select_related("search", "raised_by").filter(pk=finding_id)
    found = finding.first()
    if found is None:
        raise PermissionDenied("no such finding among those you may see")
    return found


@dataclass(frozen=True)
class FindingFilters:
    """Optional filters for :func:`list_findings`; empty values do not filter."""

    status: str = ""
    severity: str = ""
    kind: str = ""
    system_code: str = ""
    overdue: bool = False
    owner_id: int | None = None


def list_findings(
    actor: Actor, filters: FindingFilters, today: date | None = None
) -> QuerySet[Finding]:
    """The findings ``actor`` may see under ``filters``, soonest due first. ``status``
    "active" means every status but closed."""
    today = today or timezone.localdate()
    findings = visible_findings(actor)
    if filters.status == "active":
        findings = findings.exclude(status=FindingStatus.CLOSED.value)
    elif filters.status:
        findings = findings.filter(status=filters.status)
    if filters.severity:
        findings = findings.filter(severity=filters.severity)
    if filters.kind:
        findings = findings.filter(kind=filters.kind)
    if filters.system_code:
        findings = findings.filter(system__code=filters.system_code)
    if filters.overdue:
        findings = findings.exclude(status=FindingStatus.CLOSED.value).filter(due__lt=today)
    if filters.owner_id is not None:
        findings = findings.filter(owner_id=filters.owner_id)
    return findings.order_by("due", "pk")


@dataclass(frozen=True)
class FindingsWork:
    """The findings that need ``actor``: those they own (and of them, the overdue ones),
    those escalated to them, and, for auditors and administrators, the unowned queue."""

    owned: int
    overdue: int
    escalated: int
    unassigned: int


def findings_work(actor: Actor, today: date | None = None) -> FindingsWork:
    """Counts for the work list and the home page."""
    today = today or timezone.localdate()
    if not actor.may(Permission.MANAGE_FINDINGS):
        return FindingsWork(0, 0, 0, 0)
    active = Finding.objects.exclude(status=FindingStatus.CLOSED.value)
    mine = active.filter(owner_id=actor.account_id)
    queue = 0
    if actor.role in {Role.ADMINISTRATOR, Role.AUDITOR}:
        queue = active.filter(owner__isnull=True).count()
    return FindingsWork(
        owned=mine.count(),
        overdue=mine.filter(due__lt=today).count(),
        escalated=active.filter(escalated_to_id=actor.account_id).count(),
        unassigned=queue,
    )


def work_findings(actor: Actor, today: date | None = None, days: int = 30) -> list[Finding]:
    """The findings not closed that need ``actor`` within ``days`` (or are late): those they
    own or that were escalated to them and, for auditors and administrators, the unowned
    queue. Soonest due first."""
    today = today or timezone.localdate()
    if actor.is_system or not actor.may(Permission.MANAGE_FINDINGS):
        return []
    mine = Q(owner_id=actor.account_id) | Q(escalated_to_id=actor.account_id)
    if actor.role in {Role.ADMINISTRATOR, Role.AUDITOR}:
        mine |= Q(owner__isnull=True)
    return list(
        Finding.objects.select_related("subject", "system")
        .exclude(status=FindingStatus.CLOSED.value)
        .filter(mine, due__lte=today + timedelta(days=days))
        .order_by("due", "pk")
    )
