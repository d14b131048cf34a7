"""The only writers of search records, search policies, offence categories and known cases.

A search is *requested* before it is run: malformed input is refused before anything is
written (``ValidationError`` naming each field); otherwise the access rule and the policy of
the officer's unit and the system decide, and the decision is recorded with the policy
version that made it. A refused request is kept (status ``refused``) and then reported to
the caller as :class:`SearchRefused`, a ``ValidationError`` naming each field and reason.
A request that needs approval waits for the officer's supervisor (or an administrator);
the officer is e-mailed the decision after it commits. Once authorised, the outcome must be
documented within the policy's number of business days, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from searchledger.apps.accounts.models import Account, OrgUnit
from searchledger.apps.authz import require, require_scope
from searchledger.apps.grants.selectors import check_access
from searchledger.apps.ledger import writer
from searchledger.apps.searches import notify
from searchledger.apps.searches.models import (
    Case,
    CaseStatus,
    OffenceCategory,
    OffenceGroup,
    SearchPolicy,
    SearchRecord,
    SearchVetting,
)
from searchledger.apps.searches.offences import SEED_CATEGORIES
from searchledger.apps.searches.selectors import access_search_by_id, applicable_policy
from searchledger.apps.systems.models import ExternalSystem
from searchledger.core.actor import Actor
from searchledger.core.roles import Permission, Role
from searchledger.core.scope import units_below
from searchledger.core.searches import (
    CASE_NUMBER_MAX,
    CaseState,
    ConventionalTechnique,
    LeadGeneration,
    LeadPosture,
    OutcomeFacts,
    PolicyDecision,
    PolicyFacts,
    ProbeSource,
    SearchRequestFacts,
    SearchStatus,
    Verdict,
    Vetting,
    VettingResult,
    decide_request,
    documentation_due,
    outcome_errors,
    policy_errors,
    request_errors,
)
from searchledger.ledger.events import LedgerEventType

__all__ = [
    "PastDecision",
    "PolicySettings",
    "SearchOutcome",
    "SearchRefused",
    "SearchRequest",
    "VettingInput",
    "do_approve_search",
    "do_cancel_search",
    "do_close_case",
    "do_create_offence_category",
    "do_document_outcome",
    "do_enter_past_search",
    "do_log_search_export",
    "do_log_search_view",
    "do_open_case",
    "do_record_roi_number",
    "do_refuse_search",
    "do_request_search",
    "do_retire_offence_category",
    "do_seed_offence_categories",
    "do_set_search_policy",
]

_SEARCH = "searches.searchrecord"
_E = TypeVar("_E", bound=StrEnum)
_NUMBER_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789./:_-")


class SearchRefused(ValidationError):
    """The policy (or the access rule) refused the request. The refusal is recorded (the
    search record in status ``refused`` and its ledger entry) before this is raised, so the
    caller must not roll back its own transaction if it wants the refusal kept."""

    def __init__(self, search: SearchRecord, decision: PolicyDecision) -> None:
        super().__init__(decision.by_field())
        self.search = search
        self.decision = decision


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class SearchRequest:
    """What the officer says before a search. Enumerated values are given as their codes
    (``core.searches``) so that forms, the API and the CLI pass input through unchanged."""

    system_code: str
    purpose: str
    case_system: str
    case_number: str
    lead_posture: str
    techniques_tried: Sequence[str]
    probe_source: str
    probe_lawfully_obtained: bool
    attested_not_protected: bool
    techniques_notes: str = ""
    probe_source_notes: str = ""
    justification: str = ""


@dataclass(frozen=True)
class VettingInput:
    """One person's review of the candidates."""

    vetter_id: int
    result: str
    notes: str = ""


@dataclass(frozen=True)
class SearchOutcome:
    """What the officer documents after the search."""

    searched_at: datetime
    candidates_returned: int
    lead_derived: bool
    further_action: str
    vettings: Sequence[VettingInput] = ()


@dataclass(frozen=True)
class PolicySettings:
    """The settings of a search policy version (``core.searches.PolicyFacts`` less the
    version, which the action assigns)."""

    allowed_purposes: Sequence[str] = ()
    forbidden_purposes: Sequence[str] = ()
    approval_required: bool = False
    approval_purposes: Sequence[str] = ()
    lead_generation: str = LeadGeneration.ALLOWED.value
    require_conventional_techniques: bool = True
    require_known_open_case: bool = False
    case_number_pattern: str = ""
    documentation_business_days: int = 2
    two_person_verification: bool = False
    store_probe_images: bool = False
    probe_retention_days: int = 0


# --------------------------------------------------------------------------- helpers


def _enum(kind: type[_E], value: str, name: str, errors: dict[str, str]) -> _E | None:
    """``value`` as a member of ``kind``, or None with the error recorded under ``name``."""
    try:
        return kind(value)
    except ValueError:
        errors[name] = f"unknown value {value!r}; one of {', '.join(m.value for m in kind)}"
        return None


