"""Search endpoints, for integrations: a case-management system or a search tool requests a
search for the officer whose token or session it uses, a supervisor decides, and the
officer's tool posts the outcome.

Answers:

* ``201`` with the record when a request is authorised or waits for approval;
* ``409`` with :class:`SearchRefusalOut` when the access rule or the search policy refuses
  a request. The refusal *is* recorded (the record, in status ``refused``, and its ledger
  entry), so the answer names the record's id and every reason, each with its field;
* ``409`` when an operation conflicts with the record's state (an outcome posted twice, a
  decision on a search that is not pending, an ROI number recorded twice), naming it;
* ``400`` naming each field of malformed input (nothing is written); ``422`` when the
  body does not even have the schema's shape (ninja's answer, naming each field);
* ``403`` when the person may not do this to this record (e.g. deciding their own
  request); ``404`` for a record outside the caller's scope, as if it did not exist.

Reading a record (``GET /searches/{id}``) is itself a ledger entry; the list returns
summaries only (no case numbers or free text), so that every full read leaves a trace.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from searchledger.api.auth import allow
from searchledger.api.checks import check_choice, check_page
from searchledger.api.schemas import answers
from searchledger.apps.searches import actions, selectors
from searchledger.apps.searches.models import OffenceCategory, SearchRecord
from searchledger.apps.web.permissions import actor_from_request
from searchledger.core.roles import Permission
from searchledger.core.searches import SearchStatus

__all__ = ["router"]

router = Router(tags=["searches"])

_LIST_LIMIT_MAX = 500


# --------------------------------------------------------------------------- schemas


class ReasonOut(Schema):
    """One reason for a refusal, or for needing approval."""

    field: str = Field(description="The request field the reason is about.")
    code: str = Field(description="A stable code for the reason (core.searches.RefusalCode).")
    message: str = Field(description="The reason in words, for the officer.")


class VettingOut(Schema):
    """One person's review of the candidates."""

    vetter_id: int
    result: str = Field(description="match_confirmed, no_match or inconclusive.")
    recorded_at: datetime


class SearchSummaryOut(Schema):
    """A search record without its case number or free text (the list's rows)."""

    id: int
    officer_id: int
    officer: str = Field(description="The officer's username.")
    system: str = Field(description="The external system's code.")
    purpose: str = Field(description="The offence category's code.")
    status: str = Field(
        description="pending_approval, authorised, refused, documented or cancelled."
    )
    requested_at: datetime
    documentation_due: date | None = Field(
        description="The day the outcome must be documented by, once authorised."
    )
    documented_at: datetime | None


class SearchOut(SearchSummaryOut):
    """A whole search record: the request, the decision and the outcome."""

    org_unit: str | None = Field(description="The officer's unit's code when requested.")
    verdict: str = Field(description="The decision on the request: allow, needs_approval, refuse.")
    reasons: list[ReasonOut] = Field(
        description="Why the request was refused, or why it needed approval."
    )
    policy_id: int
    policy_version: int = Field(description="The version of the policy that decided.")
    justification: str
    case_system: str
    case_number: str
    roi_number: str
    lead_posture: str
    techniques_tried: list[str]
    techniques_notes: str
    probe_source: str
    probe_source_notes: str
    probe_lawfully_obtained: bool
    attested_not_protected: bool
    decided_by_id: int | None
    decided_at: datetime | None
    decision_note: str
    authorised_at: datetime | None
    searched_at: datetime | None
    candidates_returned: int | None
    lead_derived: bool | None
    further_action: str
    vettings: list[VettingOut]
    cancelled_at: datetime | None
    cancel_reason: str


class SearchRefusalOut(Schema):
    """A request refused by the access rule or the policy. The refusal is recorded."""

    detail: str = Field(description="The reasons as one sentence per field.")
    search_id: int = Field(description="The id of the refused search record.")
    status: str = Field(description="Always refused.")
    reasons: list[ReasonOut]


