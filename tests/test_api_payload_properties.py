"""Hostile JSON API payloads at the schema layer (issue 7): every request body and list
query schema of the API, given any JSON, validates or raises pydantic's ValidationError,
each error with its location and message (django-ninja answers those 422, naming the
fields); an accepted payload survives a JSON round trip. Status codes for every operation
over HTTP are the schemathesis run's job (searchledger/api/tests/); the atheris target is
``fuzz/fuzz_api_payloads.py``.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ninja import Schema
from pydantic import ValidationError

from searchledger.api.routers.access import DecisionIn, GrantIn
from searchledger.api.routers.findings import FindingQuery
from searchledger.api.routers.searches import (
    OutcomeIn,
    ReasonIn,
    RoiIn,
    SearchIn,
    SearchQuery,
    VettingIn,
)

VALID: dict[type[Schema], dict[str, Any]] = {
    GrantIn: {
        "account_id": 3,
        "system": "mirs",
        "job_function": "analyst",
        "justification": "assigned fugitive cases need it",
        "starts_on": "2025-01-01",
        "expires_on": "2026-01-01",
    },
    DecisionIn: {"reason": "ok", "expires_on": None},
    SearchIn: {
        "system": "mirs",
        "purpose": "homicide",
        "case_system": "ICM",
        "case_number": "HS-2025-0001",
        "lead_posture": "generates_new",
        "techniques_tried": ["open_source"],
        "probe_source": "surveillance_still",
        "probe_lawfully_obtained": True,
        "attested_not_protected": True,
    },
    ReasonIn: {"reason": "no case number"},
    VettingIn: {"vetter_id": 2, "result": "no_match"},
    OutcomeIn: {
        "searched_at": "2025-01-02T03:04:05Z",
        "candidates_returned": 2,
        "lead_derived": False,
        "further_action": "none",
        "vettings": [{"vetter_id": 2, "result": "no_match"}],
    },
    RoiIn: {"roi_number": "ROI-1"},
    SearchQuery: {"status": "authorised", "limit": 10, "requested_from": "2025-01-01"},
    FindingQuery: {"status": "open", "overdue": True},
}
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**40)
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["2025-02-30", "9999-12-31T23:59:60Z", "", "0", "-1", "1e400"]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=10,
)


@st.composite
def _payloads(draw: st.DrawFn) -> tuple[type[Schema], Any]:
    """A schema and either any JSON, or its valid payload with some fields replaced."""
    schema = draw(st.sampled_from(sorted(VALID, key=lambda s: s.__name__)))
    if draw(st.booleans()):
        return schema, draw(_JSON)
    payload = dict(VALID[schema])
    for name in draw(st.lists(st.sampled_from(sorted(payload)), max_size=3, unique=True)):
        if draw(st.booleans()):
            payload[name] = draw(_JSON)
        else:
            del payload[name]
    return schema, payload


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_payloads())
def test_a_payload_validates_or_every_error_names_its_field(case: tuple[type[Schema], Any]):
    schema, payload = case
    try:
        value = schema.model_validate(payload)
    except ValidationError as exc:
        errors = exc.errors()
        assert errors
        assert all(error["msg"] and isinstance(error["loc"], tuple) for error in errors)
    else:
        assert schema.model_validate(json.loads(value.model_dump_json())) == value


def test_every_valid_example_is_valid():
    for schema, payload in VALID.items():
        schema.model_validate(payload)