def _number_error(value: str, what: str) -> str | None:
    value = value.strip()
    if not value:
        return f"the {what} is required"
    if len(value) > CASE_NUMBER_MAX:
        return f"the {what} is longer than {CASE_NUMBER_MAX} characters"
    if not set(value) <= _NUMBER_CHARS:
        return f"the {what} may hold only letters, digits and . / : _ -"
    return None


def _lock(search_id: int) -> SearchRecord:
    search = (
        # of=("self",): lock the record only. Without it PostgreSQL also locks the joined
        # officer, system, policy and purpose rows FOR UPDATE, and every request inserting a
        # record that refers to them (its foreign-key checks run at COMMIT, after it took
        # the ledger head) deadlocks against this transaction, which waits for the head.
        # no_key: FOR NO KEY UPDATE (no key changes), which such checks do not wait for.
        SearchRecord.objects.select_for_update(of=("self",), no_key=True)
        .select_related("officer", "system", "policy", "purpose")
        .filter(pk=search_id)
        .first()
    )
    if search is None:
        raise ValidationError({"search": f"no search record with id {search_id}"})
    return search


def _account(actor: Actor) -> Account:
    account = Account.objects.select_related("org_unit").filter(pk=actor.account_id).first()
    if account is None:
        raise PermissionDenied("the acting account does not exist")
    return account


def _reasons(decision: PolicyDecision) -> list[dict[str, str]]:
    return [
        {"field": r.field, "code": r.code.value, "message": r.message}
        for r in (decision.refusals or decision.approval_reasons)
    ]


def _due(search: SearchRecord) -> None:
    today = timezone.localdate()
    search.authorised_at = timezone.now()
    search.documentation_due = documentation_due(today, search.policy.facts())


def _append(
    event: LedgerEventType,
    search: SearchRecord,
    actor: Actor,
    data: dict[str, Any] | None = None,
    personal: dict[str, str] | None = None,
) -> None:
    writer.append(
        event,
        object_type=_SEARCH,
        object_id=search.pk,
        actor=actor,
        data={
            "officer": search.officer_id,
            "system": search.system.code,
            "status": search.status,
            "policy": search.policy_id,
            "policy_version": search.policy_version,
            **(data or {}),
        },
        personal=personal,
    )


# --------------------------------------------------------------------------- offence categories


@transaction.atomic
def do_create_offence_category(
    *, code: str, label: str, group: str, nibrs_codes: str = "", actor: Actor
) -> OffenceCategory:
    """Add a purpose (offence category) that policies may allow or forbid."""
    require(actor, Permission.MANAGE_SEARCH_POLICY)
    errors: dict[str, str] = {}
    code = code.strip()
    if not code or not set(code) <= set("abcdefghijklmnopqrstuvwxyz0123456789_"):
        errors["code"] = "a code of lower-case letters, digits and underscores is required"
    elif OffenceCategory.objects.filter(code=code).exists():
        errors["code"] = f"an offence category with code {code!r} exists"
    if not label.strip():
        errors["label"] = "a label is required"
    if group not in OffenceGroup.values:
        errors["group"] = f"unknown group {group!r}; one of {', '.join(OffenceGroup.values)}"
    if errors:
        raise ValidationError(errors)
    category = OffenceCategory(
        code=code, label=label.strip(), group=group, nibrs_codes=nibrs_codes.strip()
    )
    category.save(force_insert=True)
    writer.append(
        LedgerEventType.SEARCH_PURPOSE_CREATED,
        object_type="searches.offencecategory",
        object_id=category.pk,
        actor=actor,
        data={"code": code, "label": category.label, "group": group, "nibrs": category.nibrs_codes},
    )
    return category


@transaction.atomic
def do_retire_offence_category(code: str, *, actor: Actor) -> OffenceCategory:
    """Retire a purpose: no new request may name it; past records and policies keep it."""
    require(actor, Permission.MANAGE_SEARCH_POLICY)
    # FOR NO KEY UPDATE: requests naming this purpose check their foreign key to it at
    # COMMIT (FOR KEY SHARE) after taking the ledger head, and must not wait for this lock.
    category = OffenceCategory.objects.select_for_update(no_key=True).filter(code=code).first()
    if category is None:
        raise ValidationError({"code": f"no offence category with code {code!r}"})
    if not category.active:
        raise ValidationError({"code": f"{category.label!r} is already retired"})
    category.active = False
    category.save(update_fields=["active"])
    writer.append(
        LedgerEventType.SEARCH_PURPOSE_RETIRED,
        object_type="searches.offencecategory",
        object_id=category.pk,
        actor=actor,
        data={"code": category.code},
    )
    return category


@transaction.atomic
def do_seed_offence_categories(*, actor: Actor) -> list[OffenceCategory]:
    """Create the starting offence categories (NIBRS groups and agency categories) that do
    not exist yet, one ledger entry each. Running it again creates nothing."""
    require(actor, Permission.MANAGE_SEARCH_POLICY)
    existing = set(OffenceCategory.objects.values_list("code", flat=True))
    return [
        do_create_offence_category(
            code=code, label=label, group=group, nibrs_codes=nibrs, actor=actor
        )
        for code, label, group, nibrs in SEED_CATEGORIES
        if code not in existing
    ]