class SearchIn(Schema):
    """A request to run a search, for the officer the token or session belongs to."""

    system: str = Field(description="The external system's code, e.g. mirs.")
    purpose: str = Field(description="An active offence category's code (GET /searches/purposes).")
    case_system: str = Field(description="The case-management system, e.g. ICM or EID/EARM.")
    case_number: str = Field(description="The case number in that system.")
    lead_posture: str = Field(
        description="advances_existing (the case has a lead) or generates_new."
    )
    techniques_tried: list[str] = Field(
        default_factory=list,
        description="Conventional techniques tried first: government_databases, "
        "criminal_history, driver_records_biographical, open_source, fingerprints, "
        "interviews, field_investigation, other.",
    )
    techniques_notes: str = Field("", description="What the techniques found or did not.")
    probe_source: str = Field(
        description="Where the probe image came from: surveillance_still, booking_photo, "
        "social_media or other."
    )
    probe_source_notes: str = Field("", description="Required when probe_source is other.")
    probe_lawfully_obtained: bool = Field(
        description="The officer confirms the probe image was lawfully obtained."
    )
    attested_not_protected: bool = Field(
        description="The officer gives the attestation (core.searches.ATTESTATION_TEXT)."
    )
    justification: str = Field("", description="Why, in words; required for purpose other.")


class ReasonIn(Schema):
    """The reason for a decision or a cancellation."""

    reason: str = Field("", description="Required to refuse or cancel; optional to approve.")


class VettingIn(Schema):
    """One person's review of the candidates."""

    vetter_id: int = Field(description="The account id of the person who vetted.")
    result: str = Field(description="match_confirmed, no_match or inconclusive.")
    notes: str = ""


class OutcomeIn(Schema):
    """What an authorised search returned. Posted once, by the officer who ran it."""

    searched_at: datetime = Field(
        description="When the search was run: not in the future, not before the request."
    )
    candidates_returned: int = Field(ge=0, description="How many candidates came back.")
    lead_derived: bool = Field(description="Whether a vetted candidate became a lead.")
    further_action: str = Field("", description="What followed, or that nothing did (required).")
    vettings: list[VettingIn] = Field(
        default_factory=list, description="Who vetted the candidates and how."
    )


class RoiIn(Schema):
    """The report-of-investigation number, once the report is written."""

    roi_number: str


class PurposeOut(Schema):
    """An active offence category: a purpose a search may be requested for."""

    code: str
    label: str
    group: str = Field(description="nibrs_a, nibrs_b or agency.")
    nibrs_codes: str


# --------------------------------------------------------------------------- helpers


def _reasons(search: SearchRecord) -> list[ReasonOut]:
    return [ReasonOut(**r) for r in search.decision_reasons]


def _summary_fields(search: SearchRecord) -> dict[str, Any]:
    return {
        "id": search.pk,
        "officer_id": search.officer_id,
        "officer": search.officer.username,
        "system": search.system.code,
        "purpose": search.purpose.code,
        "status": search.status,
        "requested_at": search.requested_at,
        "documentation_due": search.documentation_due,
        "documented_at": search.documented_at,
    }


def _search_out(search: SearchRecord) -> SearchOut:
    search.refresh_from_db()
    return SearchOut(
        **_summary_fields(search),
        org_unit=search.org_unit.code if search.org_unit else None,
        verdict=search.verdict,
        reasons=_reasons(search),
        policy_id=search.policy_id,
        policy_version=search.policy_version,
        justification=search.justification,
        case_system=search.case_system,
        case_number=search.case_number,
        roi_number=search.roi_number,
        lead_posture=search.lead_posture,
        techniques_tried=list(search.techniques_tried),
        techniques_notes=search.techniques_notes,
        probe_source=search.probe_source,
        probe_source_notes=search.probe_source_notes,
        probe_lawfully_obtained=search.probe_lawfully_obtained,
        attested_not_protected=search.attested_not_protected,
        decided_by_id=search.decided_by_id,
        decided_at=search.decided_at,
        decision_note=search.decision_note,
        authorised_at=search.authorised_at,
        searched_at=search.searched_at,
        candidates_returned=search.candidates_returned,
        lead_derived=search.lead_derived,
        further_action=search.further_action,
        vettings=[
            VettingOut(vetter_id=v.vetter_id, result=v.result, recorded_at=v.recorded_at)
            for v in search.vettings.all()
        ],
        cancelled_at=search.cancelled_at,
        cancel_reason=search.cancel_reason,
    )


