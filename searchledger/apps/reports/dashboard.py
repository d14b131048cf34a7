"""The dashboard's figures, per system and month, for the accounts in the viewer's scope.

Definitions (also in docs/reports.md):

* **searches**: search records requested in the month, by people in scope;
* **fully documented**: of the searches that were authorised to run (status authorised or
  documented), the share whose outcome is documented;
* **approved in advance**: of the searches the policy said needed approval
  (verdict ``needs_approval``) that were run (authorised or documented), the share approved
  before they ran, i.e. not transcribed after the fact;
* **reviewed**: of the documented searches, the share sampled in a review campaign whose
  review is recorded;
* **people with access**: distinct people in scope with an approved grant to the system
  whose dates cover at least one day of the month (a grant revoked later still counts for
  the months before it ended);
* **open and overdue findings**: findings about the system not closed now, and those of
  them past their due date;
* **lapsed training and grants**: approved grants that the access rule refuses today because
  training is missing or lapsed, and because the grant expired or recertification is
  overdue.

Every figure is counted with one aggregate query per kind, not one per row.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth

from searchledger.apps.accounts.models import Account, OrgUnit
from searchledger.apps.authz import scoped_accounts
from searchledger.apps.findings.selectors import visible_findings
from searchledger.apps.grants.models import AccessGrant
from searchledger.apps.grants.selectors import access_overview
from searchledger.apps.searches.models import SearchRecord
from searchledger.apps.systems.models import ExternalSystem
from searchledger.core.access import GrantStatus, Reason
from searchledger.core.actor import Actor
from searchledger.core.reviews import FindingStatus
from searchledger.core.scope import units_below
from searchledger.core.searches import SearchStatus, Verdict

__all__ = [
    "Dashboard",
    "DashboardFilters",
    "MonthRow",
    "Share",
    "SystemStanding",
    "build_dashboard",
    "month_range",
]

_RAN = [SearchStatus.AUTHORISED.value, SearchStatus.DOCUMENTED.value]
_TRAINING = {Reason.TRAINING_MISSING, Reason.TRAINING_LAPSED}
_GRANT = {Reason.GRANT_EXPIRED, Reason.RECERTIFICATION_OVERDUE}
MAX_MONTHS = 36


@dataclass(frozen=True)
class Share:
    """``part`` of ``whole``; no share when the whole is zero."""

    part: int
    whole: int

    @property
    def ratio(self) -> float | None:
        """part / whole, or None when there is nothing to divide."""
        return self.part / self.whole if self.whole else None

    @property
    def percent(self) -> str:
        """The share in words: ``75% (3 of 4)``, or "none to count" when there is no whole."""
        if not self.whole:
            return "none to count"
        return f"{round(100 * self.part / self.whole)}% ({self.part} of {self.whole})"


@dataclass(frozen=True)
class DashboardFilters:
    """The unit (and the units below it), the system and the months, both included."""

    first_month: date
    last_month: date
    unit: OrgUnit | None = None
    system: ExternalSystem | None = None


@dataclass(frozen=True)
class MonthRow:
    """One system in one month."""

    system: ExternalSystem
    month: date
    searches: int
    documented: Share
    approved: Share
    reviewed: Share
    people: int


@dataclass
class SystemStanding:
    """One system now: findings open and overdue, grants lapsed for training or dates."""

    system: ExternalSystem
    open_findings: int = 0
    overdue_findings: int = 0
    lapsed_training: int = 0
    lapsed_grants: int = 0


@dataclass
class Dashboard:
    """Everything the dashboard shows."""

    filters: DashboardFilters
    months: list[date]
    rows: list[MonthRow] = field(default_factory=list)
    standings: list[SystemStanding] = field(default_factory=list)

    def monthly_totals(self) -> list[tuple[date, int, Share, Share, Share]]:
        """Per month over every system shown: searches, documented, approved, reviewed."""
        out = []
        for month in self.months:
            rows = [r for r in self.rows if r.month == month]
            out.append(
                (
                    month,
                    sum(r.searches for r in rows),
                    Share(
                        sum(r.documented.part for r in rows), sum(r.documented.whole for r in rows)
                    ),
                    Share(sum(r.approved.part for r in rows), sum(r.approved.whole for r in rows)),
                    Share(sum(r.reviewed.part for r in rows), sum(r.reviewed.whole for r in rows)),
                )
            )
        return out


def month_range(first: date, last: date) -> list[date]:
    """The first day of every month from ``first``'s to ``last``'s, both included."""
    months: list[date] = []
    current = first.replace(day=1)
    while current <= last and len(months) < MAX_MONTHS:
        months.append(current)
        current = (current + timedelta(days=32)).replace(day=1)
    return months


def _month_end(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def _people(
    accounts: QuerySet[Account], filters: DashboardFilters, months: list[date]
) -> dict[tuple[int, date], int]:
    """{(system id, month): distinct people with an approved grant covering a day of it}."""
    grants = AccessGrant.objects.filter(
        account__in=accounts,
        status__in=[GrantStatus.APPROVED.value, GrantStatus.REVOKED.value],
        starts_on__lte=_month_end(months[-1]),
        expires_on__gte=months[0],
    )
    if filters.system is not None:
        grants = grants.filter(system=filters.system)
    people: dict[tuple[int, date], set[int]] = defaultdict(set)
    fields = (
        "system_id",
        "account_id",
        "starts_on",
        "expires_on",
        "decided_at",
        "ended_at",
    )
    for system_id, account_id, starts, expires, decided, ended in grants.values_list(*fields):
        if decided is None:
            continue  # a revoked request that was never approved was never in force
        first = max(starts, decided.date())
        last = expires if ended is None else min(expires, ended.date())
        for month in months:
            if first <= _month_end(month) and last >= month:
                people[system_id, month].add(account_id)
    return {key: len(found) for key, found in people.items()}


def build_dashboard(actor: Actor, filters: DashboardFilters, today: date) -> Dashboard:
    """The figures for the accounts in ``actor``'s scope (and in ``filters.unit``)."""
    accounts = scoped_accounts(actor)
    if filters.unit is not None:
        units = units_below(filters.unit.pk, OrgUnit.objects.values_list("pk", "parent_id"))
        accounts = accounts.filter(org_unit_id__in=units)
    months = month_range(filters.first_month, filters.last_month)
    dashboard = Dashboard(filters=filters, months=months)
    if not months:
        return dashboard
    searches = SearchRecord.objects.filter(
        officer__in=accounts,
        requested_at__date__gte=months[0],
        requested_at__date__lte=_month_end(months[-1]),
    )
    if filters.system is not None:
        searches = searches.filter(system=filters.system)
    needs = Q(verdict=Verdict.NEEDS_APPROVAL.value, status__in=_RAN)
    documented = Q(status=SearchStatus.DOCUMENTED.value)
    figures = (
        searches.annotate(month=TruncMonth("requested_at"))
        .values("system_id", "month")
        .annotate(
            total=Count("pk", distinct=True),
            ran=Count("pk", filter=Q(status__in=_RAN), distinct=True),
            documented=Count("pk", filter=documented, distinct=True),
            needs=Count("pk", filter=needs, distinct=True),
            approved=Count("pk", filter=needs & Q(entered_after_the_fact=False), distinct=True),
            reviewed=Count(
                "pk",
                filter=documented & Q(review_items__reviewed_at__isnull=False),
                distinct=True,
            ),
        )
    )
    people = _people(accounts, filters, months)
    systems = ExternalSystem.objects.order_by("name")
    if filters.system is not None:
        systems = systems.filter(pk=filters.system.pk)
    by_key = {}
    for row in figures:
        month = row["month"]
        month = month.date() if hasattr(month, "date") else month
        by_key[row["system_id"], month] = row
    system_list = list(systems)
    shown = {s.pk for s in system_list if any(k[0] == s.pk for k in [*by_key, *people])}
    for system in system_list:
        if system.pk not in shown:
            continue
        for month in months:
            row = by_key.get((system.pk, month), {})
            dashboard.rows.append(
                MonthRow(
                    system=system,
                    month=month,
                    searches=row.get("total", 0),
                    documented=Share(row.get("documented", 0), row.get("ran", 0)),
                    approved=Share(row.get("approved", 0), row.get("needs", 0)),
                    reviewed=Share(row.get("reviewed", 0), row.get("documented", 0)),
                    people=people.get((system.pk, month), 0),
                )
            )
    dashboard.standings = _standings(actor, accounts, filters, system_list, today)
    return dashboard


def _standings(
    actor: Actor,
    accounts: QuerySet[Account],
    filters: DashboardFilters,
    systems: list[ExternalSystem],
    today: date,
) -> list[SystemStanding]:
    """Findings are those the finding list shows the viewer (so the link finds the same
    ones); with a unit chosen, only those about people in it."""
    standings = {s.pk: SystemStanding(system=s) for s in systems}
    findings = visible_findings(actor).filter(system__in=systems)
    findings = findings.exclude(status=FindingStatus.CLOSED.value)
    if filters.unit is not None:
        findings = findings.filter(subject__in=accounts)
    counted = findings.values("system_id").annotate(
        open=Count("pk"), overdue=Count("pk", filter=Q(due__lt=today))
    )
    for row in counted:
        counts = standings[row["system_id"]]
        counts.open_findings = row["open"]
        counts.overdue_findings = row["overdue"]
    for summary in access_overview(accounts, today):
        standing = standings.get(summary.system.pk)
        if standing is None:
            continue
        for lapsed in summary.lapsed:
            reasons = set(lapsed.decision.reasons)
            standing.lapsed_training += bool(reasons & _TRAINING)
            standing.lapsed_grants += bool(reasons & _GRANT)
    return list(standings.values())
