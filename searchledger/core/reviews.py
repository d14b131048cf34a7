"""Supervisory review and findings: the pure rules.

*Findings* come from review campaigns and from reconciliation of the external systems' own
access logs. Each has a severity, and its due date follows from the severity in business days
(:func:`finding_due`); an open finding past its due date is overdue and is escalated to the
owner's own supervisor.

A *review campaign* samples a unit's searches for a period (:func:`draw_sample`): every
search that is a risk by rule, plus a reproducible random share of the rest. Each sampled
search is reviewed against a checklist (:class:`ChecklistItem`), and the verdict must agree
with the answers (:func:`checklist_errors`).

Pure: callers load the facts and this module decides.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum, unique

from searchledger.core.searches import RefusalCode, SearchStatus, add_business_days
from searchledger.core.searches import us_federal_holidays as _holidays

__all__ = [
    "CHECKLIST_REQUIRED_ANSWER",
    "DUE_BUSINESS_DAYS",
    "FINDING_KIND",
    "NEAR_LIMIT_CODES",
    "RETRY_WINDOW_DAYS",
    "Answer",
    "ChecklistItem",
    "FindingSource",
    "FindingStatus",
    "Resolution",
    "ReviewVerdict",
    "SampleReason",
    "SampledSearch",
    "SearchFacts",
    "Severity",
    "checklist_errors",
    "draw_sample",
    "finding_due",
    "is_overdue",
    "random_count",
    "severity_for_item",
]


# --------------------------------------------------------------------------- findings


@unique
class Severity(StrEnum):
    """How serious a finding is; it sets the default due date."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


@unique
class FindingSource(StrEnum):
    """Where a finding came from."""

    REVIEW = "review"
    RECONCILIATION = "reconciliation"


@unique
class FindingStatus(StrEnum):
    """``open`` -> ``remediation_recorded`` -> ``closed``; any of the first two may be
    closed; a closed finding may be reopened (back to ``open``)."""

    OPEN = "open"
    REMEDIATION_RECORDED = "remediation_recorded"
    CLOSED = "closed"


@unique
class Resolution(StrEnum):
    """How a finding was closed."""

    CONFIRMED_MISUSE = "confirmed_misuse"
    DOCUMENTED_LATE = "documented_late"
    REMEDIATED = "remediated"
    NO_ISSUE = "no_issue"


# A finding's kind is a slug (the reconciliation engine and reviewers name their own kinds).
FINDING_KIND = re.compile(r"^[a-z][a-z0-9_]{1,59}$")

# Business days from the day a finding is raised to the day it is due, by severity.
DUE_BUSINESS_DAYS: Mapping[Severity, int] = {
    Severity.CRITICAL: 2,
    Severity.HIGH: 5,
    Severity.MEDIUM: 10,
    Severity.LOW: 20,
}


def finding_due(
    raised_on: date, severity: Severity, holidays: frozenset[date] | None = None
) -> date:
    """The default due date of a finding raised on ``raised_on``: :data:`DUE_BUSINESS_DAYS`
    business days later (weekends and, by default, US federal holidays skipped)."""
    if holidays is None:
        holidays = frozenset().union(
            *(_holidays(y) for y in range(raised_on.year, raised_on.year + 2))
        )
    return add_business_days(raised_on, DUE_BUSINESS_DAYS[severity], holidays)


def is_overdue(status: FindingStatus, due: date, today: date) -> bool:
    """A finding not closed whose due date has passed."""
    return status is not FindingStatus.CLOSED and today > due


# --------------------------------------------------------------------------- the checklist


@unique
class ChecklistItem(StrEnum):
    """What a reviewer checks about each sampled search."""

    DOCUMENTATION_COMPLETE = "documentation_complete"
    PURPOSE_ALLOWED = "purpose_allowed"
    TECHNIQUES_ATTESTED = "techniques_attested"
    CANDIDATES_VETTED = "candidates_vetted"
    LEAD_CORRECTLY_RECORDED = "lead_correctly_recorded"

    @property
    def label(self) -> str:
        """The question as the reviewer reads it."""
        return _ITEM_LABELS[self]


_ITEM_LABELS = {
    ChecklistItem.DOCUMENTATION_COMPLETE: "Documentation complete",
    ChecklistItem.PURPOSE_ALLOWED: "Purpose allowed",
    ChecklistItem.TECHNIQUES_ATTESTED: "Conventional techniques attested",
    ChecklistItem.CANDIDATES_VETTED: "Candidates vetted",
    ChecklistItem.LEAD_CORRECTLY_RECORDED: "Lead correctly recorded",
}