# --------------------------------------------------------------------------- policies


@transaction.atomic
def do_set_search_policy(
    *,
    org_unit_code: str | None,
    system_code: str | None,
    settings: PolicySettings,
    actor: Actor,
    reason: str,
) -> SearchPolicy:
    """Publish a new version of the search policy for a unit (``None``: agency-wide) and a
    system (``None``: every system). Earlier versions stay, for the decisions they made."""
    require(actor, Permission.MANAGE_SEARCH_POLICY)
    errors: dict[str, str] = {}
    unit = None
    if org_unit_code:
        unit = OrgUnit.objects.filter(code=org_unit_code).first()
        if unit is None:
            errors["org_unit"] = f"no org unit with code {org_unit_code!r}"
    system = None
    if system_code:
        system = ExternalSystem.objects.filter(code=system_code).first()
        if system is None:
            errors["system"] = f"no system with code {system_code!r}"
    if not reason.strip():
        errors["reason"] = "say why the policy is set or changed"
    lead = _enum(LeadGeneration, settings.lead_generation, "lead_generation", errors)
    facts = PolicyFacts(
        version=0,
        allowed_purposes=frozenset(settings.allowed_purposes),
        forbidden_purposes=frozenset(settings.forbidden_purposes),
        approval_required=settings.approval_required,
        approval_purposes=frozenset(settings.approval_purposes),
        lead_generation=lead or LeadGeneration.ALLOWED,
        require_conventional_techniques=settings.require_conventional_techniques,
        require_known_open_case=settings.require_known_open_case,
        case_number_pattern=settings.case_number_pattern.strip(),
        documentation_business_days=settings.documentation_business_days,
        two_person_verification=settings.two_person_verification,
        store_probe_images=settings.store_probe_images,
        probe_retention_days=settings.probe_retention_days,
    )
    known = frozenset(OffenceCategory.objects.values_list("code", flat=True))
    errors.update(policy_errors(facts, known))
    if errors:
        raise ValidationError(errors)
    key = SearchPolicy.key_for(unit.pk if unit else None, system.pk if system else None)
    latest = SearchPolicy.objects.filter(scope_key=key).order_by("-version").first()
    policy = SearchPolicy(
        org_unit=unit,
        system=system,
        scope_key=key,
        version=(latest.version if latest else 0) + 1,
        allowed_purposes=sorted(facts.allowed_purposes),
        forbidden_purposes=sorted(facts.forbidden_purposes),
        approval_required=facts.approval_required,
        approval_purposes=sorted(facts.approval_purposes),
        lead_generation=facts.lead_generation.value,
        require_conventional_techniques=facts.require_conventional_techniques,
        require_known_open_case=facts.require_known_open_case,
        case_number_pattern=facts.case_number_pattern,
        documentation_business_days=facts.documentation_business_days,
        two_person_verification=facts.two_person_verification,
        store_probe_images=facts.store_probe_images,
        probe_retention_days=facts.probe_retention_days,
        created_at=timezone.now(),
        created_by_id=None if actor.is_system else actor.account_id,
    )
    policy.save(force_insert=True)
    writer.append(
        LedgerEventType.SEARCH_POLICY_SET,
        object_type="searches.searchpolicy",
        object_id=policy.pk,
        actor=actor,
        data={
            "org_unit": unit.code if unit else None,
            "system": system.code if system else None,
            "version": policy.version,
            "allowed_purposes": policy.allowed_purposes,
            "forbidden_purposes": policy.forbidden_purposes,
            "approval_required": policy.approval_required,
            "approval_purposes": policy.approval_purposes,
            "lead_generation": policy.lead_generation,
            "require_conventional_techniques": policy.require_conventional_techniques,
            "require_known_open_case": policy.require_known_open_case,
            "case_number_pattern": policy.case_number_pattern,
            "documentation_business_days": policy.documentation_business_days,
            "two_person_verification": policy.two_person_verification,
            "store_probe_images": policy.store_probe_images,
            "probe_retention_days": policy.probe_retention_days,
        },
        personal={"reason": reason.strip()},
    )
    return policy


# --------------------------------------------------------------------------- known cases


def _require_unit_in_scope(actor: Actor, unit: OrgUnit) -> None:
    """Supervisors manage the cases of their own unit and the units below it."""
    if actor.is_system or actor.role is Role.ADMINISTRATOR:
        return
    me = _account(actor)
    if me.org_unit_id is None:
        raise PermissionDenied("you belong to no unit, so you manage no unit's cases")
    below = units_below(me.org_unit_id, OrgUnit.objects.values_list("pk", "parent_id"))
    if unit.pk not in below:
        raise PermissionDenied("that unit is outside your own")


