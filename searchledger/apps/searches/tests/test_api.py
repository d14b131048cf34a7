"""The searches API as an integration uses it: with a personal API token (Bearer) and with a
signed-in session. Bad input is named by field and writes nothing; refusals are recorded
and answered 409 with their id and reasons; records outside the caller's scope are 404."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from searchledger.apps.accounts.models import Account
from searchledger.apps.accounts.security_actions import do_issue_api_token
from searchledger.apps.grants import actions as grants
from searchledger.apps.grants.models import AccessGrant
from searchledger.apps.searches import actions
from searchledger.apps.searches.models import SearchRecord
from searchledger.core.roles import Permission

from .support import REQUEST, actor_for, counts, entries_since, head, make_searcher

pytestmark = pytest.mark.django_db


def body(**change: Any) -> dict[str, Any]:
    """The shared example request as the API's JSON."""
    values = asdict(REQUEST)
    values["system"] = values.pop("system_code")
    values["techniques_tried"] = list(values["techniques_tried"])
    values.update(change)
    return values


def token_client(account: Account, *scopes: Permission) -> Client:
    secret = do_issue_api_token(
        account.pk,
        name="case management",
        scopes=list(scopes) or [Permission.REQUEST_SEARCH, Permission.VIEW_HOME],
        expires_at=timezone.now() + timedelta(days=30),
        actor=actor_for(account),
    ).secret
    return Client(headers={"Authorization": f"Bearer {secret}"})


def session(account: Account) -> Client:
    client = Client()
    client.force_login(account)
    return client


def post(client: Client, path: str, data: dict[str, Any] | None = None):
    return client.post(path, json.dumps(data or {}), content_type="application/json")


def approval_needed(admin_actor) -> None:
    actions.do_set_search_policy(
        org_unit_code="bal-fug",
        system_code="mirs",
        settings=actions.PolicySettings(approval_required=True),
        actor=admin_actor,
        reason="fugitive operations need approval",
    )


def outcome_body(officer: Account, **change: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "searched_at": timezone.now().isoformat(),
        "candidates_returned": 3,
        "lead_derived": True,
        "further_action": "Interview at the address.",
        "vettings": [{"vetter_id": officer.pk, "result": "match_confirmed", "notes": "scar"}],
    }
    values.update(change)
    return values


def test_a_token_requests_a_search_and_posts_its_outcome(sworld):
    officer = sworld["searcher"]
    client = token_client(officer)
    start = head()
    response = post(client, "/api/searches", body())
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["status"] == "authorised"
    assert created["officer"] == "searcher"
    assert created["case_number"] == "BAL-2026-0042"
    assert created["documentation_due"] is not None
    assert created["policy_version"] == 1
    [entry] = entries_since(start)
    assert entry["event"] == "SEARCH_REQUESTED"

    path = f"/api/searches/{created['id']}/outcome"
    response = post(client, path, outcome_body(officer))
    assert response.status_code == 200, response.content
    documented = response.json()
    assert documented["status"] == "documented"
    assert documented["candidates_returned"] == 3
    assert [v["result"] for v in documented["vettings"]] == ["match_confirmed"]

    response = post(client, f"/api/searches/{created['id']}/roi", {"roi_number": "ROI-2026-7"})
    assert response.status_code == 200
    assert response.json()["roi_number"] == "ROI-2026-7"


def test_an_outcome_posted_twice_is_a_conflict_naming_the_search(sworld):
    officer = sworld["searcher"]
    client = token_client(officer)
    search_id = post(client, "/api/searches", body()).json()["id"]
    path = f"/api/searches/{search_id}/outcome"
    assert post(client, path, outcome_body(officer)).status_code == 200
    before = counts()
    response = post(client, path, outcome_body(officer, candidates_returned=9))
    assert response.status_code == 409
    assert response.json()["detail"].startswith("search: the outcome of search")
    assert "already documented" in response.json()["detail"]
    assert counts() == before
    assert SearchRecord.objects.get(pk=search_id).candidates_returned == 3


def test_bad_input_is_named_by_field_and_writes_nothing(sworld):
    client = token_client(sworld["searcher"])
    before = counts()
    response = post(
        client,
        "/api/searches",
        body(purpose="jaywalking", lead_posture="hunch", case_system="bad system!"),
    )
    assert response.status_code == 400
    detail = response.json()["detail"]
    for name in ("purpose:", "lead_posture:", "case_system:"):
        assert name in detail
    assert "jaywalking" in detail
    assert counts() == before


