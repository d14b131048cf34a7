"""Personal API tokens at the API: ``Authorization: Bearer sl_<prefix>_<secret>``.

A token works only for the API, only while unrevoked, unexpired and its account active,
and only for operations whose permission is both in its scopes and still held by the
account's role."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from searchledger.apps.accounts.actions import do_change_account_role, do_deactivate_account
from searchledger.apps.accounts.models import Account, ApiToken
from searchledger.apps.accounts.security_actions import do_issue_api_token, do_revoke_api_token
from searchledger.apps.accounts.tokens import USE_RECORD_INTERVAL
from searchledger.apps.ledger.models import LedgerEntry
from searchledger.apps.systems.actions import SystemDetails, do_create_system, do_publish_rules
from searchledger.core.actor import Actor
from searchledger.core.roles import Permission, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor(make_account) -> Account:
    return make_account("a.uditor", Role.AUDITOR)


@pytest.fixture
def officer(make_account) -> Account:
    return make_account("o.fficer", Role.OFFICER)


@pytest.fixture
def mirs(admin_actor):
    system = do_create_system(
        "mirs",
        SystemDetails(name="MIRS", owner="State MVA", kind="face_images", access_method="api"),
        actor=admin_actor,
    )
    do_publish_rules(system.pk, text="Search only for open cases.", actor=admin_actor)
    return system


def issue(account: Account, *scopes: Permission, days: int = 30) -> str:
    return do_issue_api_token(
        account.pk,
        name="integration",
        scopes=list(scopes),
        expires_at=timezone.now() + timedelta(days=days),
        actor=Actor(account_id=account.pk, role=Role(account.role)),
    ).secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def token_of(secret: str) -> ApiToken:
    return ApiToken.objects.get(prefix=secret.split("_")[1])


def test_a_scoped_token_reads_the_api(auditor):
    secret = issue(auditor, Permission.VIEW_LEDGER)
    response = Client().get("/api/ledger/head", headers=bearer(secret))
    assert response.status_code == 200
    assert response.json()["size"] == LedgerEntry.objects.count()


def test_no_token_and_no_session_is_401(auditor):
    assert Client().get("/api/ledger/head").status_code == 401


def test_the_operation_permission_must_be_in_the_scopes(auditor):
    secret = issue(auditor, Permission.VIEW_SYSTEMS)
    client = Client()
    assert client.get("/api/systems", headers=bearer(secret)).status_code == 200
    response = client.get("/api/ledger/head", headers=bearer(secret))
    assert response.status_code == 403
    assert response.json() == {"detail": "the token's scopes do not include view_ledger"}


def test_an_expired_token_is_refused(auditor):
    secret = issue(auditor, Permission.VIEW_LEDGER)
    assert Client().get("/api/ledger/head", headers=bearer(secret)).status_code == 200
    ApiToken.objects.filter(pk=token_of(secret).pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = Client().get("/api/ledger/head", headers=bearer(secret))
    assert response.status_code == 401
    assert response.json() == {"detail": "Unauthorized"}


def test_a_revoked_token_is_refused_at_once(auditor):
    secret = issue(auditor, Permission.VIEW_LEDGER)
    client = Client()
    assert client.get("/api/ledger/head", headers=bearer(secret)).status_code == 200
    do_revoke_api_token(token_of(secret).pk, actor=Actor(account_id=auditor.pk, role=Role.AUDITOR))
    assert client.get("/api/ledger/head", headers=bearer(secret)).status_code == 401


def test_a_deactivated_accounts_tokens_stop_working(auditor, admin_actor):
    secret = issue(auditor, Permission.VIEW_LEDGER)
    do_deactivate_account(auditor.pk, actor=admin_actor, reason="left")
    assert Client().get("/api/ledger/head", headers=bearer(secret)).status_code == 401


def test_a_role_downgrade_takes_effect_on_existing_tokens(auditor, admin_actor):
    secret = issue(auditor, Permission.VIEW_LEDGER, Permission.VIEW_SYSTEMS)
    do_change_account_role(auditor.pk, role=Role.OFFICER, actor=admin_actor, reason="moved")
    response = Client().get("/api/ledger/head", headers=bearer(secret))
    assert response.status_code == 403
    assert response.json() == {"detail": "the account's role does not hold view_ledger"}
    # What the new role still holds keeps working.
    assert Client().get("/api/systems", headers=bearer(secret)).status_code == 200


def test_a_token_does_not_open_html_pages(auditor):
    secret = issue(auditor, Permission.VIEW_LEDGER)
    client = Client()
    for page in ["/ledger/", "/", "/accounts/tokens/", "/api/docs"]:
        response = client.get(page, headers=bearer(secret))
        assert response.status_code == 302, page
        assert response["Location"].startswith("/sign-in/"), page


@pytest.mark.parametrize(
    "header",
    [
        "Bearer ",
        "Bearer sl_short_secret",
        "Bearer sl_abcdefgh_" + "x" * 39,
        "Bearer SL_ABCDEFGH_" + "A" * 40,
        "Bearer sl_abcdefgh_" + "a" * 40,  # well formed, but no such token
    ],
)
def test_malformed_or_unknown_tokens_are_401(auditor, header):
    issue(auditor, Permission.VIEW_LEDGER)
    response = Client().get("/api/ledger/head", headers={"Authorization": header})
    assert response.status_code == 401


def test_the_right_prefix_with_a_wrong_secret_is_refused(auditor):
    secret = issue(auditor, Permission.VIEW_LEDGER)
    forged = secret[:-1] + ("a" if secret[-1] != "a" else "b")
    assert Client().get("/api/ledger/head", headers=bearer(forged)).status_code == 401


def test_a_failed_token_does_not_fall_back_to_the_session(auditor):
    client = Client()
    client.force_login(auditor)
    assert client.get("/api/ledger/head").status_code == 200
    response = client.get(
        "/api/ledger/head", headers={"Authorization": "Bearer sl_nothere_" + "a" * 40}
    )
    assert response.status_code == 401


def test_a_token_writes_without_csrf_and_the_ledger_names_its_account(officer, mirs):
    secret = issue(officer, Permission.REQUEST_GRANT)
    today = timezone.localdate()
    payload = {
        "account_id": officer.pk,
        "system": "mirs",
        "job_function": "Investigator",
        "justification": "Open cases need face-image leads.",
        "starts_on": today.isoformat(),
        "expires_on": (today + timedelta(days=30)).isoformat(),
    }
    client = Client(enforce_csrf_checks=True)
    entries = LedgerEntry.objects.count()
    response = client.post(
        "/api/grants", json.dumps(payload), content_type="application/json", headers=bearer(secret)
    )
    assert response.status_code == 201, response.content
    [entry] = [json.loads(e.body) for e in LedgerEntry.objects.filter(seq__gte=entries)]
    assert entry["event"] == "GRANT_REQUESTED"
    assert entry["actor"] == officer.pk


def test_a_session_still_needs_csrf_to_write(officer, mirs):
    client = Client(enforce_csrf_checks=True)
    client.force_login(officer)
    response = client.post("/api/grants", "{}", content_type="application/json")
    assert response.status_code == 403
    assert response.json() == {"detail": "CSRF check Failed"}


def test_last_used_is_recorded_at_most_once_a_minute(auditor):
    secret = issue(auditor, Permission.VIEW_LEDGER)
    client = Client()
    assert token_of(secret).last_used_at is None
    client.get("/api/ledger/head", headers=bearer(secret))
    first = token_of(secret).last_used_at
    assert first is not None
    assert timezone.now() - first < timedelta(seconds=10)
    client.get("/api/ledger/head", headers=bearer(secret))
    assert token_of(secret).last_used_at == first
    # A minute later the next use is recorded.
    earlier = first - USE_RECORD_INTERVAL - timedelta(seconds=1)
    ApiToken.objects.filter(pk=token_of(secret).pk).update(last_used_at=earlier)
    client.get("/api/ledger/head", headers=bearer(secret))
    latest = token_of(secret).last_used_at
    assert latest is not None
    assert latest > first


def test_a_refused_token_is_not_recorded_as_used(auditor):
    secret = issue(auditor, Permission.VIEW_SYSTEMS)
    Client().get("/api/ledger/head", headers=bearer(secret))
    assert token_of(secret).last_used_at is None


def test_using_a_token_appends_nothing_to_the_ledger(auditor):
    secret = issue(auditor, Permission.VIEW_LEDGER)
    entries = LedgerEntry.objects.count()
    Client().get("/api/ledger/head", headers=bearer(secret))
    assert LedgerEntry.objects.count() == entries


def test_the_openapi_schema_offers_both_ways_in(auditor):
    client = Client()
    client.force_login(auditor)
    schema = client.get("/api/openapi.json").json()
    assert set(schema["components"]["securitySchemes"]) >= {
        "PermissionTokenAuth",
        "PermissionSessionAuth",
    }
    assert schema["components"]["securitySchemes"]["PermissionTokenAuth"]["scheme"] == "bearer"
