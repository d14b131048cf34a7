"""Appends per second through the write path with 1 writer and with 8 writer processes.

Each writer is a separate process creating accounts through ``do_create_account`` (one
transaction, one ledger entry each), as ``test_concurrency`` does. The same number of
appends is made first by one writer, then shared among WRITERS writers, on a fresh database
each time, and the ratio of the two rates is printed: a ratio well under 1 means the writers
spend their time waiting for each other rather than appending.

The database is whichever the settings name: SQLite in a temporary SEARCHLEDGER_HOME by
default, or PostgreSQL with DATABASE_URL=postgresql://...; the benchmark creates (and
drops) the test database Django would use for it (``test_<name>``).

Run: .venv/bin/python bench/append_concurrency.py [--appends 4000] [--writers 8]
     [--readers 0] [--think-ms 0] [--busy-timeout SECONDS]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path


def main() -> None:
    """Measure one writer, then several, on a fresh database each time."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--appends", type=int, default=4000, help="appends in each run")
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--readers", type=int, default=0, help="proof-checking readers")
    parser.add_argument("--think-ms", type=float, default=0.0, help="pause between appends")
    parser.add_argument("--busy-timeout", type=float, help="SQLite busy timeout, seconds")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="searchledger-bench-"))
    os.environ["SEARCHLEDGER_HOME"] = str(home)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "searchledger.config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from searchledger.apps.accounts.actions import do_create_account
    from searchledger.apps.ledger.keys import create_signing_key
    from searchledger.apps.ledger.tests.concurrency_run import run_concurrently
    from searchledger.apps.ledger.tests.processes import child_env
    from searchledger.core.actor import Actor
    from searchledger.core.roles import Role

    key_file = Path(settings.SEARCHLEDGER_SIGNING_KEY_FILE)
    if not key_file.exists():
        create_signing_key("bench.searchledger.localhost/ledger")
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(f"{connection.vendor}, {os.cpu_count()} CPUs, load average {' '.join(load)}")
    print(
        f"{'writers':>8} {'appends':>8} {'seconds':>8} {'appends/s':>10} {'retries':>8} "
        f"{'in tx':>6} {'cpu/append':>10}"
    )
    rates: dict[int, float] = {}
    for writers in (1, args.writers):
        old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            admin = do_create_account(
                username="admin", role=Role.ADMINISTRATOR, password=None, actor=Actor.system()
            )
            env = child_env(home, key_file, connection.settings_dict)
            connection.close()
            run = run_concurrently(
                env,
                home / f"run-{writers}",
                writers=writers,
                appends=args.appends // writers,
                admin_id=admin.pk,
                readers=args.readers,
                think_ms=args.think_ms,
                busy_timeout=args.busy_timeout,
                timeout=3600,
            )
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)
        total = writers * (args.appends // writers)
        rates[writers] = total / run.writing_seconds
        retries = sum(w["retries"] for w in run.writers)
        # Share of the wall time some writer spent inside a transaction: near 1 on SQLite
        # means the write lock was never idle while writers waited for it.
        busy = sum(w["transaction_seconds"] for w in run.writers) / run.writing_seconds
        cpu = sum(w["cpu_seconds"] for w in run.writers) / total * 1000
        print(
            f"{writers:>8} {total:>8} {run.writing_seconds:>8.1f} {rates[writers]:>10.0f} "
            f"{retries:>8} {busy:>6.2f} {cpu:>8.1f}ms"
        )
    print(f"ratio {args.writers} writers / 1 writer: {rates[args.writers] / rates[1]:.2f}")


if __name__ == "__main__":
    main()
