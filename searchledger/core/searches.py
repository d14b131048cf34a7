"""Search records: the rules for requesting a search of an external system and for
documenting what it returned.

A search has two moments. Before it, the officer *requests* it: the access rule
(``core.access``) and the search policy of the officer's unit and the system decide whether
it is allowed, refused, or needs a supervisor's approval first (:func:`decide_request`).
After it, the officer *documents the outcome* within the policy's number of business days
(:func:`documentation_due`): how many candidates came back, who vetted them and how, whether
a lead was derived and what followed (:func:`outcome_errors`). Results nobody vetted are
never leads.

Purposes are offence categories configured as data (codes), not an enumeration here.

Pure: callers load the facts and this module decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum, unique

from searchledger.core.access import AccessDecision

__all__ = [
    "ATTESTATION_TEXT",
    "CASE_NUMBER_MAX",
    "CaseState",
    "ConventionalTechnique",
    "LeadGeneration",
    "LeadPosture",
    "OutcomeFacts",
    "PolicyDecision",
    "PolicyFacts",
    "PolicyRefusal",
    "ProbeSource",
    "RefusalCode",
    "SearchRequestFacts",
    "SearchStatus",
    "Verdict",
    "Vetting",
    "VettingResult",
    "add_business_days",
    "decide_request",
    "documentation_due",
    "is_business_day",
    "outcome_errors",
    "policy_errors",
    "request_errors",
    "us_federal_holidays",
]

# The attestation the officer gives with every request, word for word.
ATTESTATION_TEXT = (
    "This search is not based on activity protected by the First Amendment, nor on race, "
    "ethnicity, religion, national origin, sex, sexual orientation, gender identity or any "
    "other characteristic protected by law."
)
CASE_NUMBER_MAX = 64
_CASE_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9./:_-]*$")
_MAX_DOCUMENTATION_DAYS = 30


# --------------------------------------------------------------------------- enumerations


@unique
class SearchStatus(StrEnum):
    """Where a search record is: ``pending_approval`` -> ``authorised`` | ``refused``;
    ``authorised`` -> ``documented``; ``pending_approval`` or ``authorised`` -> ``cancelled``.
    A request the policy refuses outright is ``refused`` from the start."""

    PENDING_APPROVAL = "pending_approval"
    AUTHORISED = "authorised"
    REFUSED = "refused"
    DOCUMENTED = "documented"
    CANCELLED = "cancelled"


@unique
class ProbeSource(StrEnum):
    """Where the probe image came from."""

    SURVEILLANCE_STILL = "surveillance_still"
    BOOKING_PHOTO = "booking_photo"
    SOCIAL_MEDIA = "social_media"
    OTHER = "other"


@unique
class LeadPosture(StrEnum):
    """Whether the search advances a lead the case already has or would generate one."""

    ADVANCES_EXISTING = "advances_existing"
    GENERATES_NEW = "generates_new"


@unique
class LeadGeneration(StrEnum):
    """What a policy says about searches that would generate a new lead."""

    ALLOWED = "allowed"
    NEEDS_APPROVAL = "needs_approval"
    FORBIDDEN = "forbidden"


@unique
class ConventionalTechnique(StrEnum):
    """Conventional identification techniques tried before a biometric search (checklist)."""

    GOVERNMENT_DATABASES = "government_databases"
    CRIMINAL_HISTORY = "criminal_history"
    DRIVER_RECORDS_BIOGRAPHICAL = "driver_records_biographical"
    OPEN_SOURCE = "open_source"
    FINGERPRINTS = "fingerprints"
    INTERVIEWS = "interviews"
    FIELD_INVESTIGATION = "field_investigation"
    OTHER = "other"


@unique
class VettingResult(StrEnum):
    """What a person who vetted the candidates concluded."""

    MATCH_CONFIRMED = "match_confirmed"
    NO_MATCH = "no_match"
    INCONCLUSIVE = "inconclusive"


@unique
class CaseState(StrEnum):
    """The case number as the registry of known cases knows it."""

    OPEN = "open"
    CLOSED = "closed"
    UNKNOWN = "unknown"


@unique
class Verdict(StrEnum):
    """A policy decision on a request."""

    ALLOW = "allow"
    REFUSE = "refuse"
    NEEDS_APPROVAL = "needs_approval"


@unique
class RefusalCode(StrEnum):
    """Why a policy refused a request, or why it needs approval."""

    NO_ACCESS = "no_access"
    ATTESTATION_NOT_GIVEN = "attestation_not_given"
    PROBE_NOT_LAWFUL = "probe_not_lawful"
    PURPOSE_FORBIDDEN = "purpose_forbidden"
    PURPOSE_NOT_ALLOWED = "purpose_not_allowed"
    LEAD_GENERATION_FORBIDDEN = "lead_generation_forbidden"
    TECHNIQUES_NOT_ATTESTED = "techniques_not_attested"
    CASE_NOT_KNOWN = "case_not_known"
    CASE_CLOSED = "case_closed"
    APPROVAL_REQUIRED = "approval_required"
    PURPOSE_NEEDS_APPROVAL = "purpose_needs_approval"
    LEAD_GENERATION_NEEDS_APPROVAL = "lead_generation_needs_approval"


# --------------------------------------------------------------------------- facts


@dataclass(frozen=True)
class PolicyFacts:
    """The search policy of an org unit for a system, as of one version."""

    version: int
    allowed_purposes: frozenset[str] = frozenset()  # empty: every purpose not forbidden
    forbidden_purposes: frozenset[str] = frozenset()
    approval_required: bool = False  # every search needs a supervisor's prior approval
    approval_purposes: frozenset[str] = frozenset()  # these purposes need it
    lead_generation: LeadGeneration = LeadGeneration.ALLOWED
    require_conventional_techniques: bool = True
    require_known_open_case: bool = False
    case_number_pattern: str = ""  # a regular expression the whole number must match
    documentation_business_days: int = 2
    two_person_verification: bool = False
    store_probe_images: bool = False
    probe_retention_days: int = 0


@dataclass(frozen=True)
class SearchRequestFacts:
    """What the officer says about a search before running it."""

    purpose: str
    case_number: str
    case_state: CaseState
    lead_posture: LeadPosture
    techniques_tried: frozenset[ConventionalTechnique]
    techniques_notes: str
    probe_source: ProbeSource
    probe_source_notes: str
    probe_lawfully_obtained: bool
    attested_not_protected: bool


@dataclass(frozen=True)
class PolicyRefusal:
    """One reason for a refusal (or for needing approval), naming the field it is about."""

    field: str
    code: RefusalCode
    message: str


@dataclass(frozen=True)
class PolicyDecision:
    """The policy's answer to a request, and the version of the policy that gave it.

    ``refusals`` are why it is refused (empty unless the verdict is REFUSE);
    ``approval_reasons`` are why it needs approval (empty unless NEEDS_APPROVAL)."""

    verdict: Verdict
    policy_version: int
    refusals: tuple[PolicyRefusal, ...] = ()
    approval_reasons: tuple[PolicyRefusal, ...] = ()

    @property
    def codes(self) -> tuple[RefusalCode, ...]:
        """The reason codes that decided it (refusals, else approval reasons)."""
        return tuple(r.code for r in (self.refusals or self.approval_reasons))

    def by_field(self) -> dict[str, list[str]]:
        """The messages grouped by the field they are about."""
        grouped: dict[str, list[str]] = {}
        for item in self.refusals or self.approval_reasons:
            grouped.setdefault(item.field, []).append(item.message)
        return grouped


@dataclass(frozen=True)
class Vetting:
    """One person's review of the candidates a search returned."""

    vetter_id: int
    result: VettingResult


