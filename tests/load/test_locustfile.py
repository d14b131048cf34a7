"""The load scenario's locustfile, run for eight seconds with five users against a live
server: every request answers as the scenario expects (0 failures), and every write the
users saw acknowledged is in the ledger. Keeps bench/load/locustfile.py working as the API
changes; the 50-user, 60-second figures come from bench/load_scenario.py, not from here.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from searchledger.apps.accounts.actions import (
    do_assign_account,
    do_create_account,
    do_create_org_unit,
)
from searchledger.apps.grants.tests.conftest import world  # noqa: F401  # the shared fixture
from searchledger.apps.ledger.models import LedgerEntry
from searchledger.apps.searches import actions as searches
from searchledger.apps.searches.tests.support import make_searcher
from searchledger.core.roles import Role

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "load-smoke-password-2026"  # a test account's

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _scenario_module():
    spec = importlib.util.spec_from_file_location("load_scenario", ROOT / "bench/load_scenario.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def load_world(world, admin_actor):  # noqa: F811  # uses the imported fixture
    """A supervisor who signs in with a password; an officer whose unit's policy asks the
    supervisor's approval for MIRS, and one governed by the agency policy, which does not."""
    do_create_org_unit(
        code="bal-fug",
        name="Fugitive operations",
        kind="unit",
        parent_code="bal",
        actor=admin_actor,
    )
    boss = do_create_account(
        username="boss", role=Role.SUPERVISOR, password=PASSWORD, actor=admin_actor
    )
    do_assign_account(boss.pk, org_unit_code="bal-fug", supervisor_id=None, actor=admin_actor)
    make_searcher(world, admin_actor, "needs-approval", unit="bal-fug", supervisor=boss)
    make_searcher(world, admin_actor, "authorised", unit="bal", supervisor=boss)
    searches.do_seed_offence_categories(actor=admin_actor)
    forbidden = ["immigration_civil_enforcement"]
    searches.do_set_search_policy(
        org_unit_code=None,
        system_code=None,
        settings=searches.PolicySettings(forbidden_purposes=forbidden),
        actor=admin_actor,
        reason="agency baseline",
    )
    searches.do_set_search_policy(
        org_unit_code="bal-fug",
        system_code="mirs",
        settings=searches.PolicySettings(forbidden_purposes=forbidden, approval_required=True),
        actor=admin_actor,
        reason="prior approval",
    )
    for unit in ("bal", "bal-fug"):
        searches.do_open_case(
            org_unit_code=unit, case_system="ICM", number=f"{unit.upper()}-1", actor=admin_actor
        )


def test_the_locustfile_runs_with_no_failure_and_every_write_is_in_the_ledger(
    load_world, live_server, tmp_path, settings
):
    # Plain HTTP, as in bench/load_scenario.py (SEARCHLEDGER_HTTPS=0): locust's client,
    # unlike a browser, sends no Secure cookie to http://127.0.0.1.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    fixture = _scenario_module().build_fixture(["boss"], PASSWORD)
    assert [o["username"] for o in fixture["officers"]] == ["needs-approval", "authorised"]
    (tmp_path / "fixture.json").write_text(json.dumps(fixture))
    env = {
        **os.environ,
        "SEARCHLEDGER_LOAD_FIXTURE": str(tmp_path / "fixture.json"),
        "SEARCHLEDGER_LOAD_ACKS": str(tmp_path / "acks.json"),
        "SEARCHLEDGER_LOAD_WAIT": "0.05-0.2",
    }
    locust = [sys.executable, "-m", "locust", "-f", str(ROOT / "bench/load/locustfile.py")]
    users = ["-u", "5", "-r", "5", "-t", "8s", "--stop-timeout", "10s"]
    output = ["--csv", str(tmp_path / "locust"), "--only-summary"]
    subprocess.run(
        [*locust, "--headless", "--host", live_server.url, *users, *output],
        env=env,
        check=False,
        capture_output=True,
        timeout=60,
    )
    with (tmp_path / "locust_stats.csv").open(newline="") as handle:
        rows = {row["Name"]: row for row in csv.DictReader(handle)}
    failures = (tmp_path / "locust_failures.csv").read_text()
    assert rows["Aggregated"]["Failure Count"] == "0", failures
    assert int(rows["Aggregated"]["Request Count"]) > 0
    acknowledged = Counter(
        {(e, o): n for e, o, n in json.loads((tmp_path / "acks.json").read_text())}
    )
    assert 310 in {event for event, _ in acknowledged}  # some search was requested
    written = Counter(
        LedgerEntry.objects.filter(seq__gte=fixture["ledger_size"]).values_list(
            "event_type", "object_id"
        )
    )
    assert written == acknowledged
