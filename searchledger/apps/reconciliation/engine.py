"""The reconciliation engine: the rules of ``core.reconciliation`` in DuckDB SQL, over the
access-log event files (Parquet) and the documented searches.

No Django here, so ``bench/`` and the property tests call it directly; the action gathers
the inputs from the database and the event store and hands them over.

How it scales: every time is an integer of microseconds since the epoch. The band join
"same person, ``|Δt| ≤ tol``" is an equality hash join on (person, bucket) where a bucket
is ``t // tol``: each search is entered in the buckets before, at and after its own, so an
event only meets searches that could be within the tolerance, and the exact test is a
filter on the few pairs that meet. The pairs are materialised once (``cand``) and grouped
per event once (``per_event``: matched, same case, nearest match, nearest refusal), because
several kinds read them. Anti-joins give the undocumented events and the searches without
an event; window functions over (account, time) give the dense windows of bursts;
``median`` per unit gives high volume. DuckDB runs it in parallel and spills to ``workdir``
when the data outgrow memory.

The searches go to DuckDB as a CSV file written from Python (1M rows in about a second; the
project has no pandas or Arrow to register them in memory).
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from searchledger.core.reconciliation import (
    MATCHING_STATUSES,
    REFUSED_STATUSES,
    Discrepancy,
    DiscrepancyKind,
    DocumentedSearch,
    ExternalEvent,
    Period,
    ReconciliationParams,
    normalise_case_ref,
    sort_key,
)

__all__ = [
    "EVENT_COLUMNS",
    "EngineError",
    "EventFile",
    "read_events",
    "reconcile_files",
    "write_event_file",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# The event store's schema (``apps.accesslogs``), in order.
EVENT_COLUMNS = (
    ("line", "BIGINT"),
    ("account_id", "VARCHAR"),
    ("ts", "TIMESTAMPTZ"),
    ("action", "VARCHAR"),
    ("is_search", "BOOLEAN"),
    ("reference", "VARCHAR"),
    ("case_ref", "VARCHAR"),
)


class EngineError(Exception):
    """The engine could not read its inputs (an event file missing or unreadable, a disk
    full while spilling); the message says which."""


@dataclass(frozen=True)
class EventFile:
    """One completed import's event file and its identity (the imported file's SHA-256)."""

    source: str
    path: Path


def _us(moment: datetime) -> int:
    """Microseconds since the epoch (exact: no floating point)."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _from_us(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def _sql_str(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def _connect(workdir: Path, threads: int | None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET temp_directory = {_sql_str(str(workdir / 'spill'))}")
    con.execute("SET preserve_insertion_order = false")
    if threads is not None:
        con.execute(f"SET threads = {int(threads)}")
    return con


def _events_sql(files: Sequence[EventFile]) -> str:
    """One relation over every event file, each row tagged with its file's source."""
    if not files:
        columns = ", ".join(f"NULL::{kind} AS {name}" for name, kind in EVENT_COLUMNS)
        return f"SELECT NULL::VARCHAR AS src, {columns} WHERE false"
    parts = [
        f"SELECT {_sql_str(f.source)} AS src, line, account_id, ts, action, is_search, "
        f"reference, case_ref FROM read_parquet({_sql_str(str(f.path))})"
        for f in files
    ]
    return " UNION ALL ".join(parts)


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)


def _read_csv(path: Path, columns: Mapping[str, str]) -> str:
    spec = ", ".join(f"{_sql_str(k)}: {_sql_str(v)}" for k, v in columns.items())
    return (
        f"read_csv({_sql_str(str(path))}, header = true, columns = {{{spec}}}, "
        "quote = '\"', escape = '\"', allow_quoted_nulls = false, auto_detect = false)"
    )