@unique
class Answer(StrEnum):
    """A checklist answer."""

    YES = "yes"
    NO = "no"
    NOT_APPLICABLE = "na"


@unique
class ReviewVerdict(StrEnum):
    """The reviewer's conclusion on one sampled search."""

    COMPLIANT = "compliant"
    MINOR_ISSUES = "minor_issues"
    NON_COMPLIANT = "non_compliant"


# Every search has documentation and a purpose: these two are never "not applicable".
CHECKLIST_REQUIRED_ANSWER = frozenset(
    {ChecklistItem.DOCUMENTATION_COMPLETE, ChecklistItem.PURPOSE_ALLOWED}
)

# The severity suggested for a finding raised from a failed checklist item.
_ITEM_SEVERITY = {
    ChecklistItem.DOCUMENTATION_COMPLETE: Severity.MEDIUM,
    ChecklistItem.PURPOSE_ALLOWED: Severity.HIGH,
    ChecklistItem.TECHNIQUES_ATTESTED: Severity.MEDIUM,
    ChecklistItem.CANDIDATES_VETTED: Severity.HIGH,
    ChecklistItem.LEAD_CORRECTLY_RECORDED: Severity.MEDIUM,
}


def severity_for_item(item: ChecklistItem) -> Severity:
    """The default severity of a finding raised because ``item`` was answered "no"."""
    return _ITEM_SEVERITY[item]


def checklist_errors(
    answers: Mapping[str, str], verdict: str, *, notes: str = ""
) -> dict[str, str]:
    """What is wrong with a review, by field (empty when it may be recorded).

    Every item is answered yes, no or not applicable (documentation and purpose never "not
    applicable"). The verdict must agree: *compliant* only when no item is "no";
    *non-compliant* only when at least one is; *minor issues* with every item passed needs
    notes saying what the issues are."""
    errors: dict[str, str] = {}
    given: dict[ChecklistItem, Answer] = {}
    for item in ChecklistItem:
        raw = answers.get(item.value)
        if raw is None or raw == "":
            errors[item.value] = "answer yes, no or not applicable"
            continue
        try:
            answer = Answer(raw)
        except ValueError:
            errors[item.value] = f"unknown answer {raw!r}; one of yes, no, na"
            continue
        if answer is Answer.NOT_APPLICABLE and item in CHECKLIST_REQUIRED_ANSWER:
            errors[item.value] = f"{item.label.lower()} always applies: answer yes or no"
            continue
        given[item] = answer
    unknown = sorted(set(answers) - {i.value for i in ChecklistItem})
    if unknown:
        errors["answers"] = f"unknown checklist items: {', '.join(unknown)}"
    try:
        chosen = ReviewVerdict(verdict)
    except ValueError:
        errors["verdict"] = f"unknown verdict {verdict!r}; one of {', '.join(ReviewVerdict)}"
        return errors
    if errors:
        return errors
    failed = any(a is Answer.NO for a in given.values())
    if chosen is ReviewVerdict.COMPLIANT and failed:
        errors["verdict"] = "a search that fails a checklist item is not compliant"
    elif chosen is ReviewVerdict.NON_COMPLIANT and not failed:
        errors["verdict"] = "a non-compliant search fails at least one checklist item"
    elif chosen is ReviewVerdict.MINOR_ISSUES and not failed and not notes.strip():
        errors["notes"] = "say what the minor issues are"
    return errors


# --------------------------------------------------------------------------- the sample


@unique
class SampleReason(StrEnum):
    """Why a search is in a campaign's sample."""

    NO_OUTCOME = "no_outcome"
    NO_ROI_NUMBER = "no_roi_number"
    PURPOSE_NEAR_LIMIT = "purpose_near_limit"
    REFUSED_THEN_RETRIED = "refused_then_retried"
    RANDOM = "random"


# A search is "near the limits" of its policy when the policy version that decided it asked
# for a supervisor's approval because of its purpose or because it would generate a new lead,
# or refused it on those grounds.
NEAR_LIMIT_CODES = frozenset(
    {
        RefusalCode.PURPOSE_NEEDS_APPROVAL.value,
        RefusalCode.LEAD_GENERATION_NEEDS_APPROVAL.value,
        RefusalCode.PURPOSE_FORBIDDEN.value,
        RefusalCode.PURPOSE_NOT_ALLOWED.value,
        RefusalCode.LEAD_GENERATION_FORBIDDEN.value,
    }
)