@dataclass(frozen=True)
class OutcomeFacts:
    """What the officer documents after the search."""

    officer_id: int
    candidates_returned: int
    vettings: tuple[Vetting, ...]
    lead_derived: bool
    further_action: str


# --------------------------------------------------------------------------- validation


def policy_errors(policy: PolicyFacts, known_purposes: frozenset[str]) -> dict[str, str]:
    """Malformed policy settings, by field (empty when the policy is well formed)."""
    errors: dict[str, str] = {}
    for name, codes in (
        ("allowed_purposes", policy.allowed_purposes),
        ("forbidden_purposes", policy.forbidden_purposes),
        ("approval_purposes", policy.approval_purposes),
    ):
        unknown = sorted(codes - known_purposes)
        if unknown:
            errors[name] = f"unknown purpose codes: {', '.join(unknown)}"
    both = sorted(policy.allowed_purposes & policy.forbidden_purposes)
    if both and "forbidden_purposes" not in errors:
        errors["forbidden_purposes"] = f"both allowed and forbidden: {', '.join(both)}"
    if policy.case_number_pattern:
        try:
            re.compile(policy.case_number_pattern)
        except re.error as exc:
            errors["case_number_pattern"] = f"not a valid regular expression: {exc}"
    if not 1 <= policy.documentation_business_days <= _MAX_DOCUMENTATION_DAYS:
        errors["documentation_business_days"] = (
            f"must be between 1 and {_MAX_DOCUMENTATION_DAYS} business days"
        )
    if policy.probe_retention_days < 0:
        errors["probe_retention_days"] = "must not be negative"
    if policy.store_probe_images and policy.probe_retention_days == 0:
        errors["probe_retention_days"] = "say how long stored probe images are kept"
    return errors


