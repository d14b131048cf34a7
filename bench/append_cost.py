"""Cost of one ledger append as the ledger grows: incremental (what searchledger does)
against rebuilding the tree (the straightforward way), in the same process.

Part 1, pure core: time to append 1,000 leaves to a tree of N leaves with the compact-range
frontier (``merkle.append_leaf`` + ``frontier_root``) versus recomputing the root from all
leaf hashes after each append (``root_from_leaf_hashes``).

Part 2, database: time per append through the real write path (``writer.append`` inside a
transaction, SQLite file in a temporary directory) near the start of the ledger and again
after it has grown, to show the cost does not grow with the ledger.

Part 3, database: an append whose transaction wrote 1, 10 or 100 rows of a ledger-feeding
table (the entry commits to their state, see docs/ledger.md) against one that wrote none.

Run: .venv/bin/python bench/append_cost.py [--db-size 20000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from searchledger.ledger import merkle

BATCH = 1000


def pure_core(sizes: list[int]) -> None:
    """Part 1: incremental versus rebuild, pure Python, no database."""
    print("part 1: pure core, 1,000 appends to a tree of N leaves")
    print(f"{'N':>9} {'incremental ms':>15} {'rebuild ms':>12} {'ratio':>8}")
    for size in sizes:
        leaves = [merkle.leaf_hash(i.to_bytes(8, "big")) for i in range(size + BATCH)]
        frontier: list[bytes] = []
        for i in range(size):
            frontier, _ = merkle.append_leaf(frontier, i, leaves[i])
        start = time.perf_counter()
        f = list(frontier)
        for i in range(size, size + BATCH):
            f, _ = merkle.append_leaf(f, i, leaves[i])
            merkle.frontier_root(f, i + 1)
        incremental = time.perf_counter() - start
        # Rebuilding after every append is too slow to run 1,000 times at large N: time a
        # sample of 10 rebuilds and scale to the batch.
        sample = 10
        start = time.perf_counter()
        for i in range(size, size + sample):
            merkle.root_from_leaf_hashes(leaves[: i + 1])
        rebuild = (time.perf_counter() - start) * BATCH / sample
        print(
            f"{size:>9,} {incremental * 1000:>15.1f} {rebuild * 1000:>12.1f} "
            f"{rebuild / incremental:>7.0f}x"
        )


def database(db_size: int) -> None:
    """Part 2: per-append cost through the write path at the start and at ``db_size``."""
    home = Path(tempfile.mkdtemp(prefix="searchledger-bench-"))
    os.environ["SEARCHLEDGER_HOME"] = str(home)
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "searchledger.config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    from searchledger.apps.ledger import writer
    from searchledger.core.actor import Actor
    from searchledger.ledger.events import LedgerEventType

    call_command("migrate", verbosity=0)
    actor = Actor.system()

    def append_many(count: int, start: int) -> float:
        began = time.perf_counter()
        for i in range(start, start + count):
            with transaction.atomic():
                writer.append(
                    LedgerEventType.ACCOUNT_CREATED,
                    object_type="accounts.account",
                    object_id=i,
                    actor=actor,
                    data={"role": "officer"},
                    personal={"username": f"user{i}"},
                )
        return (time.perf_counter() - began) / count

    early = append_many(BATCH, 0)
    append_many(db_size - 2 * BATCH, BATCH)
    late = append_many(BATCH, db_size - BATCH)
    print(f"\npart 2: SQLite ({home}), one transaction per append")
    print(f"{'ledger size':>12} {'ms per append':>14}")
    print(f"{BATCH:>12,} {early * 1000:>14.3f}")
    print(f"{db_size:>12,} {late * 1000:>14.3f}")
    print(f"ratio late/early: {late / early:.2f} (1.0 = no growth with ledger size)")
    rows_written()


def rows_written() -> None:
    """Part 3: an append whose transaction wrote rows of a ledger-feeding table (the entry
    commits to their state: the rows are re-read, committed to and stored in
    ledger_rowstate) against an append that wrote none, in the same process and database.
    Wall time and this process's CPU time (less disturbed by other processes on a busy
    machine)."""
    from django.db import transaction

    from searchledger.apps.accounts.models import OrgUnit
    from searchledger.apps.ledger import writer
    from searchledger.core.actor import Actor
    from searchledger.ledger.events import LedgerEventType

    actor = Actor.system()
    counter = iter(range(10**9))

    def with_rows(count: int, rows: int) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(count):
            with transaction.atomic():
                units = [
                    OrgUnit.objects.create(code=f"u{next(counter)}", name="Unit", kind="unit")
                    for _ in range(rows)
                ]
                writer.append(
                    LedgerEventType.ORG_UNIT_CREATED,
                    object_type="accounts.orgunit",
                    object_id=units[0].pk if units else 0,
                    actor=actor,
                    data={"kind": "unit"},
                )
        return (time.perf_counter() - wall) / count, (time.process_time() - cpu) / count

    print("\npart 3: SQLite, one transaction per append, with rows written in it")
    print(f"{'rows written':>12} {'wall ms':>9} {'cpu ms':>8} {'cpu vs 0 rows':>14}")
    bare_wall, bare_cpu = with_rows(BATCH, 0)
    print(f"{0:>12} {bare_wall * 1000:>9.3f} {bare_cpu * 1000:>8.3f} {1.0:>13.2f}x")
    for rows in (1, 10, 100):
        wall, cpu = with_rows(max(BATCH // rows, 20), rows)
        print(f"{rows:>12} {wall * 1000:>9.3f} {cpu * 1000:>8.3f} {cpu / bare_cpu:>13.2f}x")


def main() -> None:
    """Run both parts."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db-size", type=int, default=20000)
    args = parser.parse_args()
    pure_core([1_000, 10_000, 100_000])
    database(args.db_size)


if __name__ == "__main__":
    main()
