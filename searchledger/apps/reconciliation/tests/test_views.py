"""The reconciliation pages: the form runs a reconciliation and shows its report, the
report groups discrepancies by kind with links to findings and search records, htmx narrows
it to one kind, and the navigation shows the section to those who may reconcile."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from searchledger.apps.accounts.models import Account
from searchledger.apps.reconciliation.models import ReconciliationRun
from searchledger.apps.searches import actions as searches
from searchledger.apps.searches.tests.support import REQUEST, actor_for

pytestmark = pytest.mark.django_db


def client_for(account: Account) -> Client:
    client = Client()
    client.force_login(account)
    return client


@pytest.fixture
def logged(sworld, import_log):
    """An authorised search by the searcher and a log with an unknown account's search."""
    search = searches.do_request_search(REQUEST, actor=actor_for(sworld["searcher"]))
    at = search.authorised_at
    assert at is not None
    import_log(
        [
            ("searcher-x", at - timedelta(minutes=3), "search", "Q1", ""),
            ("ghost", at - timedelta(minutes=1), "search", "Q2", ""),
        ],
        {"searcher-x": sworld["searcher"].pk},
    )
    return {**sworld, "search": search}


def test_reconcile_from_the_form_and_read_the_report(logged, admin):
    client = client_for(admin)
    today = timezone.localdate()
    page = client.get("/reconciliation/new/")
    assert page.status_code == 200
    assert b'value="mirs"' in page.content
    response = client.post(
        "/reconciliation/new/",
        {"system": "mirs", "start": today - timedelta(days=1), "end": today, "tolerance": 30},
    )
    run = ReconciliationRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/reconciliation/{run.pk}/"
    report = client.get(response["Location"]).content.decode()
    assert run.digest in report
    assert 'data-kind="unknown_account"' in report
    finding = run.discrepancies.get(kind="unknown_account").finding_id
    assert f'href="/findings/{finding}/"' in report
    assert "ghost" in report
    listing = client.get("/reconciliation/").content.decode()
    assert f'href="/reconciliation/{run.pk}/"' in listing
    # htmx narrows the report to one kind.
    narrowed = client.get(
        f"/reconciliation/{run.pk}/?kind=no_external_event", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'data-kind="unknown_account"' not in narrowed
    assert "No discrepancies of this kind" in narrowed


def test_the_form_shows_the_actions_reasons(sworld, admin):
    today = timezone.localdate()
    response = client_for(admin).post(
        "/reconciliation/new/", {"system": "mirs", "start": today, "end": today, "tolerance": 5}
    )
    assert response.status_code == 200
    assert b"covers the period" in response.content
    assert ReconciliationRun.objects.count() == 0


def test_navigation_shows_reconciliation_to_auditors_only(role_clients):
    for role, client in role_clients.items():
        page = client.get("/").content.decode()
        assert ('href="/reconciliation/"' in page) == (role in {"auditor", "administrator"})