def request_errors(facts: SearchRequestFacts, policy: PolicyFacts) -> dict[str, str]:
    """Malformed input in a request, by field: bad input is refused before anything is
    written, unlike a policy refusal, which is a decision and is recorded."""
    errors: dict[str, str] = {}
    number = facts.case_number.strip()
    if not number:
        errors["case_number"] = "the case number is required"
    elif len(number) > CASE_NUMBER_MAX:
        errors["case_number"] = f"the case number is longer than {CASE_NUMBER_MAX} characters"
    elif not _CASE_NUMBER.match(number):
        errors["case_number"] = (
            "the case number may hold only letters, digits and . / : _ - "
            "and must start with a letter or digit"
        )
    elif policy.case_number_pattern and not re.fullmatch(policy.case_number_pattern, number):
        errors["case_number"] = (
            f"{number!r} is not in the format this policy requires "
            f"(pattern {policy.case_number_pattern})"
        )
    if ConventionalTechnique.OTHER in facts.techniques_tried and not facts.techniques_notes.strip():
        errors["techniques_notes"] = "describe the other techniques tried"
    if facts.probe_source is ProbeSource.OTHER and not facts.probe_source_notes.strip():
        errors["probe_source_notes"] = "say where the probe image came from"
    return errors


# --------------------------------------------------------------------------- the decision


def decide_request(
    facts: SearchRequestFacts, policy: PolicyFacts, access: AccessDecision
) -> PolicyDecision:
    """Allow, refuse or ask for approval, giving every reason that applies.

    Refusals win over approval: a request that the access rule, the attestation or the
    policy refuses is refused, whatever a supervisor might say."""
    refusals = [
        PolicyRefusal("system", RefusalCode.NO_ACCESS, refusal.message)
        for refusal in access.refusals
    ]
    if not facts.attested_not_protected:
        refusals.append(
            PolicyRefusal(
                "attestation",
                RefusalCode.ATTESTATION_NOT_GIVEN,
                "The attestation that the search is not based on First Amendment activity or "
                "a protected characteristic was not given.",
            )
        )
    if not facts.probe_lawfully_obtained:
        refusals.append(
            PolicyRefusal(
                "probe_lawfully_obtained",
                RefusalCode.PROBE_NOT_LAWFUL,
                "The probe image must have been lawfully obtained.",
            )
        )
    refusals.extend(_purpose_refusals(facts.purpose, policy))
    if (
        facts.lead_posture is LeadPosture.GENERATES_NEW
        and policy.lead_generation is LeadGeneration.FORBIDDEN
    ):
        refusals.append(
            PolicyRefusal(
                "lead_posture",
                RefusalCode.LEAD_GENERATION_FORBIDDEN,
                "This policy allows searches only to advance an existing lead.",
            )
        )
    if policy.require_conventional_techniques and not facts.techniques_tried:
        refusals.append(
            PolicyRefusal(
                "techniques_tried",
                RefusalCode.TECHNIQUES_NOT_ATTESTED,
                "This policy requires conventional identification techniques to be tried "
                "first; none is ticked.",
            )
        )
    refusals.extend(_case_refusals(facts, policy))
    if refusals:
        return PolicyDecision(Verdict.REFUSE, policy.version, refusals=tuple(refusals))
    reasons = _approval_reasons(facts, policy)
    if reasons:
        return PolicyDecision(Verdict.NEEDS_APPROVAL, policy.version, approval_reasons=reasons)
    return PolicyDecision(Verdict.ALLOW, policy.version)