def _load_inputs(
    con: duckdb.DuckDBPyConnection,
    workdir: Path,
    *,
    system_id: int,
    searches: Iterable[DocumentedSearch],
    links: Mapping[str, int | None],
    person_units: Mapping[int, int | None],
    coverage: Sequence[tuple[datetime, datetime]],
) -> None:
    """The Python-side inputs as DuckDB tables: searches, links, units, coverage. Strings
    that may be NULL travel with a flag, since CSV cannot tell NULL from empty."""
    search_csv = workdir / "searches.csv"
    _write_csv(
        search_csv,
        ("id", "person", "t", "status", "has_case", "case_raw", "case_norm"),
        (
            (
                s.id,
                s.officer_id,
                _us(s.time),
                s.status,
                int(s.case_ref is not None),
                s.case_ref or "",
                normalise_case_ref(s.case_ref) or "",
            )
            for s in searches
            if s.system_id == system_id
        ),
    )
    con.execute(
        "CREATE TEMP TABLE searches AS SELECT id, person, t, status, "
        "CASE WHEN has_case THEN coalesce(case_raw, '') END AS case_raw, "
        "nullif(coalesce(case_norm, ''), '') AS case_norm FROM "
        + _read_csv(
            search_csv,
            {
                "id": "BIGINT",
                "person": "BIGINT",
                "t": "BIGINT",
                "status": "VARCHAR",
                "has_case": "BOOLEAN",
                "case_raw": "VARCHAR",
                "case_norm": "VARCHAR",
            },
        )
    )
    links_csv = workdir / "links.csv"
    _write_csv(
        links_csv,
        ("account", "person"),
        ((account, person) for account, person in links.items() if person is not None),
    )
    con.execute(
        "CREATE TEMP TABLE links AS SELECT coalesce(account, '') AS account, person FROM "
        + _read_csv(links_csv, {"account": "VARCHAR", "person": "BIGINT"})
    )
    units_csv = workdir / "units.csv"
    _write_csv(
        units_csv,
        ("person", "unit"),
        ((person, unit) for person, unit in person_units.items() if unit is not None),
    )
    con.execute(
        "CREATE TEMP TABLE units AS SELECT * FROM "
        + _read_csv(units_csv, {"person": "BIGINT", "unit": "BIGINT"})
    )
    con.execute("CREATE TEMP TABLE coverage (lo BIGINT, hi BIGINT)")
    if coverage:
        con.executemany(
            "INSERT INTO coverage VALUES (?, ?)", [(_us(lo), _us(hi)) for lo, hi in coverage]
        )


def _candidates_sql(p: dict[str, Any]) -> str:
    """The band join, materialised once: every (event, search) pair of the same person
    within the tolerance, through the buckets of ``sb``."""
    return f"""
    CREATE TEMP TABLE cand AS
    SELECT e.src, e.line, e.t, e.case_norm AS ecase, e.case_raw AS eraw,
           s.id, s.t AS st, s.status, s.case_norm AS scase, s.case_raw AS sraw,
           e.t >= {p["start"]} AND e.t < {p["end"]} AS in_period
    FROM ev e JOIN sb s ON s.person = e.person AND s.b = e.b
    WHERE abs(s.t - e.t) <= {p["tol"]}
    """


def _per_event_sql() -> str:
    """Per logged search in the period, materialised once: does an authorised or documented
    record match it, does one of the same case, the nearest match (|Δt|, then id) and the
    nearest refused or cancelled record."""
    matching = ", ".join(_sql_str(s) for s in sorted(MATCHING_STATUSES))
    refused = ", ".join(_sql_str(s) for s in sorted(REFUSED_STATUSES))
    return f"""
    CREATE TEMP TABLE per_event AS
        SELECT src, line, any_value(t) AS t, any_value(ecase) AS ecase,
               any_value(eraw) AS eraw,
               bool_or(status IN ({matching})) AS matched,
               bool_or(status IN ({matching}) AND scase = ecase) AS same_case,
               arg_min({{'id': id, 'scase': scase, 'sraw': sraw}}, [abs(st - t), id])
                   FILTER (WHERE status IN ({matching})) AS nearest,
               arg_min(id, [abs(st - t), id])
                   FILTER (WHERE status IN ({refused})) AS refusal
        FROM cand WHERE in_period AND status IN ({matching}, {refused})
        GROUP BY src, line
    """


