"""Raising a finding by hand from its page."""

from __future__ import annotations

import pytest
from django.test import Client

from searchledger.apps.findings.models import Finding
from searchledger.apps.searches.tests.support import events_since, head

pytestmark = pytest.mark.django_db


def client_for(account) -> Client:
    client = Client()
    client.force_login(account)
    return client


FORM = {"kind": "misuse", "severity": "high", "summary": "Searched a neighbour's name."}


def test_raising_a_finding_by_hand(fworld):
    boss = client_for(fworld["boss"])
    page = boss.get("/findings/raise/")
    assert page.status_code == 200
    assert b"searcher" in page.content
    assert b"sup2" not in page.content  # outside the boss's scope
    start = head()
    response = boss.post(
        "/findings/raise/", {**FORM, "subject": fworld["searcher"].pk, "system": "mirs"}
    )
    finding = Finding.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/findings/{finding.pk}/"
    assert events_since(start) == ["FINDING_RAISED"]
    assert (finding.source, finding.owner, finding.raised_by) == (
        "review",
        fworld["boss"],
        fworld["boss"],
    )
    assert b"Raise a finding" in boss.get("/findings/").content
    assert b"Raise a finding" not in client_for(fworld["overseer"]).get("/findings/").content


def test_a_bad_finding_by_hand_writes_nothing(fworld):
    boss = client_for(fworld["boss"])
    start = head()
    outside = boss.post("/findings/raise/", {**FORM, "subject": fworld["other_supervisor"].pk})
    assert outside.status_code == 200  # not among the choices
    bad = boss.post("/findings/raise/", {**FORM, "kind": "Not A Slug!"})
    assert bad.status_code == 200
    assert head() == start
    assert client_for(fworld["overseer"]).post("/findings/raise/", FORM).status_code == 403
    assert head() == start