def _purpose_refusals(purpose: str, policy: PolicyFacts) -> list[PolicyRefusal]:
    if purpose in policy.forbidden_purposes:
        return [
            PolicyRefusal(
                "purpose",
                RefusalCode.PURPOSE_FORBIDDEN,
                f"The purpose {purpose!r} is forbidden by this policy.",
            )
        ]
    if policy.allowed_purposes and purpose not in policy.allowed_purposes:
        return [
            PolicyRefusal(
                "purpose",
                RefusalCode.PURPOSE_NOT_ALLOWED,
                f"The purpose {purpose!r} is not among the purposes this policy allows.",
            )
        ]
    return []


def _case_refusals(facts: SearchRequestFacts, policy: PolicyFacts) -> list[PolicyRefusal]:
    if not policy.require_known_open_case:
        return []
    if facts.case_state is CaseState.UNKNOWN:
        return [
            PolicyRefusal(
                "case_number",
                RefusalCode.CASE_NOT_KNOWN,
                f"Case {facts.case_number.strip()} is not a known case in that "
                "case-management system; this policy requires a known open case.",
            )
        ]
    if facts.case_state is CaseState.CLOSED:
        return [
            PolicyRefusal(
                "case_number",
                RefusalCode.CASE_CLOSED,
                f"Case {facts.case_number.strip()} is closed; this policy requires an open case.",
            )
        ]
    return []


def _approval_reasons(facts: SearchRequestFacts, policy: PolicyFacts) -> tuple[PolicyRefusal, ...]:
    reasons: list[PolicyRefusal] = []
    if policy.approval_required:
        reasons.append(
            PolicyRefusal(
                "system",
                RefusalCode.APPROVAL_REQUIRED,
                "This policy requires a supervisor's approval before every search.",
            )
        )
    if facts.purpose in policy.approval_purposes:
        reasons.append(
            PolicyRefusal(
                "purpose",
                RefusalCode.PURPOSE_NEEDS_APPROVAL,
                f"Searches for the purpose {facts.purpose!r} need a supervisor's approval.",
            )
        )
    if (
        facts.lead_posture is LeadPosture.GENERATES_NEW
        and policy.lead_generation is LeadGeneration.NEEDS_APPROVAL
    ):
        reasons.append(
            PolicyRefusal(
                "lead_posture",
                RefusalCode.LEAD_GENERATION_NEEDS_APPROVAL,
                "A search that would generate a new lead needs a supervisor's approval.",
            )
        )
    return tuple(reasons)


# --------------------------------------------------------------------------- the outcome