def _discrepancy_sql(p: dict[str, Any]) -> str:
    """The SQL that computes every discrepancy, one row each, from the tables ``ev``
    (search events with their person), ``cand`` (:func:`_candidates_sql`), ``per_event``
    (:func:`_per_event_sql`), ``searches``, ``units`` and ``coverage``."""
    matching = ", ".join(_sql_str(s) for s in sorted(MATCHING_STATUSES))
    days = ", ".join(str(d) for d in p["business_days"])
    return f"""
    WITH
    pe AS (SELECT * FROM ev WHERE t >= {p["start"]} AND t < {p["end"]}),
    mapped AS (SELECT * FROM pe WHERE person IS NOT NULL),
    seen AS (SELECT DISTINCT id FROM cand),
    ooh AS (
        SELECT account, person, t, local::DATE AS day FROM (
            SELECT *, timezone({_sql_str(p["tz"])}, ts) AS local FROM mapped)
        WHERE isodow(local) NOT IN ({days})
           OR hour(local) < {p["bstart"]} OR hour(local) >= {p["bend"]}
    ),
    -- Per event: its window [t, t + width] (n events, the last at wlast), how many of the
    -- account's events come before it (before) and up to its time, peers included (upto).
    win AS (
        SELECT account, person, t,
               rank() OVER w0 - 1 AS before, count(*) OVER w0 AS upto,
               count(*) OVER w1 AS n, max(t) OVER w1 AS wlast
        FROM mapped
        WINDOW w0 AS (PARTITION BY account ORDER BY t),
               w1 AS (PARTITION BY account ORDER BY t
                      RANGE BETWEEN CURRENT ROW AND {p["burst_us"]} FOLLOWING)
    ),
    dense AS (
        SELECT *, CASE WHEN lag(t) OVER (PARTITION BY account ORDER BY t) + {p["burst_us"]}
                          >= t THEN 0 ELSE 1 END AS fresh
        FROM win WHERE n > {p["burst_count"]}
    ),
    episodes AS (
        SELECT x.account, x.person, x.first, x.last, at_last.upto - x.before AS cnt
        FROM (
            SELECT account, any_value(person) AS person, min(t) AS first,
                   max(wlast) AS last, min(before) AS before
            FROM (SELECT *, sum(fresh) OVER (PARTITION BY account ORDER BY t) AS ep
                  FROM dense)
            GROUP BY account, ep
        ) x
        JOIN (SELECT DISTINCT account, t, upto FROM win) at_last
          ON at_last.account = x.account AND at_last.t = x.last
    ),
    volume AS (
        SELECT m.person, u.unit, count(*) AS n, min(m.t) AS first, max(m.t) AS last
        FROM mapped m JOIN units u ON u.person = m.person GROUP BY m.person, u.unit
    ),
    medians AS (SELECT unit, median(n)::DOUBLE AS med FROM volume GROUP BY unit)
    SELECT 'case_mismatch' AS kind, b.t, e.account, e.person, b.nearest.id AS search_id,
           b.src, b.line, NULL::BIGINT AS last, NULL::BIGINT AS cnt, NULL::BIGINT AS unit,
           NULL::DOUBLE AS med, b.eraw AS ecase, b.nearest.sraw AS scase
    FROM per_event b JOIN ev e ON e.src = b.src AND e.line = b.line
    WHERE b.matched AND NOT coalesce(b.same_case, false)
      AND b.ecase IS NOT NULL AND b.nearest.scase IS NOT NULL
    UNION ALL
    SELECT 'searched_after_refusal', r.t, e.account, e.person, r.refusal, r.src, r.line,
           NULL, NULL, NULL, NULL, NULL, NULL
    FROM per_event r JOIN ev e ON e.src = r.src AND e.line = r.line WHERE NOT r.matched
    UNION ALL
    SELECT 'undocumented_search', m.t, m.account, m.person, NULL, m.src, m.line,
           NULL, NULL, NULL, NULL, NULL, NULL
    FROM mapped m ANTI JOIN per_event c ON c.src = m.src AND c.line = m.line
    UNION ALL
    SELECT 'unknown_account', min(t), account, NULL, NULL, NULL, NULL,
           max(t), count(*), NULL, NULL, NULL, NULL
    FROM pe WHERE person IS NULL GROUP BY account
    UNION ALL
    SELECT 'no_external_event', s.t, NULL, s.person, s.id, NULL, NULL,
           NULL, NULL, NULL, NULL, NULL, NULL
    FROM searches s
    WHERE s.status IN ({matching}) AND s.t >= {p["start"]} AND s.t < {p["end"]}
      AND EXISTS (SELECT 1 FROM coverage c WHERE s.t BETWEEN c.lo AND c.hi)
      AND s.id NOT IN (SELECT id FROM seen)
    UNION ALL
    SELECT 'out_of_hours', min(t), account, any_value(person), NULL, NULL, NULL,
           max(t), count(*), NULL, NULL, NULL, NULL
    FROM ooh GROUP BY account, day
    UNION ALL
    SELECT 'burst', x.first, x.account, x.person, NULL, NULL, NULL, x.last, x.cnt,
           NULL, NULL, NULL, NULL
    FROM episodes x
    UNION ALL
    SELECT 'high_volume', v.first, NULL, v.person, NULL, NULL, NULL, v.last, v.n, v.unit,
           md.med, NULL, NULL
    FROM volume v JOIN medians md ON md.unit = v.unit
    WHERE v.n >= {p["hv_min"]} AND v.n::DOUBLE > {p["hv_factor"]!r}::DOUBLE * md.med
    """


