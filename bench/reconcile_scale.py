"""Reconciling an access log at scale: the DuckDB engine (what searchledger runs) against the
straightforward Python implementation (the reference matcher, ``core.reconciliation``), on
the same data in the same process.

The data are generated in DuckDB straight to Parquet (deterministic: hashes of row
numbers, no random state): a year of ``--searches`` search records of ``--searches / 500``
officers in units of 20, 97 % of them between 13:00 and 22:00 UTC (office hours in New
York; 80 % documented, 10 % authorised, 6 % refused, 2 % cancelled, 2 % pending), and
``--events`` access-log rows, most of them a search near an authorised or documented one
(within 20 minutes, the same case in another format for 90 % of them), with 5 % non-search
actions, 0.5 % searches nobody documented, 0.1 % with another case, 0.1 % by up to fifty
unknown accounts; 2 % of the authorised or documented records have no event. The event file
is split into ``--files`` imports.

Both implementations get the event files and the searches as Python objects (as the action
has them after its queries). Timed for the engine: everything from the Python objects and
the files to the sorted discrepancy list. Timed for the reference: reading the files into
Python objects (there is no other way for plain Python to see Parquet), then matching. The
two results must be identical (compared, and their digests printed). Wall and CPU time are
both printed: on a shared machine the wall time includes waiting for the cores, and the CPU
time of the engine counts all of DuckDB's threads.

Run: .venv/bin/python bench/reconcile_scale.py [--events 1000000] [--searches 100000]
     [--files 4] [--no-reference] [--threads N]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from searchledger.apps.reconciliation.engine import EventFile, read_events, reconcile_files
from searchledger.core.reconciliation import (
    DocumentedSearch,
    Period,
    ReconciliationParams,
    count_by_kind,
    digest,
    reconcile,
)

YEAR = Period(datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
SYSTEM = 1
_YEAR_US = 365 * 86_400 * 1_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _h(expr: str, salt: int, modulus: int) -> str:
    """A deterministic pseudo-random integer in [0, modulus) from ``expr``."""
    return f"(hash({expr}, {salt}) % {modulus})::BIGINT"


def generate(work: Path, events: int, searches: int, files: int) -> tuple[list[EventFile], int]:
    """Write the searches and the event files; return the files and the number of people."""
    people = max(50, searches // 500)
    start_us = int((YEAR.start - _EPOCH).total_seconds()) * 1_000_000
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"""
        CREATE TABLE searches AS
        SELECT i + 1 AS id, 1 + {_h("i", 1, people)} AS person,
               {start_us} + {_h("i", 2, 365)} * 86_400_000_000
                 + CASE WHEN {_h("i", 10, 100)} < 97
                        THEN (13 * 3600 + {_h("i", 11, 9 * 3600)}) * 1_000_000
                        ELSE {_h("i", 12, 86_400_000_000)} END AS t,
               CASE WHEN {_h("i", 3, 100)} < 80 THEN 'documented'
                    WHEN {_h("i", 3, 100)} < 90 THEN 'authorised'
                    WHEN {_h("i", 3, 100)} < 96 THEN 'refused'
                    WHEN {_h("i", 3, 100)} < 98 THEN 'cancelled'
                    ELSE 'pending_approval' END AS status,
               '2026-' || lpad((i + 1)::VARCHAR, 7, '0') AS case_ref
        FROM range({searches}) r(i)
    """)
    con.execute(f"COPY searches TO '{work / 'searches.parquet'}' (FORMAT parquet)")
    # The log's searches are near authorised or documented records, numbered 0..n-1; the
    # last 2 % of them are never seen in the log.
    con.execute("""
        CREATE TABLE usable AS
        SELECT row_number() OVER (ORDER BY id) - 1 AS n, * FROM searches
        WHERE status IN ('authorised', 'documented')
    """)
    usable = con.execute("SELECT count(*) FROM usable").fetchone()[0]  # type: ignore[index]
    con.execute(f"""
        CREATE TABLE ev AS
        WITH base AS (
            SELECT i, {_h("i", 4, 1000)} AS roll, s.*
            FROM range({events}) r(i)
            JOIN usable s ON s.n = {_h("i", 5, usable * 98 // 100)}
        )
        SELECT i + 1 AS line,
               CASE WHEN roll < 1 THEN 'ghost-' || {_h("i", 6, 50)}
                    WHEN roll < 6 THEN 'ext-' || (1 + {_h("i", 7, people)})
                    ELSE 'ext-' || person END AS account_id,
               make_timestamp(CASE WHEN roll < 6 THEN {start_us} + {_h("i", 8, _YEAR_US)}
                    ELSE t + {_h("i", 9, 2_400_000_000)} - 1_200_000_000 END)::TIMESTAMPTZ
                 AS ts,
               CASE WHEN roll >= 950 THEN 'login' ELSE 'search' END AS action,
               roll < 950 AS is_search,
               'Q' || i AS reference,
               CASE WHEN roll BETWEEN 6 AND 6 THEN '2099-' || i
                    WHEN roll % 10 = 9 THEN NULL
                    ELSE replace(case_ref, '-', ' ') END AS case_ref
        FROM base
    """)
    out: list[EventFile] = []
    for n in range(files):
        path = work / f"events-{n}.parquet"
        con.execute(f"""
            COPY (SELECT line, account_id, ts, action, is_search, reference, case_ref
                  FROM ev WHERE line % {files} = {n} ORDER BY line)
            TO '{path}' (FORMAT parquet)
        """)
        out.append(EventFile(f"{n:064x}", path))
    con.close()
    return out, people


def load_searches(work: Path) -> list[DocumentedSearch]:
    """The generated searches as the action would hand them over."""
    con = duckdb.connect(":memory:")
    rows = con.execute(
        f"SELECT id, person, t, status, case_ref FROM '{work / 'searches.parquet'}'"
    ).fetchall()
    con.close()
    return [
        DocumentedSearch(
            id=i,
            officer_id=p,
            system_id=SYSTEM,
            time=_EPOCH + timedelta(microseconds=t),
            status=status,
            case_ref=case,
            unit_id=p // 20,
        )
        for i, p, t, status, case in rows
    ]


def _rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


def main() -> None:
    """Generate, run the engine, run the reference, compare, print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--searches", type=int, default=100_000)
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--no-reference", action="store_true")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="searchledger-bench-", dir=args.workdir) as tmp:
        work = Path(tmp)
        began = time.perf_counter()
        files, people = generate(work, args.events, args.searches, args.files)
        searches = load_searches(work)
        print(
            f"data: {args.events:,} external rows in {args.files} files, "
            f"{args.searches:,} searches, {people:,} officers "
            f"(generated in {time.perf_counter() - began:.1f} s)"
        )
        links: dict[str, int | None] = {f"ext-{p}": p for p in range(1, people + 1)}
        units = {p: p // 20 for p in range(1, people + 1)}
        common = {
            "system_id": SYSTEM,
            "links": links,
            "person_units": units,
            "coverage": [(YEAR.start, YEAR.end)],
            "period": YEAR,
            "params": ReconciliationParams(time_zone="America/New_York"),
        }

        began, cpu = time.perf_counter(), time.process_time()
        engine = reconcile_files(
            files=files,
            searches=searches,
            workdir=work,
            threads=args.threads,
            **common,  # type: ignore[arg-type]  # the keys are reconcile_files's arguments
        )
        engine_s, engine_cpu = time.perf_counter() - began, time.process_time() - cpu
        print(
            f"engine (DuckDB): {engine_s:8.1f} s wall, {engine_cpu:.1f} s CPU (all threads)  "
            f"{len(engine):,} discrepancies"
        )
        counts = count_by_kind(engine)
        print("  " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
        print(f"  digest {digest(engine)}  peak RSS so far {_rss_gib():.1f} GiB")
        if args.no_reference:
            print("reference: not run (--no-reference)")
            return

        began, cpu = time.perf_counter(), time.process_time()
        events = read_events(files)
        load_s = time.perf_counter() - began
        began = time.perf_counter()
        reference = reconcile(
            events=events,
            searches=searches,
            **common,  # type: ignore[arg-type]  # the keys are reconcile's arguments
        )
        match_s = time.perf_counter() - began
        total, total_cpu = load_s + match_s, time.process_time() - cpu
        print(
            f"reference (Python): {total:8.1f} s wall, {total_cpu:.1f} s CPU  (reading "
            f"{load_s:.1f} s + matching {match_s:.1f} s)  {len(reference):,} discrepancies"
        )
        print(f"  digest {digest(reference)}  peak RSS {_rss_gib():.1f} GiB")
        print(f"identical results: {reference == engine}")
        print(
            f"ratio reference/engine: {total / engine_s:.1f}x wall, "
            f"{total_cpu / engine_cpu:.1f}x CPU"
        )


if __name__ == "__main__":
    main()