@transaction.atomic
def do_open_case(*, org_unit_code: str, case_system: str, number: str, actor: Actor) -> Case:
    """Register a case known to be open in a case-management system."""
    require(actor, Permission.MANAGE_CASES)
    errors: dict[str, str] = {}
    unit = OrgUnit.objects.filter(code=org_unit_code).first()
    if unit is None:
        errors["org_unit"] = f"no org unit with code {org_unit_code!r}"
    if problem := _number_error(case_system, "case-management system"):
        errors["case_system"] = problem
    if problem := _number_error(number, "case number"):
        errors["number"] = problem
    elif Case.objects.filter(case_system=case_system.strip(), number=number.strip()).exists():
        errors["number"] = f"case {number.strip()} is already registered in {case_system.strip()}"
    if errors or unit is None:
        raise ValidationError(errors)
    _require_unit_in_scope(actor, unit)
    case = Case(
        org_unit=unit,
        case_system=case_system.strip(),
        number=number.strip(),
        status=CaseStatus.OPEN,
        opened_at=timezone.now(),
    )
    case.save(force_insert=True)
    writer.append(
        LedgerEventType.SEARCH_CASE_OPENED,
        object_type="searches.case",
        object_id=case.pk,
        actor=actor,
        data={"org_unit": unit.code, "case_system": case.case_system},
        personal={"number": case.number},
    )
    return case