def _detail(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
    return "; ".join(exc.messages)


def _errors(exc: ValidationError) -> HttpError:
    """400 naming each field; 409 when the only problem is the record's state."""
    state_only = hasattr(exc, "error_dict") and set(exc.message_dict) == {"search"}
    return HttpError(409 if state_only else 400, _detail(exc))


def _in_scope(request: HttpRequest, search_id: int) -> None:
    """404 unless the caller may see the record (no hint that it exists otherwise)."""
    try:
        selectors.access_search_by_id(search_id, actor_from_request(request))
    except PermissionDenied as exc:
        raise HttpError(404, f"no search {search_id} among those you may see") from exc


def _act(request: HttpRequest, search_id: int, act: Callable[[], SearchRecord]) -> SearchOut:
    _in_scope(request, search_id)
    try:
        search = act()
    except ValidationError as exc:
        raise _errors(exc) from exc
    except PermissionDenied as exc:
        raise HttpError(403, str(exc)) from exc
    return _search_out(search)


# --------------------------------------------------------------------------- operations

# What an operation on one record answers besides the record.
_DECISION_ANSWERS = answers({200: SearchOut}, 400, 404, 409, 422)


@router.get(
    "/purposes", response=answers({200: list[PurposeOut]}), auth=allow(Permission.VIEW_SYSTEMS)
)
def list_purposes(request: HttpRequest) -> list[PurposeOut]:
    """The active offence categories: the purposes a search may be requested for."""
    return [
        PurposeOut(code=c.code, label=c.label, group=c.group, nibrs_codes=c.nibrs_codes)
        for c in OffenceCategory.objects.filter(active=True)
    ]


@router.post(
    "",
    response=answers({201: SearchOut, 409: SearchRefusalOut}, 400, 422),
    auth=allow(Permission.REQUEST_SEARCH),
)
def request_search(request: HttpRequest, payload: SearchIn) -> Status[SearchOut | SearchRefusalOut]:
    """Request a search for yourself. ``201``: authorised (run it, then post the outcome
    by ``documentation_due``) or ``pending_approval``. ``409``: refused by the access rule
    or the policy; the refusal is recorded and its id and reasons returned. ``400``:
    malformed input, by field; nothing is written."""
    try:
        search = actions.do_request_search(
            actions.SearchRequest(
                system_code=payload.system,
                purpose=payload.purpose,
                case_system=payload.case_system,
                case_number=payload.case_number,
                lead_posture=payload.lead_posture,
                techniques_tried=payload.techniques_tried,
                techniques_notes=payload.techniques_notes,
                probe_source=payload.probe_source,
                probe_source_notes=payload.probe_source_notes,
                probe_lawfully_obtained=payload.probe_lawfully_obtained,
                attested_not_protected=payload.attested_not_protected,
                justification=payload.justification,
            ),
            actor=actor_from_request(request),
        )
    except actions.SearchRefused as exc:
        refused = exc.search
        return Status(
            409,
            SearchRefusalOut(
                detail=_detail(exc),
                search_id=refused.pk,
                status=refused.status,
                reasons=_reasons(refused),
            ),
        )
    except ValidationError as exc:
        raise _errors(exc) from exc
    except PermissionDenied as exc:
        raise HttpError(403, str(exc)) from exc
    return Status(201, _search_out(search))


class SearchQuery(Schema):
    """Filters for the list; empty values do not filter."""

    status: str = Field("", description="One status, e.g. authorised.")
    system: str = Field("", description="A system's code.")
    purpose: str = Field("", description="An offence category's code.")
    officer_id: int | None = Field(None, description="One officer's account id.")
    requested_from: date | None = Field(None, description="Requested on or after this day.")
    requested_to: date | None = Field(None, description="Requested on or before this day.")
    limit: int = Field(100, description=f"At most this many rows (1 to {_LIST_LIMIT_MAX}).")
    offset: int = Field(0, description="Skip this many rows first.")


@router.get(
    "", response=answers({200: list[SearchSummaryOut]}, 400, 422), auth=allow(Permission.VIEW_HOME)
)
def list_searches(request: HttpRequest, query: Query[SearchQuery]) -> list[SearchSummaryOut]:
    """Summaries of the search records you may see (your own; a supervisor's unit; every
    record for administrators, auditors and oversight), newest first, filtered."""
    check_choice("status", query.status, [s.value for s in SearchStatus])
    check_page(query.limit, query.offset, _LIST_LIMIT_MAX)
    found = selectors.list_searches(
        actor_from_request(request),
        selectors.SearchFilters(
            status=query.status,
            system_code=query.system,
            purpose=query.purpose,
            officer_id=query.officer_id,
            requested_from=query.requested_from,
            requested_to=query.requested_to,
        ),
    )
    rows = found[query.offset : query.offset + query.limit]
    return [SearchSummaryOut(**_summary_fields(s)) for s in rows]


@router.get(
    "/{int:search_id}", response=answers({200: SearchOut}, 404), auth=allow(Permission.VIEW_HOME)
)
def get_search(request: HttpRequest, search_id: int) -> SearchOut:
    """One search record within your scope. The read is a ledger entry (channel ``api``)."""
    try:
        search = actions.do_log_search_view(
            search_id, actor=actor_from_request(request), channel="api"
        )
    except PermissionDenied as exc:
        raise HttpError(404, f"no search {search_id} among those you may see") from exc
    return _search_out(search)


@router.post(
    "/{int:search_id}/approve",
    response=_DECISION_ANSWERS,
    auth=allow(Permission.DECIDE_SEARCH),
)
def approve_search(request: HttpRequest, search_id: int, payload: ReasonIn) -> SearchOut:
    """Approve a pending request (the officer's supervisor or an administrator). The
    access rule is asked again: a grant that lapsed while it waited gives ``400`` naming
    ``system`` and every reason."""
    actor = actor_from_request(request)
    return _act(
        request,
        search_id,
        lambda: actions.do_approve_search(search_id, actor=actor, reason=payload.reason),
    )


@router.post(
    "/{int:search_id}/refuse",
    response=_DECISION_ANSWERS,
    auth=allow(Permission.DECIDE_SEARCH),
)
def refuse_search(request: HttpRequest, search_id: int, payload: ReasonIn) -> SearchOut:
    """Refuse a pending request, with the reason the officer is told."""
    actor = actor_from_request(request)
    return _act(
        request,
        search_id,
        lambda: actions.do_refuse_search(search_id, actor=actor, reason=payload.reason),
    )


@router.post(
    "/{int:search_id}/cancel",
    response=_DECISION_ANSWERS,
    auth=allow(Permission.REQUEST_SEARCH),
)
def cancel_search(request: HttpRequest, search_id: int, payload: ReasonIn) -> SearchOut:
    """Withdraw a pending or authorised request: the officer, or whoever may decide on it."""
    actor = actor_from_request(request)
    return _act(
        request,
        search_id,
        lambda: actions.do_cancel_search(search_id, actor=actor, reason=payload.reason),
    )


@router.post(
    "/{int:search_id}/outcome",
    response=_DECISION_ANSWERS,
    auth=allow(Permission.REQUEST_SEARCH),
)
def document_outcome(request: HttpRequest, search_id: int, payload: OutcomeIn) -> SearchOut:
    """Post what an authorised search returned (once; by the officer who ran it). Posting
    again answers ``409`` naming ``search``."""
    actor = actor_from_request(request)
    outcome = actions.SearchOutcome(
        searched_at=payload.searched_at,
        candidates_returned=payload.candidates_returned,
        lead_derived=payload.lead_derived,
        further_action=payload.further_action,
        vettings=[
            actions.VettingInput(vetter_id=v.vetter_id, result=v.result, notes=v.notes)
            for v in payload.vettings
        ],
    )
    return _act(
        request,
        search_id,
        lambda: actions.do_document_outcome(search_id, outcome, actor=actor),
    )


@router.post(
    "/{int:search_id}/roi",
    response=_DECISION_ANSWERS,
    auth=allow(Permission.REQUEST_SEARCH),
)
def record_roi(request: HttpRequest, search_id: int, payload: RoiIn) -> SearchOut:
    """Record the report-of-investigation number (the officer, or a decider in scope)."""
    actor = actor_from_request(request)
    return _act(
        request,
        search_id,
        lambda: actions.do_record_roi_number(search_id, payload.roi_number, actor=actor),
    )