def outcome_errors(outcome: OutcomeFacts, policy: PolicyFacts) -> dict[str, str]:
    """What is wrong with a documented outcome, by field (empty when it may be recorded).

    Results nobody vetted are never leads; a lead needs a confirmed match (from two
    different people, neither the officer who ran the search, when the policy requires
    two-person verification), and no vetter may say there is no match."""
    errors: dict[str, str] = {}
    if outcome.candidates_returned < 0:
        errors["candidates_returned"] = "the number of candidates cannot be negative"
        return errors
    vetters = [v.vetter_id for v in outcome.vettings]
    if len(set(vetters)) != len(vetters):
        errors["vettings"] = "each person vets the candidates once"
    elif outcome.candidates_returned == 0 and outcome.vettings:
        errors["vettings"] = "there were no candidates to vet"
    if not outcome.further_action.strip():
        errors["further_action"] = "say what further action followed (or that none did)"
    if not outcome.lead_derived:
        return errors
    results = {v.result for v in outcome.vettings}
    if outcome.candidates_returned == 0:
        errors["lead_derived"] = "a search that returned no candidates cannot yield a lead"
    elif not outcome.vettings:
        errors["lead_derived"] = "results nobody vetted are never recorded as leads"
    elif VettingResult.MATCH_CONFIRMED not in results:
        errors["lead_derived"] = "a lead needs a vetter to have confirmed a match"
    elif VettingResult.NO_MATCH in results or VettingResult.INCONCLUSIVE in results:
        errors["lead_derived"] = "the vetters did not all confirm the match"
    elif policy.two_person_verification:
        independent = {v for v in vetters if v != outcome.officer_id}
        if len(independent) < 2:
            errors["vettings"] = (
                "this policy requires two-person verification: two different people, "
                "neither the officer who ran the search, must confirm the match"
            )
    return errors


# --------------------------------------------------------------------------- deadlines


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The ``n``-th ``weekday`` (Monday = 0) of the month; ``n = -1`` for the last."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    after = date(year + (month == 12), month % 12 + 1, 1)
    last = after - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: date) -> date:
    """A holiday falling on Saturday is observed on Friday, on Sunday on Monday."""
    if day.weekday() == 5:
        return day - timedelta(days=1)
    if day.weekday() == 6:
        return day + timedelta(days=1)
    return day


def us_federal_holidays(year: int) -> frozenset[date]:
    """The observed dates of the US federal holidays (5 U.S.C. 6103) in ``year`` (as the
    list stands since 2021)."""
    fixed = [date(year, 1, 1), date(year, 7, 4), date(year, 11, 11), date(year, 12, 25)]
    if year >= 2021:  # Juneteenth National Independence Day, from 2021
        fixed.append(date(year, 6, 19))
    days = {_observed(day) for day in fixed}
    # New Year's Day of next year, observed on 31 December when it falls on a Saturday.
    if date(year + 1, 1, 1).weekday() == 5:
        days.add(date(year, 12, 31))
    days.discard(date(year - 1, 12, 31))
    days |= {
        _nth_weekday(year, 1, 0, 3),  # Birthday of Martin Luther King, Jr.
        _nth_weekday(year, 2, 0, 3),  # Washington's Birthday
        _nth_weekday(year, 5, 0, -1),  # Memorial Day
        _nth_weekday(year, 9, 0, 1),  # Labor Day
        _nth_weekday(year, 10, 0, 2),  # Columbus Day
        _nth_weekday(year, 11, 3, 4),  # Thanksgiving Day
    }
    return frozenset(d for d in days if d.year == year)


def is_business_day(day: date, holidays: frozenset[date]) -> bool:
    """Monday to Friday and not a holiday."""
    return day.weekday() < 5 and day not in holidays


def add_business_days(start: date, n: int, holidays: frozenset[date]) -> date:
    """The ``n``-th business day after ``start`` (``start`` itself never counts)."""
    if n < 0:
        raise ValueError("n must not be negative")
    day = start
    remaining = n
    while remaining:
        day += timedelta(days=1)
        if is_business_day(day, holidays):
            remaining -= 1
    return day


def documentation_due(
    authorised_on: date, policy: PolicyFacts, holidays: frozenset[date] | None = None
) -> date:
    """The last day to document the outcome of a search authorised on ``authorised_on``.

    Holidays default to the US federal holidays of the years concerned."""
    if holidays is None:
        holidays = frozenset().union(
            *(us_federal_holidays(y) for y in range(authorised_on.year, authorised_on.year + 2))
        )
    return add_business_days(authorised_on, policy.documentation_business_days, holidays)