def reconcile_files(
    *,
    system_id: int,
    files: Sequence[EventFile],
    searches: Iterable[DocumentedSearch],
    links: Mapping[str, int | None],
    person_units: Mapping[int, int | None],
    coverage: Sequence[tuple[datetime, datetime]],
    period: Period,
    params: ReconciliationParams,
    workdir: Path | None = None,
    threads: int | None = None,
) -> list[Discrepancy]:
    """Every discrepancy between the event files and the searches of ``system_id``:
    exactly ``core.reconciliation.reconcile`` over the same data, in canonical order."""
    with tempfile.TemporaryDirectory(prefix="searchledger-recon-", dir=workdir) as tmp:
        work = Path(tmp)
        con = _connect(work, threads)
        try:
            _load_inputs(
                con,
                work,
                system_id=system_id,
                searches=searches,
                links=links,
                person_units=person_units,
                coverage=coverage,
            )
            return _run(con, files, period, params)
        except duckdb.Error as exc:
            raise EngineError(str(exc).splitlines()[0]) from exc
        finally:
            con.close()


def _run(
    con: duckdb.DuckDBPyConnection,
    files: Sequence[EventFile],
    period: Period,
    params: ReconciliationParams,
) -> list[Discrepancy]:
    tol = params.tolerance_minutes * 60_000_000
    width = max(tol, 1)  # a zero tolerance still needs a bucket width
    start, end = _us(period.start), _us(period.end)
    # Only events that could meet a search of the period (or be in it) are kept.
    con.execute(f"""
        CREATE TEMP TABLE ev AS
        SELECT e.src, e.line, coalesce(e.account_id, '') AS account, e.ts,
               epoch_us(e.ts) AS t, epoch_us(e.ts) // {width} AS b, l.person,
               e.case_ref AS case_raw,
               nullif(upper(regexp_replace(e.case_ref, '[^0-9A-Za-z]', '', 'g')), '')
                 AS case_norm
        FROM ({_events_sql(files)}) e
        LEFT JOIN links l ON l.account = coalesce(e.account_id, '')
        WHERE e.is_search AND epoch_us(e.ts) >= {start - tol}
          AND epoch_us(e.ts) <= {end + tol}
    """)
    con.execute(f"""
        CREATE TEMP TABLE sb AS
        SELECT s.*, s.t // {width} + d.d AS b FROM searches s, (VALUES (-1), (0), (1)) d(d)
    """)
    p: dict[str, Any] = {
        "start": start,
        "end": end,
        "tol": tol,
        "tz": params.time_zone,
        "bstart": params.business_start_hour,
        "bend": params.business_end_hour,
        "business_days": params.business_days or (0,),
        "burst_us": params.burst_minutes * 60_000_000,
        "burst_count": params.burst_count,
        "hv_min": params.high_volume_min,
        "hv_factor": float(params.high_volume_factor),
    }
    con.execute(_candidates_sql(p))
    con.execute(_per_event_sql())
    found = [_row(row) for row in con.execute(_discrepancy_sql(p)).fetchall()]
    return sorted(found, key=sort_key)


