"""The JSON API against its own OpenAPI schema, with schemathesis: every operation is
called with requests generated from the schema (valid ones and, in negative mode, ones
that break it), in process through the production WSGI application, and every answer must
be no server error, a status code the operation documents, a body that fits the
documented schema and the documented content type.

Three callers: an administrator's personal token (every scope; reaches every operation),
an officer's token (the narrowest role; many operations answer 403 or an empty list) and
nobody (every answer must be 401, whatever the request). The data behind them is the
searches tests' field office with an authorised and a pending search, a grant awaiting a
decision and a signed checkpoint, so that small generated ids find real records.

The number of examples per operation is small so the suite stays quick; a longer run by
hand is described in docs/reliability.md (``SEARCHLEDGER_SCHEMATHESIS_EXAMPLES``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from django.test import Client
from django.urls import Resolver404, resolve
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from searchledger.api.api import api
from searchledger.apps.accounts import tokens
from searchledger.apps.accounts.models import Account
from searchledger.apps.accounts.security_actions import do_issue_api_token
from searchledger.apps.grants import actions as grants
from searchledger.apps.grants.tests.conftest import world  # noqa: F401  # the shared fixture
from searchledger.apps.ledger.checkpoints import sign_checkpoint_if_grown
from searchledger.apps.searches import actions as searches
from searchledger.apps.searches.tests.conftest import sworld  # noqa: F401  # the shared fixture
from searchledger.apps.searches.tests.support import REQUEST, actor_for
from searchledger.config.wsgi import application
from searchledger.core.roles import Role

# Production serves HTTPS only (plain HTTP is redirected).
BASE_URL = "https://localhost"
EXAMPLES = int(os.environ.get("SEARCHLEDGER_SCHEMATHESIS_EXAMPLES", "8"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
]

schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
schema.app = application
schema.config.generation.update(max_examples=EXAMPLES)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def one_connection() -> Iterator[None]:
    """Keep the test's database connection open across requests, as Django's test client
    does: the WSGI handler would otherwise close it at the end of each request, and with it
    the test's transaction."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _bearer(account: Account) -> dict[str, str]:
    secret = do_issue_api_token(
        account.pk,
        name="schemathesis",
        scopes=list(tokens.token_scopes_for(Role(account.role))),
        expires_at=timezone.now() + timedelta(days=1),
        actor=actor_for(account),
    ).secret
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def callers(sworld, admin, admin_actor) -> dict[str, dict[str, str]]:  # noqa: F811
    """Records for the generated ids to find, and each caller's headers."""
    searcher = sworld["searcher"]
    searches.do_request_search(REQUEST, actor=actor_for(searcher))
    searches.do_set_search_policy(
        org_unit_code="bal-fug",
        system_code="mirs",
        settings=searches.PolicySettings(approval_required=True),
        actor=admin_actor,
        reason="approval from now on",
    )
    searches.do_request_search(REQUEST, actor=actor_for(searcher))
    today = timezone.localdate()
    grants.do_request_grant(
        account_id=sworld["officer"].pk,
        system_code="mirs",
        job_function="Investigator",
        justification="Identify suspects from surveillance stills.",
        starts_on=today,
        expires_on=today + timedelta(days=90),
        actor=admin_actor,
    )
    sign_checkpoint_if_grown()
    return {"administrator": _bearer(admin), "officer": _bearer(searcher)}


_SETTINGS = settings(
    deadline=None,
    suppress_health_check=list(HealthCheck),
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
)


@schema.parametrize()
@_SETTINGS
def test_an_administrator_gets_no_server_error_and_only_documented_answers(
    case: Any, callers: dict[str, dict[str, str]]
) -> None:
    """An administrator's token reaches every operation."""
    case.call_and_validate(BASE_URL, headers=callers["administrator"], checks=CHECKS)


@schema.parametrize()
@_SETTINGS
def test_an_officer_gets_no_server_error_and_only_documented_answers(
    case: Any, callers: dict[str, dict[str, str]]
) -> None:
    """An officer's token: the same checks for the role with the fewest permissions."""
    case.call_and_validate(BASE_URL, headers=callers["officer"], checks=CHECKS)


@schema.parametrize()
@_SETTINGS
def test_nobody_gets_anything_but_401(case: Any, admin) -> None:
    """Without a token or a valid session every operation answers 401, whatever else is
    wrong with the request (authentication comes before the input is read); never data."""
    response = case.call_and_validate(BASE_URL, checks=CHECKS)
    if case.method.upper() != case.operation.method.upper():
        return  # a probe of a method the path does not have: 405, checked above
    try:
        resolve(case.formatted_path)
    except Resolver404:
        assert response.status_code == 404  # e.g. /api/searches/abc: no such route
        return
    if response.status_code == 403:
        # A session cookie on a write without Django's CSRF token is refused before it is read.
        assert response.json() == {"detail": "CSRF check Failed"}
        return
    assert response.status_code == 401, (case.method, case.formatted_path, response.text)


def test_every_operation_documents_its_refusals() -> None:
    """Every operation documents 401 and 403 (every one authenticates), so a new operation
    cannot forget them; the generated tests above check every other answer."""
    paths = api.get_openapi_schema()["paths"]
    for path, methods in paths.items():
        for method, operation in methods.items():
            answers = {str(code) for code in operation["responses"]}
            assert {"401", "403"} <= answers, (method, path)


def test_a_path_under_the_api_that_no_route_matches_answers_json(client) -> None:
    """``/api/searches/abc`` matches no route (ids are integers): the API's JSON 404, not
    the site's HTML page; elsewhere the HTML page stays."""
    response = client.get("/api/searches/abc", secure=True)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}
    page = client.get("/no-such-page/", secure=True)
    assert page.status_code == 404
    assert page["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("path", ["/api/searches", "/api/findings"])
@pytest.mark.parametrize("offset", [2**31, 2**63, 10**20])
def test_a_huge_offset_is_refused_by_name_not_a_server_error(
    callers: dict[str, dict[str, str]], path: str, offset: int
) -> None:
    """Found by the schemathesis CLI against the served app: an offset past 2**63 reached
    the database as a number it refused, a 500."""
    client = Client(headers=callers["administrator"])
    response = client.get(path, {"offset": offset}, secure=True)
    assert response.status_code == 400
    assert response.json() == {"detail": "offset: at most 2,147,483,647"}