@transaction.atomic
def do_close_case(case_id: int, *, actor: Actor) -> Case:
    """Mark a known case closed: policies requiring an open case then refuse searches in it."""
    require(actor, Permission.MANAGE_CASES)
    case = (
        Case.objects.select_for_update(of=("self",))  # not the unit: see _lock
        .select_related("org_unit")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise ValidationError({"case": f"no case with id {case_id}"})
    _require_unit_in_scope(actor, case.org_unit)
    if case.status == CaseStatus.CLOSED:
        raise ValidationError({"case": f"case {case.number} is already closed"})
    case.status = CaseStatus.CLOSED
    case.closed_at = timezone.now()
    case.save(update_fields=["status", "closed_at"])
    writer.append(
        LedgerEventType.SEARCH_CASE_CLOSED,
        object_type="searches.case",
        object_id=case.pk,
        actor=actor,
        data={"org_unit": case.org_unit.code, "case_system": case.case_system},
    )
    return case


# --------------------------------------------------------------------------- the request


def do_request_search(request: SearchRequest, *, actor: Actor) -> SearchRecord:
    """Ask to run a search, for oneself. Returns the record, ``authorised`` (run it, then
    document the outcome by its due date) or ``pending_approval``. Raises ``ValidationError``
    for malformed input, writing nothing, and :class:`SearchRefused` after recording a
    refusal by the access rule or the policy."""
    with transaction.atomic():
        search, decision = _record_request(request, actor)
    if decision.verdict is Verdict.REFUSE:
        raise SearchRefused(search, decision)
    return search


_STATUS = {
    Verdict.ALLOW: SearchStatus.AUTHORISED,
    Verdict.NEEDS_APPROVAL: SearchStatus.PENDING_APPROVAL,
    Verdict.REFUSE: SearchStatus.REFUSED,
}


def _validate_request(
    request: SearchRequest, officer: Account, errors: dict[str, str]
) -> tuple[ExternalSystem, OffenceCategory, SearchPolicy, Case | None, SearchRequestFacts]:
    """The checks of a request before any decision, adding to ``errors``; raises
    ``ValidationError`` naming every field if anything is wrong."""
    system = ExternalSystem.objects.filter(code=request.system_code).first()
    if system is None:
        errors["system"] = f"no system with code {request.system_code!r}"
    purpose = OffenceCategory.objects.filter(code=request.purpose).first()
    if purpose is None:
        errors["purpose"] = f"no purpose (offence category) with code {request.purpose!r}"
    elif not purpose.active:
        errors["purpose"] = f"the purpose {purpose.label!r} is retired"
    elif purpose.code == "other" and not request.justification.strip():
        errors["justification"] = "explain the purpose when it is 'other'"
    if problem := _number_error(request.case_system, "case-management system"):
        errors["case_system"] = problem
    posture = _enum(LeadPosture, request.lead_posture, "lead_posture", errors)
    source = _enum(ProbeSource, request.probe_source, "probe_source", errors)
    techniques = {
        _enum(ConventionalTechnique, t, "techniques_tried", errors)
        for t in request.techniques_tried
    }
    policy = None
    if system is not None:
        policy = applicable_policy(officer, system)
        if policy is None:
            errors["system"] = (
                f"no search policy covers {system.name} for your unit; "
                "an administrator must set one before anyone searches it"
            )
    case = Case.objects.filter(
        case_system=request.case_system.strip(), number=request.case_number.strip()
    ).first()
    facts = SearchRequestFacts(
        purpose=request.purpose,
        case_number=request.case_number,
        case_state=CaseState(case.status) if case else CaseState.UNKNOWN,
        lead_posture=posture or LeadPosture.ADVANCES_EXISTING,
        techniques_tried=frozenset(t for t in techniques if t is not None),
        techniques_notes=request.techniques_notes,
        probe_source=source or ProbeSource.OTHER,
        probe_source_notes=request.probe_source_notes,
        probe_lawfully_obtained=request.probe_lawfully_obtained,
        attested_not_protected=request.attested_not_protected,
    )
    if policy is not None:
        for name, problem in request_errors(facts, policy.facts()).items():
            errors.setdefault(name, problem)
    if errors or system is None or purpose is None or policy is None:
        raise ValidationError(errors)
    return system, purpose, policy, case, facts


def _new_record(
    *,
    officer: Account,
    system: ExternalSystem,
    purpose: OffenceCategory,
    policy: SearchPolicy,
    case: Case | None,
    facts: SearchRequestFacts,
    request: SearchRequest,
    decision: PolicyDecision,
) -> SearchRecord:
    """The unsaved record of a decided request (``requested_at`` still to be set)."""
    status = _STATUS[decision.verdict]
    return SearchRecord(
        officer=officer,
        system=system,
        org_unit=officer.org_unit,
        policy=policy,
        policy_version=policy.version,
        status=status.value,
        verdict=decision.verdict.value,
        decision_reasons=_reasons(decision),
        purpose=purpose,
        justification=request.justification.strip(),
        case_system=request.case_system.strip(),
        case_number=request.case_number.strip(),
        case=case,
        lead_posture=facts.lead_posture.value,
        techniques_tried=sorted(t.value for t in facts.techniques_tried),
        techniques_notes=request.techniques_notes.strip(),
        probe_source=facts.probe_source.value,
        probe_source_notes=request.probe_source_notes.strip(),
        probe_lawfully_obtained=request.probe_lawfully_obtained,
        attested_not_protected=request.attested_not_protected,
    )


def _record_request(request: SearchRequest, actor: Actor) -> tuple[SearchRecord, PolicyDecision]:
    require(actor, Permission.REQUEST_SEARCH)
    if actor.is_system:
        raise PermissionDenied("the system itself never searches")
    officer = _account(actor)
    system, purpose, policy, case, facts = _validate_request(request, officer, {})
    decision = _decide(officer, system, facts, policy)
    status = _STATUS[decision.verdict]
    search = _new_record(
        officer=officer,
        system=system,
        purpose=purpose,
        policy=policy,
        case=case,
        facts=facts,
        request=request,
        decision=decision,
    )
    search.requested_at = timezone.now()
    if status is SearchStatus.AUTHORISED:
        _due(search)
    search.save(force_insert=True)
    _append(
        LedgerEventType.SEARCH_REQUEST_REFUSED
        if status is SearchStatus.REFUSED
        else LedgerEventType.SEARCH_REQUESTED,
        search,
        actor,
        data={
            "org_unit": officer.org_unit.code if officer.org_unit else None,
            "purpose": purpose.code,
            "case_system": search.case_system,
            "lead_posture": search.lead_posture,
            "techniques_tried": search.techniques_tried,
            "probe_source": search.probe_source,
            "probe_lawfully_obtained": search.probe_lawfully_obtained,
            "attested_not_protected": search.attested_not_protected,
            "verdict": decision.verdict.value,
            "reasons": [c.value for c in decision.codes],
            "documentation_due": (
                search.documentation_due.isoformat() if search.documentation_due else None
            ),
        },
        personal={
            "case_number": search.case_number,
            "justification": search.justification,
            "techniques_notes": search.techniques_notes,
            "probe_source_notes": search.probe_source_notes,
        },
    )
    if status is SearchStatus.PENDING_APPROVAL:
        search_id = search.pk
        transaction.on_commit(lambda: notify.notify_approval_needed(search_id))
    return search, decision


def _decide(
    officer: Account, system: ExternalSystem, facts: SearchRequestFacts, policy: SearchPolicy
) -> PolicyDecision:
    """The decision on a request: the access rule for ``officer`` and ``system`` today, then
    ``policy``."""
    return decide_request(facts, policy.facts(), check_access(officer, system))


# --------------------------------------------------------------------------- the decision


def _require_decider(actor: Actor, search: SearchRecord) -> None:
    """Only the officer's supervisor or an administrator decides, never the officer."""
    require(actor, Permission.DECIDE_SEARCH)
    if actor.is_system:
        return
    if actor.account_id == search.officer_id:
        raise PermissionDenied("no one may decide on their own search request")
    if actor.role is Role.ADMINISTRATOR:
        return
    if search.officer.supervisor_id != actor.account_id:
        raise PermissionDenied("only the officer's supervisor or an administrator may decide")


def _pending(search_id: int, actor: Actor) -> SearchRecord:
    search = _lock(search_id)
    _require_decider(actor, search)
    if search.status != SearchStatus.PENDING_APPROVAL:
        raise ValidationError(
            {"search": f"search {search.pk} is {search.status}, not awaiting approval"}
        )
    return search


@transaction.atomic
def do_approve_search(search_id: int, *, actor: Actor, reason: str = "") -> SearchRecord:
    """Approve a pending request. The access rule is asked again: a grant that lapsed while
    the request waited is refused here, naming the reasons, and nothing is written."""
    search = _pending(search_id, actor)
    access = check_access(search.officer, search.system)
    if not access.allowed:
        raise ValidationError({"system": [r.message for r in access.refusals]})
    search.status = SearchStatus.AUTHORISED.value
    search.decided_by_id = None if actor.is_system else actor.account_id
    search.decided_at = timezone.now()
    search.decision_note = reason.strip()
    _due(search)
    search.save(
        update_fields=[
            "status",
            "decided_by",
            "decided_at",
            "decision_note",
            "authorised_at",
            "documentation_due",
        ]
    )
    _append(
        LedgerEventType.SEARCH_APPROVED,
        search,
        actor,
        data={"documentation_due": search.documentation_due.isoformat()},  # type: ignore[union-attr]  # set by _due
        personal={"reason": search.decision_note},
    )
    transaction.on_commit(lambda: notify.notify_decision(search_id))
    return search


@transaction.atomic
def do_refuse_search(search_id: int, *, actor: Actor, reason: str) -> SearchRecord:
    """Refuse a pending request, with the reason the officer is told."""
    if not reason.strip():
        raise ValidationError({"reason": "give the reason for refusing"})
    search = _pending(search_id, actor)
    search.status = SearchStatus.REFUSED.value
    search.decided_by_id = None if actor.is_system else actor.account_id
    search.decided_at = timezone.now()
    search.decision_note = reason.strip()
    search.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    _append(LedgerEventType.SEARCH_REFUSED, search, actor, personal={"reason": reason.strip()})
    transaction.on_commit(lambda: notify.notify_decision(search_id))
    return search


@transaction.atomic
def do_cancel_search(search_id: int, *, actor: Actor, reason: str) -> SearchRecord:
    """Withdraw a request that is pending or authorised but not yet run and documented: the
    officer themself, or whoever may decide on it."""
    if not reason.strip():
        raise ValidationError({"reason": "say why the search is cancelled"})
    search = _lock(search_id)
    if actor.account_id != search.officer_id:
        _require_decider(actor, search)
    if search.status not in {SearchStatus.PENDING_APPROVAL, SearchStatus.AUTHORISED}:
        raise ValidationError({"search": f"search {search.pk} is {search.status}; cannot cancel"})
    search.status = SearchStatus.CANCELLED.value
    search.cancelled_at = timezone.now()
    search.cancel_reason = reason.strip()
    search.save(update_fields=["status", "cancelled_at", "cancel_reason"])
    _append(LedgerEventType.SEARCH_CANCELLED, search, actor, personal={"reason": reason.strip()})
    return search


# --------------------------------------------------------------------------- the outcome


def _outcome_problems(
    search: SearchRecord, outcome: SearchOutcome, now: datetime, errors: dict[str, str]
) -> list[Vetting]:
    """Check ``outcome`` for ``search``, adding problems to ``errors``; the vettings."""
    if outcome.searched_at > now:
        errors["searched_at"] = "the search cannot have been run in the future"
    elif outcome.searched_at < search.requested_at:
        errors["searched_at"] = "the search cannot have been run before it was requested"
    vettings: list[Vetting] = []
    for vetting in outcome.vettings:
        vetter = Account.objects.filter(pk=vetting.vetter_id, is_active=True).first()
        if vetter is None:
            errors["vettings"] = f"no active account with id {vetting.vetter_id} to have vetted"
        elif not vetter.may(Permission.REQUEST_SEARCH):
            # Auditors and oversight read the records; they take no part in investigations.
            errors["vettings"] = f"{vetter.username} ({vetter.role}) does not vet search results"
        result = _enum(VettingResult, vetting.result, "vettings", errors)
        if result is not None:
            vettings.append(Vetting(vetting.vetter_id, result))
    facts = OutcomeFacts(
        officer_id=search.officer_id,
        candidates_returned=outcome.candidates_returned,
        vettings=tuple(vettings),
        lead_derived=outcome.lead_derived,
        further_action=outcome.further_action,
    )
    for name, problem in outcome_errors(facts, search.policy.facts()).items():
        errors.setdefault(name, problem)
    return vettings


@transaction.atomic
def do_document_outcome(search_id: int, outcome: SearchOutcome, *, actor: Actor) -> SearchRecord:
    """Record what an authorised search returned, who vetted the candidates and how, whether
    a lead was derived and what followed. Once only, by the officer who ran it."""
    require(actor, Permission.REQUEST_SEARCH)
    search = _lock(search_id)
    if actor.account_id != search.officer_id:
        raise PermissionDenied("only the officer who ran the search documents its outcome")
    if search.status == SearchStatus.DOCUMENTED:
        when = timezone.localtime(search.documented_at) if search.documented_at else None
        raise ValidationError(
            {"search": f"the outcome of search {search.pk} was already documented on {when:%F}"}
        )
    if search.status != SearchStatus.AUTHORISED:
        raise ValidationError(
            {
                "search": f"search {search.pk} is {search.status}; only an authorised search has "
                "an outcome to document"
            }
        )
    now = timezone.now()
    errors: dict[str, str] = {}
    vettings = _outcome_problems(search, outcome, now, errors)
    if errors:
        raise ValidationError(errors)
    search.status = SearchStatus.DOCUMENTED.value
    search.searched_at = outcome.searched_at
    search.candidates_returned = outcome.candidates_returned
    search.lead_derived = outcome.lead_derived
    search.further_action = outcome.further_action.strip()
    search.documented_at = now
    search.save(
        update_fields=[
            "status",
            "searched_at",
            "candidates_returned",
            "lead_derived",
            "further_action",
            "documented_at",
        ]
    )
    for vetting in outcome.vettings:
        SearchVetting(
            search=search,
            vetter_id=vetting.vetter_id,
            result=vetting.result,
            notes=vetting.notes.strip(),
            recorded_at=now,
        ).save(force_insert=True)
    today = timezone.localdate()
    due = search.documentation_due
    personal = {"further_action": search.further_action}
    for index, vetting in enumerate(outcome.vettings):
        if vetting.notes.strip():
            personal[f"vetting_{index}_notes"] = vetting.notes.strip()
    _append(
        LedgerEventType.SEARCH_OUTCOME_DOCUMENTED,
        search,
        actor,
        data={
            "candidates_returned": search.candidates_returned,
            "vettings": [{"vetter": v.vetter_id, "result": v.result.value} for v in vettings],
            "lead_derived": search.lead_derived,
            "searched_before_authorisation": bool(
                search.authorised_at and outcome.searched_at < search.authorised_at
            ),
            "documentation_due": due.isoformat() if due else None,
            "late": bool(due and today > due),
        },
        personal=personal,
    )
    return search


@transaction.atomic
def do_record_roi_number(search_id: int, roi_number: str, *, actor: Actor) -> SearchRecord:
    """Record the report-of-investigation number once the report is written."""
    search = _lock(search_id)
    if actor.account_id != search.officer_id:
        require(actor, Permission.DECIDE_SEARCH)
        require_scope(actor, search.officer)
    if problem := _number_error(roi_number, "report-of-investigation number"):
        raise ValidationError({"roi_number": problem})
    if search.status not in {SearchStatus.AUTHORISED, SearchStatus.DOCUMENTED}:
        raise ValidationError(
            {"search": f"search {search.pk} is {search.status}; it has no report"}
        )
    if search.roi_number:
        raise ValidationError({"roi_number": f"search {search.pk} already has its ROI number"})
    search.roi_number = roi_number.strip()
    search.save(update_fields=["roi_number"])
    _append(
        LedgerEventType.SEARCH_ROI_RECORDED,
        search,
        actor,
        personal={"roi_number": search.roi_number},
    )
    return search


# --------------------------------------------------------------------------- past searches

PAST_LIMIT_DAYS = 3 * 365


@dataclass(frozen=True)
class PastDecision:
    """Who decided a past request the policy sent for approval: ``approved_by`` or
    ``refused_by`` (with ``reason``), the officer's supervisor or an administrator. Leave
    both empty when the policy itself authorised or refused the request."""

    approved_by: int | None = None
    refused_by: int | None = None
    reason: str = ""


def _past_time_problems(
    requested_at: datetime, source: str, now: datetime, errors: dict[str, str]
) -> None:
    """A past request is dated in the last :data:`PAST_LIMIT_DAYS` and has a source."""
    if not source.strip():
        errors["source"] = "say where the search was transcribed from"
    if timezone.is_naive(requested_at):
        errors["requested_at"] = "give the time with its time zone"
    elif requested_at > now:
        errors["requested_at"] = "a past search cannot have been requested in the future"
    elif requested_at < now - timedelta(days=PAST_LIMIT_DAYS):
        errors["requested_at"] = f"only searches of the last {PAST_LIMIT_DAYS} days are entered"


def _past_decider(
    decision: PastDecision, verdict: PolicyDecision, officer: Account, errors: dict[str, str]
) -> int | None:
    """Who decided a past request, checked against what the policy asked for."""
    decider_id = decision.approved_by or decision.refused_by
    if decision.approved_by and decision.refused_by:
        errors["decision"] = "a request is either approved or refused, not both"
    elif verdict.verdict is Verdict.NEEDS_APPROVAL:
        if decider_id is None:
            errors["decision"] = "the policy asks for approval: say who approved or refused it"
        else:
            decider = Account.objects.filter(pk=decider_id).first()
            if (
                decider is None
                or decider.pk == officer.pk
                or not (decider.role == Role.ADMINISTRATOR or decider.pk == officer.supervisor_id)
            ):
                errors["decision"] = (
                    "only the officer's supervisor or an administrator decided, never the officer"
                )
            elif decision.refused_by and not decision.reason.strip():
                errors["decision"] = "give the reason the request was refused"
    elif decider_id is not None:
        errors["decision"] = f"the policy decided this request itself ({verdict.verdict.value})"
    return decider_id


@transaction.atomic
def do_enter_past_search(
    request: SearchRequest,
    *,
    officer_id: int,
    requested_at: datetime,
    outcome: SearchOutcome | None,
    decision: PastDecision,
    actor: Actor,
    source: str,
) -> SearchRecord:
    """Transcribe a search run before the agency used searchledger (from a paper log or a
    case file), as ``officer_id`` requested it at ``requested_at``.

    The request is checked as a live one and decided by the policy in force *today* for the
    officer's unit and the system, with the access rule on today's grant facts (the grant
    records do not say reliably what stood on a past day). The record's own times follow
    ``requested_at`` (authorised then, documentation due from that day, so an undocumented
    past search is overdue at once); it is marked ``entered_after_the_fact``. One ledger entry
    records it, at the real time of entry, with the original times and the ``source``.
    Raises ``ValidationError`` naming each field, writing nothing; a refusal is returned as
    a record in status ``refused``, not raised."""
    require(actor, Permission.ENTER_PAST_SEARCHES)
    errors: dict[str, str] = {}
    now = timezone.now()
    _past_time_problems(requested_at, source, now, errors)
    officer = (
        Account.objects.select_related("org_unit").filter(pk=officer_id, is_active=True).first()
    )
    if officer is None or not officer.may(Permission.REQUEST_SEARCH):
        errors["officer"] = f"no active account with id {officer_id} that may search"
        raise ValidationError(errors)
    system, purpose, policy, case, facts = _validate_request(request, officer, errors)
    verdict = _decide(officer, system, facts, policy)
    search = _new_record(
        officer=officer,
        system=system,
        purpose=purpose,
        policy=policy,
        case=case,
        facts=facts,
        request=request,
        decision=verdict,
    )
    search.requested_at = requested_at
    search.entered_after_the_fact = True
    search.entered_at = now
    search.entered_from = source.strip()
    decider_id = _past_decider(decision, verdict, officer, errors)
    if decision.approved_by and not errors:
        search.status = SearchStatus.AUTHORISED.value
    elif decision.refused_by and not errors:
        search.status = SearchStatus.REFUSED.value
    if decider_id is not None and not errors:
        search.decided_by_id = decider_id
        search.decided_at = requested_at
        search.decision_note = decision.reason.strip()
    vettings: list[Vetting] = []
    if outcome is not None:
        if search.status != SearchStatus.AUTHORISED and "decision" not in errors:
            errors["outcome"] = f"a {search.status} request has no outcome"
        else:
            vettings = _outcome_problems(search, outcome, now, errors)
    if errors:
        raise ValidationError(errors)
    if search.status == SearchStatus.AUTHORISED:
        search.authorised_at = requested_at
        search.documentation_due = documentation_due(
            timezone.localdate(requested_at), policy.facts()
        )
    if outcome is not None:
        search.status = SearchStatus.DOCUMENTED.value
        search.searched_at = outcome.searched_at
        search.candidates_returned = outcome.candidates_returned
        search.lead_derived = outcome.lead_derived
        search.further_action = outcome.further_action.strip()
        search.documented_at = now
    search.save(force_insert=True)
    for vetting in outcome.vettings if outcome is not None else ():
        SearchVetting(
            search=search,
            vetter_id=vetting.vetter_id,
            result=vetting.result,
            notes=vetting.notes.strip(),
            recorded_at=now,
        ).save(force_insert=True)
    due = search.documentation_due
    _append(
        LedgerEventType.SEARCH_ENTERED_AFTER_THE_FACT,
        search,
        actor,
        data={
            "entered_after_the_fact": True,
            "org_unit": officer.org_unit.code if officer.org_unit else None,
            "purpose": purpose.code,
            "requested_at": requested_at.isoformat(),
            "verdict": verdict.verdict.value,
            "reasons": [c.value for c in verdict.codes],
            "decided_by": search.decided_by_id,
            "documentation_due": due.isoformat() if due else None,
            "searched_at": search.searched_at.isoformat() if search.searched_at else None,
            "candidates_returned": search.candidates_returned,
            "vettings": [{"vetter": v.vetter_id, "result": v.result.value} for v in vettings],
            "lead_derived": search.lead_derived,
        },
        personal={
            "source": source.strip(),
            "case_number": search.case_number,
            "justification": search.justification,
            "decision_note": search.decision_note,
            "further_action": search.further_action,
        },
    )
    return search


# --------------------------------------------------------------------------- who looked


@transaction.atomic
def do_log_search_view(
    search_id: int, *, actor: Actor, channel: str, probe_image: bool = False
) -> SearchRecord:
    """Record that ``actor`` looked at a search record (or its probe image) through
    ``channel`` ("web" or "api"), and return the record if they may see it.

    Every view by anyone is a ledger entry, so a record cannot be read without leaving a
    trace; the caller shows the record only after this returns.
    """
    if channel not in {"web", "api", "export"}:
        raise ValueError(f"unknown channel {channel!r}")
    search = access_search_by_id(search_id, actor)
    _append(
        LedgerEventType.SEARCH_PROBE_VIEWED if probe_image else LedgerEventType.SEARCH_VIEWED,
        search,
        actor,
        data={"channel": channel},
    )
    return search


@transaction.atomic
def do_log_search_export(search_ids: list[int], *, actor: Actor, channel: str) -> None:
    """Record that ``actor`` exported these search records (e.g. as CSV): one entry for the
    export, naming how many records and committing to which."""
    ids = sorted(search_ids)
    writer.append(
        LedgerEventType.SEARCH_EXPORTED,
        object_type=_SEARCH,
        object_id="export",
        actor=actor,
        data={"channel": channel, "records": len(ids)},
        personal={"record_ids": ",".join(str(i) for i in ids)},
    )