def _row(row: tuple[Any, ...]) -> Discrepancy:
    kind, t, account, person, search_id, src, line, last, cnt, unit, med, ecase, scase = row
    return Discrepancy(
        DiscrepancyKind(kind),
        _from_us(t),
        account=account,
        person_id=person,
        search_id=search_id,
        source=src,
        line=line,
        last=_from_us(last) if last is not None else None,
        count=cnt,
        unit_id=unit,
        median=med,
        external_case=ecase,
        documented_case=scase,
    )


# --------------------------------------------------------------------------- event files


def write_event_file(path: Path, events: Iterable[ExternalEvent]) -> None:
    """Write events to a Parquet file in the event store's schema (for tests and the
    bench; ``apps.accesslogs`` writes the real ones). ``source`` is not stored: a file's
    source is the import it belongs to."""
    with tempfile.TemporaryDirectory(prefix="searchledger-events-") as tmp:
        rows = Path(tmp) / "events.csv"
        _write_csv(
            rows,
            (
                *("line", "account_id", "ts", "action", "is_search"),
                *("has_ref", "reference", "has_case", "case_ref"),
            ),
            (
                (
                    e.line,
                    e.account,
                    _us(e.ts),
                    e.action,
                    int(e.is_search),
                    int(e.reference is not None),
                    e.reference or "",
                    int(e.case_ref is not None),
                    e.case_ref or "",
                )
                for e in events
            ),
        )
        con = _connect(Path(tmp), threads=None)
        try:
            source = _read_csv(
                rows,
                {
                    "line": "BIGINT",
                    "account_id": "VARCHAR",
                    "ts": "BIGINT",
                    "action": "VARCHAR",
                    "is_search": "BOOLEAN",
                    "has_ref": "BOOLEAN",
                    "reference": "VARCHAR",
                    "has_case": "BOOLEAN",
                    "case_ref": "VARCHAR",
                },
            )
            con.execute(f"""
                COPY (
                    SELECT line, coalesce(account_id, '') AS account_id,
                           make_timestamp(ts)::TIMESTAMPTZ AS ts,
                           coalesce(action, '') AS action, is_search,
                           CASE WHEN has_ref THEN coalesce(reference, '') END AS reference,
                           CASE WHEN has_case THEN coalesce(case_ref, '') END AS case_ref
                    FROM {source} ORDER BY line
                ) TO {_sql_str(str(path))} (FORMAT parquet)
            """)
        finally:
            con.close()


def read_events(files: Sequence[EventFile], *, batch: int = 100_000) -> list[ExternalEvent]:
    """Every event of the files as Python objects (for the reference matcher), read in
    batches so that the rows and the objects are not both held in full."""
    con = duckdb.connect(":memory:")
    events: list[ExternalEvent] = []
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(
            f"SELECT src, line, coalesce(account_id, ''), epoch_us(ts), "
            f"coalesce(is_search, false), action, reference, case_ref "
            f"FROM ({_events_sql(files)})"
        )
        while rows := con.fetchmany(batch):
            events.extend(
                ExternalEvent(
                    source=src,
                    line=line,
                    account=account,
                    ts=_from_us(t),
                    is_search=is_search,
                    action=action or "",
                    reference=reference,
                    case_ref=case_ref,
                )
                for src, line, account, t, is_search, action, reference, case_ref in rows
            )
    finally:
        con.close()
    return events
