"""May this person search this system now, and if not, why: the one rule every feature uses.

A grant is *in force* only when all of these hold on the day asked about:
the account is active; the system is in service; the grant was approved, has started, has
not expired, was not revoked, and its periodic recertification is not overdue; every course
the system requires has a completion still within its validity period; and the person has
acknowledged the system's current rules-of-behaviour version.

Pure: callers load the facts (``AccessFacts``) and this module decides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum, unique

__all__ = [
    "AccessDecision",
    "AccessFacts",
    "CourseRequirement",
    "GrantFacts",
    "GrantStatus",
    "Reason",
    "Refusal",
    "decide_access",
    "recertification_due",
    "training_valid_until",
]


@unique
class GrantStatus(StrEnum):
    """Where a grant is in its life."""

    REQUESTED = "requested"
    APPROVED = "approved"
    REFUSED = "refused"
    REVOKED = "revoked"


@unique
class Reason(StrEnum):
    """Why a search is not allowed; each has a sentence for people in ``Refusal.message``."""

    ACCOUNT_INACTIVE = "account_inactive"
    SYSTEM_RETIRED = "system_retired"
    NO_GRANT = "no_grant"
    GRANT_NOT_APPROVED = "grant_not_approved"
    GRANT_REFUSED = "grant_refused"
    GRANT_REVOKED = "grant_revoked"
    GRANT_NOT_STARTED = "grant_not_started"
    GRANT_EXPIRED = "grant_expired"
    RECERTIFICATION_OVERDUE = "recertification_overdue"
    TRAINING_MISSING = "training_missing"
    TRAINING_LAPSED = "training_lapsed"
    RULES_NOT_ACKNOWLEDGED = "rules_not_acknowledged"
    NO_RULES_PUBLISHED = "no_rules_published"


@dataclass(frozen=True)
class Refusal:
    """One reason, with a sentence that names the specific course, date or version."""

    reason: Reason
    message: str


@dataclass(frozen=True)
class GrantFacts:
    """The grant's state as stored."""

    status: GrantStatus
    starts_on: date
    expires_on: date
    certified_on: date
    recertify_every_days: int


@dataclass(frozen=True)
class CourseRequirement:
    """A course the system requires, with the person's latest completion (if any)."""

    course_name: str
    valid_for_days: int
    completed_on: date | None


@dataclass(frozen=True)
class AccessFacts:
    """Everything the decision needs, loaded by the caller."""

    account_active: bool
    system_name: str
    system_in_service: bool
    grant: GrantFacts | None
    courses: tuple[CourseRequirement, ...] = ()
    current_rules_version: int | None = None
    acknowledged_rules_versions: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True)
class AccessDecision:
    """The answer: allowed, or every reason it is not."""

    allowed: bool
    refusals: tuple[Refusal, ...]

    @property
    def reasons(self) -> tuple[Reason, ...]:
        """Just the reason codes."""
        return tuple(r.reason for r in self.refusals)

    def explain(self) -> str:
        """One paragraph for a person."""
        if self.allowed:
            return "Allowed: the grant is in force."
        return " ".join(r.message for r in self.refusals)


def training_valid_until(completed_on: date, valid_for_days: int) -> date:
    """Last day a completion counts (a course valid 365 days, done 1 Jan, lapses 1 Jan)."""
    return completed_on + timedelta(days=valid_for_days - 1)


def recertification_due(grant: GrantFacts) -> date:
    """The day by which the grant must be recertified."""
    return grant.certified_on + timedelta(days=grant.recertify_every_days)


def decide_access(facts: AccessFacts, today: date) -> AccessDecision:
    """Decide whether the person may search ``facts.system_name`` on ``today``."""
    refusals: list[Refusal] = []
    system = facts.system_name
    if not facts.account_active:
        refusals.append(Refusal(Reason.ACCOUNT_INACTIVE, "The account is deactivated."))
    if not facts.system_in_service:
        refusals.append(Refusal(Reason.SYSTEM_RETIRED, f"{system} is not in service."))
    refusals.extend(_grant_refusals(facts.grant, system, today))
    refusals.extend(_training_refusals(facts.courses, today))
    refusals.extend(_rules_refusals(facts, system))
    return AccessDecision(allowed=not refusals, refusals=tuple(refusals))


def _grant_refusals(grant: GrantFacts | None, system: str, today: date) -> list[Refusal]:
    if grant is None:
        return [Refusal(Reason.NO_GRANT, f"There is no access grant for {system}.")]
    if grant.status is GrantStatus.REQUESTED:
        return [Refusal(Reason.GRANT_NOT_APPROVED, "The access grant has not been approved.")]
    if grant.status is GrantStatus.REFUSED:
        return [Refusal(Reason.GRANT_REFUSED, "The access grant was refused.")]
    if grant.status is GrantStatus.REVOKED:
        return [Refusal(Reason.GRANT_REVOKED, "The access grant was revoked.")]
    found: list[Refusal] = []
    if today < grant.starts_on:
        found.append(
            Refusal(Reason.GRANT_NOT_STARTED, f"The access grant starts on {grant.starts_on}.")
        )
    if today > grant.expires_on:
        found.append(
            Refusal(Reason.GRANT_EXPIRED, f"The access grant expired on {grant.expires_on}.")
        )
    due = recertification_due(grant)
    if today > due:
        found.append(
            Refusal(
                Reason.RECERTIFICATION_OVERDUE,
                f"The access grant was due for recertification on {due}.",
            )
        )
    return found


def _training_refusals(courses: tuple[CourseRequirement, ...], today: date) -> list[Refusal]:
    found: list[Refusal] = []
    for course in courses:
        if course.completed_on is None:
            found.append(
                Refusal(Reason.TRAINING_MISSING, f"Training not completed: {course.course_name}.")
            )
            continue
        until = training_valid_until(course.completed_on, course.valid_for_days)
        if today > until:
            found.append(
                Refusal(
                    Reason.TRAINING_LAPSED,
                    f"Training lapsed on {until + timedelta(days=1)}: {course.course_name}.",
                )
            )
    return found


def _rules_refusals(facts: AccessFacts, system: str) -> list[Refusal]:
    if facts.current_rules_version is None:
        return [
            Refusal(
                Reason.NO_RULES_PUBLISHED,
                f"{system} has no rules of behaviour published, so no one can acknowledge them.",
            )
        ]
    if facts.current_rules_version not in facts.acknowledged_rules_versions:
        return [
            Refusal(
                Reason.RULES_NOT_ACKNOWLEDGED,
                f"The current rules of behaviour for {system} (version "
                f"{facts.current_rules_version}) have not been acknowledged.",
            )
        ]
    return []
