"""The cost of a whole reconciliation through the action (``do_reconcile``), which after the
engine stores every discrepancy and raises one finding for each (a ledger entry each):
how long storing takes per discrepancy, next to the engine's share, on SQLite.

A temporary home and database; one system with a column mapping, one officer with a
supervisor, a log of ``--discrepancies`` searches by the officer two minutes apart, none of
them documented (so each is an ``undocumented_search`` and a finding), imported through the
access-log action; then ``do_reconcile`` over the log's dates, timed, and timed again (a
re-run finds the same discrepancies and raises no new finding).

Run: .venv/bin/python bench/reconcile_store.py [--discrepancies 2000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path


def main() -> None:
    """Set up, import, reconcile twice, print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--discrepancies", type=int, default=2000)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="searchledger-bench-"))
    os.environ["SEARCHLEDGER_HOME"] = str(home)
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "searchledger.config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from searchledger.apps.accesslogs.actions import (
        do_import_access_log,
        do_map_external_account,
        do_set_column_mapping,
    )
    from searchledger.apps.accesslogs.models import ExternalAccount
    from searchledger.apps.accounts.actions import do_assign_account, do_create_account
    from searchledger.apps.reconciliation.actions import default_params, do_reconcile
    from searchledger.apps.systems.actions import SystemDetails, do_create_system
    from searchledger.core.accesslogs import MappingSpec
    from searchledger.core.actor import Actor
    from searchledger.core.roles import Role

    call_command("migrate", verbosity=0)
    system = Actor.system()
    admin = do_create_account(
        username="admin", role=Role.ADMINISTRATOR, password=None, actor=system, reason="bench"
    )
    actor = Actor(account_id=admin.pk, role=Role.ADMINISTRATOR)
    boss = do_create_account(username="boss", role=Role.SUPERVISOR, password=None, actor=actor)
    officer = do_create_account(username="oscar", role=Role.OFFICER, password=None, actor=actor)
    do_assign_account(officer.pk, org_unit_code=None, supervisor_id=boss.pk, actor=actor)
    do_create_system(
        "mirs",
        SystemDetails(name="MIRS", owner="MVA", kind="face_images", access_method="api"),
        actor=actor,
    )
    do_set_column_mapping(
        "mirs",
        MappingSpec(
            account_column="user",
            timestamp_column="when",
            action_column="what",
            reference_column="query",
            search_actions=("search",),
        ),
        actor=actor,
    )
    start = datetime(2026, 3, 2, tzinfo=UTC)
    log = home / "mirs.csv"
    with log.open("w", encoding="utf-8") as out:
        out.write("user,when,what,query\n")
        for i in range(args.discrepancies):
            when = start + timedelta(minutes=2 * i)
            out.write(f"oscar-x,{when.isoformat()},search,Q{i}\n")
    imported = do_import_access_log("mirs", log, original_name="mirs.csv", actor=actor)
    external = ExternalAccount.objects.get(external_id="oscar-x")
    do_map_external_account(external.pk, officer.pk, actor=actor)
    last = imported.last_event_at
    assert last is not None
    params = replace(
        default_params(),
        business_start_hour=0,
        business_end_hour=24,
        business_days=tuple(range(1, 8)),
    )
    for label in ("first run", "re-run"):
        began = time.perf_counter()
        run = do_reconcile("mirs", start=start.date(), end=last.date(), params=params, actor=actor)
        total = time.perf_counter() - began
        engine = (run.finished_at - run.started_at).total_seconds()
        store = total - engine
        print(
            f"{label}: {run.total:,} discrepancies in {total:.1f} s "
            f"(engine and reads {engine:.2f} s, storing and findings {store:.1f} s, "
            f"{store / max(run.total, 1) * 1000:.2f} ms per discrepancy)"
        )


if __name__ == "__main__":
    main()
