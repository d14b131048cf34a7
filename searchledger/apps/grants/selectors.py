"""Reads of access grants, and the one answer to "may this person search this system now".

:func:`check_access` is what every feature calls before a search. :func:`access_overview`
answers, per system, how many people hold grants in force and how many hold lapsed ones, and
who they are; it loads every fact in a fixed number of queries, whatever the number of grants.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Max, QuerySet
from django.utils import timezone

from searchledger.apps.accounts.models import Account
from searchledger.apps.grants.models import AccessGrant
from searchledger.apps.systems.models import ExternalSystem, RulesVersion
from searchledger.apps.training.models import RulesAcknowledgment, TrainingCompletion
from searchledger.core.access import (
    AccessDecision,
    AccessFacts,
    CourseRequirement,
    GrantStatus,
    decide_access,
    recertification_due,
    training_valid_until,
)

__all__ = [
    "GrantStanding",
    "SystemAccessSummary",
    "WorkItem",
    "access_overview",
    "check_access",
    "work_list",
]

_OPEN = [GrantStatus.APPROVED.value, GrantStatus.REQUESTED.value]


class _Facts:
    """Every fact the access rule needs, for a set of accounts, loaded in bulk."""

    def __init__(self, accounts: QuerySet[Account] | list[Account]) -> None:
        ids = [a.pk for a in accounts]
        self.systems = {
            s.pk: s for s in ExternalSystem.objects.prefetch_related("required_courses")
        }
        latest: dict[int, RulesVersion] = {}
        for rules in RulesVersion.objects.order_by("system_id", "version"):
            latest[rules.system_id] = rules
        self.current_rules = latest
        self.completions: dict[tuple[int, int], date] = {
            (row["account_id"], row["course_id"]): row["last"]
            for row in TrainingCompletion.objects.filter(account_id__in=ids)
            .values("account_id", "course_id")
            .annotate(last=Max("completed_on"))
        }
        self.acknowledged: dict[int, set[int]] = defaultdict(set)
        for account_id, rules_id in RulesAcknowledgment.objects.filter(
            account_id__in=ids
        ).values_list("account_id", "rules_id"):
            self.acknowledged[account_id].add(rules_id)

    def facts(self, account: Account, system_id: int, grant: AccessGrant | None) -> AccessFacts:
        system = self.systems[system_id]
        rules = self.current_rules.get(system_id)
        return AccessFacts(
            account_active=bool(account.is_active),
            system_name=system.name,
            system_in_service=system.in_service,
            grant=grant.facts() if grant is not None else None,
            courses=tuple(
                CourseRequirement(
                    course_name=course.name,
                    valid_for_days=course.valid_for_days,
                    completed_on=self.completions.get((account.pk, course.pk)),
                )
                for course in system.required_courses.all()
            ),
            current_rules_version=rules.version if rules else None,
            acknowledged_rules_versions=frozenset(
                r.version
                for r in [rules]
                if r is not None and r.pk in self.acknowledged.get(account.pk, set())
            ),
        )


def _relevant_grant(account: Account, system: ExternalSystem) -> AccessGrant | None:
    """The open grant if there is one, else the most recent ended one (to explain why)."""
    grants = AccessGrant.objects.filter(account=account, system=system)
    return (
        grants.filter(status__in=_OPEN).order_by("status").first()
        or grants.order_by("-requested_at").first()
    )


def check_access(
    account: Account, system: ExternalSystem, today: date | None = None
) -> AccessDecision:
    """May ``account`` search ``system`` on ``today`` (default: today)? If not, why."""
    facts = _Facts([account]).facts(account, system.pk, _relevant_grant(account, system))
    return decide_access(facts, today or timezone.localdate())


@dataclass(frozen=True)
class GrantStanding:
    """One approved grant and what the access rule says of it today."""

    grant: AccessGrant
    decision: AccessDecision


@dataclass
class SystemAccessSummary:
    """Who can reach one system: grants in force, lapsed, and awaiting a decision."""

    system: ExternalSystem
    in_force: list[GrantStanding] = field(default_factory=list)
    lapsed: list[GrantStanding] = field(default_factory=list)
    pending: list[AccessGrant] = field(default_factory=list)


def access_overview(
    accounts: QuerySet[Account], today: date | None = None
) -> list[SystemAccessSummary]:
    """Per system, the grants of ``accounts`` in force, lapsed and pending, on ``today``."""
    day = today or timezone.localdate()
    grants = list(
        AccessGrant.objects.filter(account__in=accounts, status__in=_OPEN)
        .select_related("account", "system")
        .order_by("system__name", "account__username")
    )
    facts = _Facts(list({g.account_id: g.account for g in grants}.values()))
    summaries = {pk: SystemAccessSummary(system=s) for pk, s in facts.systems.items()}
    for grant in grants:
        summary = summaries[grant.system_id]
        if grant.status == GrantStatus.REQUESTED:
            summary.pending.append(grant)
            continue
        decision = decide_access(facts.facts(grant.account, grant.system_id, grant), day)
        (summary.in_force if decision.allowed else summary.lapsed).append(
            GrantStanding(grant=grant, decision=decision)
        )
    return sorted(summaries.values(), key=lambda s: s.system.name)


@dataclass(frozen=True)
class WorkItem:
    """Something that needs doing before a deadline (or is already late)."""

    due_on: date
    overdue: bool
    what: str
    grant: AccessGrant


def work_list(
    accounts: QuerySet[Account], today: date | None = None, horizon_days: int = 30
) -> list[WorkItem]:
    """Grants of ``accounts`` expiring, due for recertification or losing training within
    ``horizon_days`` (or already past), soonest first; plus requests awaiting a decision."""
    day = today or timezone.localdate()
    horizon = day + timedelta(days=horizon_days)
    grants = list(
        AccessGrant.objects.filter(account__in=accounts, status__in=_OPEN).select_related(
            "account", "system"
        )
    )
    facts = _Facts(list({g.account_id: g.account for g in grants}.values()))
    items: list[WorkItem] = []
    for grant in grants:
        who = f"{grant.account.username} → {grant.system.name}"
        if grant.status == GrantStatus.REQUESTED:
            items.append(WorkItem(grant.starts_on, False, f"Decide the request: {who}", grant))
            continue
        if grant.expires_on <= horizon:
            items.append(
                WorkItem(grant.expires_on, grant.expires_on < day, f"Grant expires: {who}", grant)
            )
        due = recertification_due(grant.facts())
        if due <= horizon:
            items.append(WorkItem(due, due < day, f"Recertify: {who}", grant))
        for course in facts.facts(grant.account, grant.system_id, grant).courses:
            if course.completed_on is None:
                items.append(
                    WorkItem(day, True, f"Training missing ({course.course_name}): {who}", grant)
                )
                continue
            lapses = training_valid_until(course.completed_on, course.valid_for_days)
            if lapses <= horizon:
                items.append(
                    WorkItem(
                        lapses,
                        lapses < day,
                        f"Training lapses ({course.course_name}): {who}",
                        grant,
                    )
                )
    return sorted(items, key=lambda item: (item.due_on, item.what))
