"""do_reconcile on a real database and real event files: what it stores, the findings it
raises (once), the ledger entry it appends (no personal data in clear), who may run it."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from searchledger.apps.findings.models import Finding
from searchledger.apps.ledger.models import LedgerEntry
from searchledger.apps.reconciliation.actions import default_params, do_reconcile
from searchledger.apps.reconciliation.models import Discrepancy, ReconciliationRun
from searchledger.apps.searches import actions as searches
from searchledger.apps.searches.tests.support import REQUEST, actor_for
from searchledger.core.actor import Actor
from searchledger.core.reconciliation import digest as digest_of
from searchledger.core.roles import Role

pytestmark = pytest.mark.django_db

# Every hour of every day is business hours: the test must not depend on the clock.
ALWAYS_OPEN = replace(
    default_params(),
    business_start_hour=0,
    business_end_hour=24,
    business_days=(1, 2, 3, 4, 5, 6, 7),
)


@pytest.fixture
def scene(sworld, import_log, admin_actor):
    """The searcher's authorised search A, seen in the log 5 minutes earlier under another
    spelling of its case; the boss's authorised search B, never seen in the log; an
    undocumented search by the searcher two hours before A; an unknown account's two
    searches; and a log-in by the boss (not a search)."""
    a = searches.do_request_search(REQUEST, actor=actor_for(sworld["searcher"]))
    b = searches.do_request_search(
        replace(REQUEST, case_number="BAL-2026-0077"), actor=actor_for(sworld["boss"])
    )
    ta = a.authorised_at
    assert ta is not None
    rows = [
        ("searcher-x", ta - timedelta(minutes=5), "search", "Q1", "bal 2026 0042"),
        ("searcher-x", ta - timedelta(hours=2), "search", "Q2", ""),
        ("ghost", ta - timedelta(hours=1), "search", "Q3", ""),
        ("boss-x", ta - timedelta(hours=3), "login", "", ""),
        ("ghost", ta + timedelta(minutes=10), "search", "Q4", ""),
    ]
    log = import_log(rows, {"searcher-x": sworld["searcher"].pk, "boss-x": sworld["boss"].pk})
    return {**sworld, "a": a, "b": b, "log": log}


def _period():
    today = timezone.localdate()
    return {"start": today - timedelta(days=1), "end": today + timedelta(days=1)}


def test_a_run_stores_discrepancies_raises_findings_and_appends_one_entry(scene, admin_actor):
    auditor = Actor(account_id=admin_actor.account_id, role=Role.AUDITOR)
    before = LedgerEntry.objects.count()
    run = do_reconcile("mirs", params=ALWAYS_OPEN, actor=auditor, **_period())

    assert run.counts["undocumented_search"] == 1
    assert run.counts["unknown_account"] == 1
    assert run.counts["no_external_event"] == 1
    assert run.total == 3
    assert run.imports == [{"id": scene["log"].pk, "sha256": scene["log"].sha256}]
    rows = {d.kind: d for d in Discrepancy.objects.filter(run=run)}
    found = {kind: d.finding for kind, d in rows.items() if d.finding is not None}
    assert set(found) == set(rows)
    undocumented = rows["undocumented_search"]
    assert undocumented.person_id == scene["searcher"].pk
    assert (undocumented.external_account, undocumented.line) == ("searcher-x", 2)
    assert undocumented.log_import_id == scene["log"].pk
    assert rows["no_external_event"].search_id == scene["b"].pk
    assert rows["unknown_account"].detail["count"] == 2
    # Findings: routed to the subject's supervisor; the unknown account to nobody.
    assert found["undocumented_search"].subject_id == scene["searcher"].pk
    assert found["undocumented_search"].owner_id == scene["boss"].pk
    assert found["undocumented_search"].severity == "high"
    assert found["unknown_account"].owner_id is None
    assert found["no_external_event"].search_id == scene["b"].pk

    entries = list(LedgerEntry.objects.filter(seq__gte=before).order_by("seq"))
    bodies = [json.loads(e.body) for e in entries]
    assert [b["event"] for b in bodies] == ["FINDING_RAISED"] * 3 + ["RECON_RUN_COMPLETED"]
    last = bodies[-1]
    assert last["data"]["digest"] == run.digest
    assert last["data"]["imports"] == [scene["log"].sha256]
    assert last["data"]["counts"] == run.counts
    for body in (e.body for e in entries):
        for personal in ("searcher-x", "ghost", "BAL-2026", "searcher"):
            assert personal not in body


def test_a_rerun_over_the_same_data_raises_nothing_new(scene, admin_actor):
    first = do_reconcile("mirs", params=ALWAYS_OPEN, actor=admin_actor, **_period())
    findings = Finding.objects.count()
    second = do_reconcile("mirs", params=ALWAYS_OPEN, actor=admin_actor, **_period())
    assert second.digest == first.digest
    assert Finding.objects.count() == findings
    assert sorted(second.discrepancies.values_list("finding", flat=True)) == sorted(
        first.discrepancies.values_list("finding", flat=True)
    )
    entry = LedgerEntry.objects.order_by("-seq")[0]
    assert json.loads(entry.body)["data"]["findings_raised"] == 0


def test_the_digest_is_the_canonical_lists(scene, admin_actor):
    from searchledger.apps.reconciliation.engine import EventFile, read_events  # noqa: PLC0415

    run = do_reconcile("mirs", params=ALWAYS_OPEN, actor=admin_actor, **_period())
    assert len(read_events([EventFile(scene["log"].sha256, scene["log"].parquet_path)])) == 5
    assert run.digest != digest_of([])


def test_a_missing_event_file_is_refused_and_nothing_is_written(scene, admin_actor):
    from pathlib import Path  # noqa: PLC0415

    Path(scene["log"].parquet_path).unlink()
    before = LedgerEntry.objects.count()
    with pytest.raises(ValidationError) as refused:
        do_reconcile("mirs", params=ALWAYS_OPEN, actor=admin_actor, **_period())
    assert "cannot be read" in refused.value.message_dict["system"][0]
    assert LedgerEntry.objects.count() == before
    assert ReconciliationRun.objects.count() == 0


def test_only_auditors_and_administrators_reconcile(scene, sworld):
    before = (LedgerEntry.objects.count(), ReconciliationRun.objects.count())
    for person in (sworld["searcher"], sworld["boss"]):
        with pytest.raises(PermissionDenied):
            do_reconcile("mirs", actor=actor_for(person), **_period())
    assert (LedgerEntry.objects.count(), ReconciliationRun.objects.count()) == before


def test_bad_requests_are_refused_with_reasons(sworld, admin_actor):
    today = timezone.localdate()
    with pytest.raises(ValidationError) as refused:
        do_reconcile("nope", start=today, end=today - timedelta(days=1), actor=admin_actor)
    assert set(refused.value.message_dict) == {"system", "end"}
    with pytest.raises(ValidationError) as refused:
        do_reconcile("mirs", start=today, end=today, actor=admin_actor)  # nothing imported
    assert "covers the period" in refused.value.message_dict["system"][0]
    with pytest.raises(ValidationError) as refused:
        do_reconcile(
            "mirs",
            start=today,
            end=today,
            params=replace(ALWAYS_OPEN, tolerance_minutes=-1),
            actor=admin_actor,
        )
    assert "tolerance" in refused.value.message_dict["params"][0]
    assert ReconciliationRun.objects.count() == 0