def test_a_body_of_the_wrong_shape_is_named_by_field(sworld):
    client = token_client(sworld["searcher"])
    before = counts()
    response = post(client, "/api/searches", {k: v for k, v in body().items() if k != "purpose"})
    assert response.status_code == 422
    assert [e["loc"][-1] for e in response.json()["detail"]] == ["purpose"]
    search_id = actions.do_request_search(REQUEST, actor=actor_for(sworld["searcher"])).pk
    middle = counts()
    response = post(
        client,
        f"/api/searches/{search_id}/outcome",
        outcome_body(sworld["searcher"], candidates_returned=-1),
    )
    assert response.status_code == 422
    assert [e["loc"][-1] for e in response.json()["detail"]] == ["candidates_returned"]
    assert counts() == middle
    assert middle[1] == before[1] + 1


def test_bad_outcome_is_named_and_half_of_it_is_never_written(sworld, make_account):
    officer = sworld["searcher"]
    auditor = make_account("aud", "auditor")
    client = token_client(officer)
    search_id = post(client, "/api/searches", body()).json()["id"]
    before = counts()
    response = post(
        client,
        f"/api/searches/{search_id}/outcome",
        outcome_body(
            officer,
            vettings=[
                {"vetter_id": officer.pk, "result": "match_confirmed"},
                {"vetter_id": auditor.pk, "result": "no_match"},
            ],
        ),
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("vettings:")
    assert "does not vet" in response.json()["detail"]
    assert counts() == before
    assert SearchRecord.objects.get(pk=search_id).status == "authorised"


def test_a_policy_refusal_is_recorded_and_answered_409_with_its_reasons(sworld):
    client = token_client(sworld["searcher"])
    before = counts()
    response = post(client, "/api/searches", body(purpose="immigration_civil_enforcement"))
    assert response.status_code == 409
    refusal = response.json()
    assert refusal["status"] == "refused"
    assert [r["field"] for r in refusal["reasons"]] == ["purpose"]
    assert refusal["detail"].startswith("purpose:")
    refused = SearchRecord.objects.get(pk=refusal["search_id"])
    assert refused.status == "refused"
    assert counts() == (before[0] + 1, before[1] + 1, before[2])


def test_a_lapsed_grant_is_refused_with_the_access_reasons(sworld, admin_actor):
    lapsed = make_searcher(
        sworld, admin_actor, "lapsed", supervisor=sworld["boss"], trained_days_ago=400
    )
    client = token_client(lapsed)
    start = head()
    response = post(client, "/api/searches", body())
    assert response.status_code == 409
    refusal = response.json()
    [reason] = refusal["reasons"]
    assert reason["field"] == "system"
    assert reason["code"] == "no_access"
    assert reason["message"].startswith("Training lapsed on")
    assert [e["event"] for e in entries_since(start)] == ["SEARCH_REQUEST_REFUSED"]
    # The refused record cannot be given an outcome.
    response = post(
        client,
        f"/api/searches/{refusal['search_id']}/outcome",
        outcome_body(lapsed),
    )
    assert response.status_code == 409
    assert "only an authorised search" in response.json()["detail"]


def test_approval_through_a_session_and_the_access_rule_asked_again(sworld, admin_actor):
    approval_needed(admin_actor)
    officer, boss = sworld["searcher"], sworld["boss"]
    created = post(token_client(officer), "/api/searches", body()).json()
    assert created["status"] == "pending_approval"
    assert created["documentation_due"] is None
    assert [r["code"] for r in created["reasons"]] == ["approval_required"]
    path = f"/api/searches/{created['id']}"

    # Officers do not decide (refused by the operation's auth, as in the matrix).
    response = post(session(officer), f"{path}/approve", {"reason": "mine"})
    assert response.status_code in (401, 403)
    # A supervisor outside the officer's line does not decide either.
    response = post(session(sworld["supervisor"]), f"{path}/approve", {"reason": "not mine"})
    assert response.status_code == 403
    assert "supervisor or an administrator" in response.json()["detail"]
    # A refusal needs its reason.
    before = counts()
    response = post(session(boss), f"{path}/refuse", {"reason": " "})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("reason:")
    assert counts() == before

    # The grant is revoked while the request waits: approval is refused, naming why.
    grant = AccessGrant.objects.get(account=officer, status="approved")
    grants.do_revoke_grant(grant.pk, actor=admin_actor, reason="transferred")
    before = counts()
    response = post(session(boss), f"{path}/approve", {"reason": "open case"})
    assert response.status_code == 400
    assert response.json()["detail"] == "system: The access grant was revoked."
    assert counts() == before

    response = post(session(boss), f"{path}/refuse", {"reason": "grant revoked"})
    assert response.status_code == 200
    assert response.json()["status"] == "refused"
    assert response.json()["decided_by_id"] == boss.pk
    # Deciding again is a conflict with the record's state.
    response = post(session(boss), f"{path}/approve", {})
    assert response.status_code == 409
    assert "not awaiting approval" in response.json()["detail"]


def test_approve_with_a_supervisors_token(sworld, admin_actor):
    approval_needed(admin_actor)
    created = post(token_client(sworld["searcher"]), "/api/searches", body()).json()
    boss = token_client(sworld["boss"], Permission.DECIDE_SEARCH)
    response = post(boss, f"/api/searches/{created['id']}/approve", {"reason": "open case"})
    assert response.status_code == 200
    assert response.json()["status"] == "authorised"
    assert response.json()["documentation_due"] is not None


def test_a_token_without_the_scope_is_refused(sworld):
    client = token_client(sworld["searcher"], Permission.VIEW_HOME)
    before = counts()  # after the token was issued
    response = post(client, "/api/searches", body())
    assert response.status_code == 403
    assert "request_search" in response.json()["detail"]
    assert counts() == before


def test_reading_a_record_is_a_ledger_entry_and_scope_hides_others(sworld, admin_actor):
    officer = sworld["searcher"]
    search = actions.do_request_search(REQUEST, actor=actor_for(officer))
    client = token_client(officer)
    start = head()
    response = client.get(f"/api/searches/{search.pk}")
    assert response.status_code == 200
    assert response.json()["justification"] == REQUEST.justification
    [entry] = entries_since(start)
    assert entry["event"] == "SEARCH_VIEWED"
    assert entry["data"]["channel"] == "api"

    # Outside the reader's scope: 404, and no entry.
    outsiders = [sworld["colleague"], sworld["other_supervisor"]]
    for outsider in outsiders:
        reader = token_client(outsider, Permission.VIEW_HOME, Permission.REQUEST_SEARCH)
        middle = counts()
        assert reader.get(f"/api/searches/{search.pk}").status_code == 404
        assert reader.get("/api/searches").json() == []
        response = post(reader, f"/api/searches/{search.pk}/cancel", {"reason": "not mine"})
        assert response.status_code == 404
        assert counts() == middle
    assert SearchRecord.objects.get(pk=search.pk).status == "authorised"
    assert token_client(officer).get("/api/searches/999999").status_code == 404


def test_the_list_is_scoped_filtered_and_summarised(sworld, admin_actor):
    officer = sworld["searcher"]
    first = actions.do_request_search(REQUEST, actor=actor_for(officer))
    with pytest.raises(actions.SearchRefused):
        actions.do_request_search(
            REQUEST.__class__(**{**asdict(REQUEST), "purpose": "immigration_civil_enforcement"}),
            actor=actor_for(officer),
        )
    start = head()
    rows = session(sworld["boss"]).get("/api/searches").json()
    assert [r["status"] for r in rows] == ["refused", "authorised"]
    assert "case_number" not in rows[0]
    assert head() == start  # summaries only: no record was read in full
    rows = session(sworld["boss"]).get("/api/searches?status=authorised").json()
    assert [r["id"] for r in rows] == [first.pk]
    rows = session(sworld["boss"]).get("/api/searches?purpose=robbery&system=mirs").json()
    assert [r["id"] for r in rows] == [first.pk]
    today = timezone.localdate()
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert session(sworld["boss"]).get(f"/api/searches?requested_from={tomorrow}").json() == []
    assert len(session(sworld["boss"]).get("/api/searches?limit=1").json()) == 1
    response = session(sworld["boss"]).get("/api/searches?status=done")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("status:")
    assert session(sworld["boss"]).get("/api/searches?limit=0").status_code == 400


def test_cancel_needs_a_reason_and_then_withdraws(sworld):
    officer = sworld["searcher"]
    client = token_client(officer)
    search_id = post(client, "/api/searches", body()).json()["id"]
    before = counts()
    response = post(client, f"/api/searches/{search_id}/cancel", {})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("reason:")
    assert counts() == before
    response = post(client, f"/api/searches/{search_id}/cancel", {"reason": "suspect arrested"})
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancel_reason"] == "suspect arrested"


def test_the_roi_number_is_named_when_bad_or_repeated(sworld):
    client = token_client(sworld["searcher"])
    search_id = post(client, "/api/searches", body()).json()["id"]
    response = post(client, f"/api/searches/{search_id}/roi", {"roi_number": "bad number!"})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("roi_number:")
    assert post(client, f"/api/searches/{search_id}/roi", {"roi_number": "R-1"}).status_code == 200
    response = post(client, f"/api/searches/{search_id}/roi", {"roi_number": "R-2"})
    assert response.status_code == 400
    assert "already has its ROI number" in response.json()["detail"]


def test_purposes_are_the_active_offence_categories(sworld, admin_actor):
    actions.do_retire_offence_category("gambling", actor=admin_actor)
    response = token_client(sworld["searcher"], Permission.VIEW_SYSTEMS).get(
        "/api/searches/purposes"
    )
    assert response.status_code == 200
    codes = {p["code"] for p in response.json()}
    assert {"robbery", "immigration_civil_enforcement"} <= codes
    assert "gambling" not in codes
    robbery = next(p for p in response.json() if p["code"] == "robbery")
    assert robbery == {
        "code": "robbery",
        "label": "Robbery",
        "group": "nibrs_a",
        "nibrs_codes": "120",
    }
