"""Grant pages and the API, as seen from inside and outside a supervisor's unit."""

from __future__ import annotations

import pytest
from django.test import Client

from searchledger.apps.grants.models import AccessGrant
from searchledger.apps.ledger.models import LedgerEntry

from .support import actor_for, request

pytestmark = pytest.mark.django_db


def client_for(account) -> Client:
    client = Client()
    client.force_login(account)
    return client


def test_supervisor_of_another_unit_sees_and_decides_nothing(world):
    grant = request(world, actor_for(world["officer"]))
    outsider = client_for(world["other_supervisor"])
    before = LedgerEntry.objects.count()
    assert outsider.get(f"/grants/{grant.pk}/").status_code == 404
    assert outsider.get(f"/grants/people/{world['officer'].pk}/").status_code == 404
    assert outsider.post(f"/grants/{grant.pk}/approve/", {"reason": "x"}).status_code == 404
    assert "off" not in outsider.get("/grants/").content.decode().split("<tbody>")[1]
    api = outsider.get(f"/api/access/check?account_id={world['officer'].pk}&system=mirs")
    assert api.status_code == 404
    assert outsider.post(
        f"/api/grants/{grant.pk}/approve", {"reason": "x"}, content_type="application/json"
    ).status_code in {403, 404}
    assert outsider.get("/api/grants").json() == []
    assert LedgerEntry.objects.count() == before
    assert AccessGrant.objects.get(pk=grant.pk).status == "requested"


def test_own_supervisor_approves_through_the_page_and_the_api(world):
    first = request(world, actor_for(world["officer"]))
    supervisor = client_for(world["supervisor"])
    page = supervisor.get(f"/grants/{first.pk}/").content.decode()
    assert "Approve" in page
    response = supervisor.post(f"/grants/{first.pk}/approve/", {"reason": "needed"})
    assert response.status_code == 302
    assert AccessGrant.objects.get(pk=first.pk).status == "approved"
    second = request(world, actor_for(world["colleague"]), account=world["colleague"])
    response = supervisor.post(
        f"/api/grants/{second.pk}/approve", {"reason": "ok"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "approved"


def test_officer_cannot_approve_their_own_request(world):
    grant = request(world, actor_for(world["officer"]))
    officer = client_for(world["officer"])
    assert "Approve" not in officer.get(f"/grants/{grant.pk}/").content.decode()
    assert officer.post(f"/grants/{grant.pk}/approve/", {"reason": "x"}).status_code == 403
    assert AccessGrant.objects.get(pk=grant.pk).status == "requested"


def test_api_request_with_bad_input_names_the_field(world):
    officer = client_for(world["officer"])
    before = LedgerEntry.objects.count()
    response = officer.post(
        "/api/grants",
        {
            "account_id": world["officer"].pk,
            "system": "nope",
            "job_function": "Officer",
            "justification": "short",
            "starts_on": "2026-01-01",
            "expires_on": "2025-01-01",
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "system: no system with code 'nope'" in detail
    assert "justification" in detail
    assert "expires_on" in detail
    malformed = officer.post("/api/grants", {"account_id": "x"}, content_type="application/json")
    assert malformed.status_code == 422
    assert LedgerEntry.objects.count() == before


def test_counts_page_and_api_agree(world):
    supervisor = client_for(world["supervisor"])
    page = supervisor.get("/grants/access/")
    assert page.status_code == 200
    counts = {row["system"]: row for row in supervisor.get("/api/access/counts").json()}
    assert counts["mirs"]["in_force"] == 0
    assert counts["mirs"]["awaiting_decision"] == 0
    request(world, actor_for(world["officer"]))
    counts = {row["system"]: row for row in supervisor.get("/api/access/counts").json()}
    assert counts["mirs"]["awaiting_decision"] == 1