# A request by the same officer for the same case within this many days after a refusal is
# a retry.
RETRY_WINDOW_DAYS = 14

# Searches that were (or could have been) run: the population of the random share.
_RUN = frozenset({SearchStatus.AUTHORISED.value, SearchStatus.DOCUMENTED.value})


@dataclass(frozen=True)
class SearchFacts:
    """What the sampler needs to know about one search record.

    ``case_key`` identifies the case (case-management system and number) only to compare
    requests; ``in_period`` is False for earlier refusals loaded only to detect retries."""

    search_id: int
    officer_id: int
    case_key: str
    status: str
    requested_at: datetime
    reason_codes: frozenset[str]
    has_roi_number: bool
    in_period: bool = True


@dataclass(frozen=True)
class SampledSearch:
    """A search drawn into a sample, with every reason it was drawn (``refused_search``:
    the earlier refused request it retried, if that is a reason)."""

    search_id: int
    reasons: tuple[SampleReason, ...]
    refused_search_id: int | None = None


def random_count(population: int, share: float) -> int:
    """How many of ``population`` searches a random ``share`` (0 to 1) draws: rounded up, so
    a positive share of a non-empty population draws at least one."""
    if not 0 <= share <= 1:
        raise ValueError("the random share is between 0 and 1")
    return min(population, math.ceil(population * share - 1e-9))


def _retries(searches: Sequence[SearchFacts]) -> dict[int, int]:
    """Each in-period search that follows a refusal of the same officer and case within
    :data:`RETRY_WINDOW_DAYS`, mapped to the latest such refusal."""
    refusals: dict[tuple[int, str], list[SearchFacts]] = {}
    for fact in searches:
        if fact.status == SearchStatus.REFUSED.value:
            refusals.setdefault((fact.officer_id, fact.case_key), []).append(fact)
    window = timedelta(days=RETRY_WINDOW_DAYS)
    found: dict[int, int] = {}
    for fact in searches:
        if not fact.in_period:
            continue
        earlier = [
            r
            for r in refusals.get((fact.officer_id, fact.case_key), [])
            if r.search_id != fact.search_id
            and (r.requested_at, r.search_id) < (fact.requested_at, fact.search_id)
            and fact.requested_at - r.requested_at <= window
        ]
        if earlier:
            latest = max(earlier, key=lambda r: (r.requested_at, r.search_id))
            found[fact.search_id] = latest.search_id
    return found


def draw_sample(searches: Iterable[SearchFacts], *, share: float, seed: int) -> list[SampledSearch]:
    """The sample of a campaign, ordered by search id.

    By rule, every in-period search that was authorised but has no outcome
    (``no_outcome``), was documented without a report-of-investigation number
    (``no_roi_number``), is near its policy's limits (:data:`NEAR_LIMIT_CODES`), or
    retried a refused request (``refused_then_retried``). Then a random ``share`` of the
    rest of the searches that were run (authorised or documented), drawn with
    ``random.Random(seed)`` from the rest sorted by id: the same facts and seed always give
    the same sample."""
    facts = sorted(searches, key=lambda f: f.search_id)
    retried = _retries(facts)
    drawn: dict[int, SampledSearch] = {}
    rest: list[int] = []
    for fact in facts:
        if not fact.in_period:
            continue
        reasons: list[SampleReason] = []
        if fact.status == SearchStatus.AUTHORISED.value:
            reasons.append(SampleReason.NO_OUTCOME)
        if fact.status == SearchStatus.DOCUMENTED.value and not fact.has_roi_number:
            reasons.append(SampleReason.NO_ROI_NUMBER)
        if fact.reason_codes & NEAR_LIMIT_CODES:
            reasons.append(SampleReason.PURPOSE_NEAR_LIMIT)
        if fact.search_id in retried:
            reasons.append(SampleReason.REFUSED_THEN_RETRIED)
        if reasons:
            drawn[fact.search_id] = SampledSearch(
                fact.search_id, tuple(reasons), retried.get(fact.search_id)
            )
        elif fact.status in _RUN:
            rest.append(fact.search_id)
    chosen = random.Random(seed).sample(rest, random_count(len(rest), share))  # noqa: S311  # sampling, not secrecy
    for search_id in chosen:
        drawn[search_id] = SampledSearch(search_id, (SampleReason.RANDOM,))
    return [drawn[k] for k in sorted(drawn)]
