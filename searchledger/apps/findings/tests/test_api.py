"""``GET /api/findings``: scoped like the finding list, filtered, malformed filters named."""

from __future__ import annotations

from dataclasses import replace

import pytest
from django.test import Client

from .test_actions import draft, raise_as_system

pytestmark = pytest.mark.django_db


def client_for(account) -> Client:
    client = Client()
    client.force_login(account)
    return client


def test_the_list_is_scoped_and_filtered(fworld):
    high, _ = raise_as_system(draft(fworld))
    low, _ = raise_as_system(
        replace(draft(fworld, source_ref="two", severity="low"), system_id=None)
    )
    boss = client_for(fworld["boss"]).get("/api/findings").json()
    assert [f["id"] for f in boss] == [high.pk, low.pk]
    assert boss[0]["system"] == "mirs"
    assert boss[0]["owner_id"] == fworld["boss"].pk
    assert "detail" not in boss[0]
    assert client_for(fworld["other_supervisor"]).get("/api/findings").json() == []
    overseer = client_for(fworld["overseer"])
    assert [f["id"] for f in overseer.get("/api/findings?severity=low").json()] == [low.pk]
    assert [f["id"] for f in overseer.get("/api/findings?system=mirs").json()] == [high.pk]
    assert overseer.get("/api/findings?status=closed").json() == []
    assert len(overseer.get("/api/findings?limit=1").json()) == 1
    assert client_for(fworld["searcher"]).get("/api/findings").status_code == 403


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=gone", "status"),
        ("severity=dire", "severity"),
        ("limit=0", "limit"),
        ("offset=-1", "offset"),
    ],
)
def test_malformed_filters_are_named(fworld, query, field):
    response = client_for(fworld["auditor"]).get(f"/api/findings?{query}")
    assert response.status_code == 400
    assert response.json()["detail"].startswith(f"{field}:")
