"""Reading an access log file with DuckDB: checks, validation, de-duplication, Parquet.

No Django here: :func:`check_file` and :func:`run` take paths and a
``core.accesslogs.MappingSpec`` and return what they found; ``accesslogs.actions``
records it. Python only drives the steps; every row is handled in SQL, so a file of ten
million rows is read in parallel and never held in Python.

Steps:

1. :func:`check_file` streams the file once (1 MiB at a time): its SHA-256 and size, that it
   is not empty, that every byte decodes in the declared encoding (the first bad byte's
   offset is reported), that a CSV is not really JSON lines and vice versa, and that the
   mapped columns are in the header (or the first JSON objects).
2. :func:`run` reads every record as text (``read_csv`` with ``all_varchar`` semantics:
   every column VARCHAR; JSON lines are read one line per record and picked apart with
   DuckDB's JSON functions), numbers the records in file order (``record``: 1-based, header
   excluded, blank lines not counted), gives each rejected record its first reason, drops
   duplicates within the file and events already in the system's earlier completed imports,
   and writes the events to a Parquet file (temp name, fsync, atomic rename) and every
   rejected row to a rejects CSV with formula-like cells neutralised.

Rows the CSV reader itself cannot split (too many or too few columns, an unterminated
quote) are rejected with their physical line number instead of a record number.
"""

# SQL is assembled from literals quoted by _lit/_ident (DuckDB's table functions take their
# paths and options as literals, not parameters); no value from a file enters SQL text.
# ruff: noqa: S608

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from searchledger.core.accesslogs import (
    FORMULA_PREFIXES,
    ISO_NAIVE_PATTERN,
    ISO_WITH_OFFSET_PATTERN,
    LogFormat,
    MappingSpec,
)

__all__ = [
    "CHUNK",
    "DB_REJECT_SAMPLE",
    "AccountSummary",
    "FileCheck",
    "LogFileError",
    "RunResult",
    "check_file",
    "run",
    "sha256_of",
    "temporary_path",
]

CHUNK = 1024 * 1024
"""Bytes read at a time when checking and hashing."""

DB_REJECT_SAMPLE = 1000
"""How many rejected rows are returned for the database (all of them go to the CSV)."""

Progress = Callable[[str, float], None]

_HEAD_BYTES = 256 * 1024
_JSON_SAMPLE_LINES = 200
_FORMULA_REGEX = (
    "^[" + "".join({"-": r"\-", "\t": r"\t", "\r": r"\r"}.get(c, c) for c in FORMULA_PREFIXES) + "]"
)


class LogFileError(ValueError):
    """The file as a whole cannot be imported; the message says why and what to do.
    ``code`` is a short, stable name for the ledger."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


@dataclass(frozen=True)
class FileCheck:
    """What :func:`check_file` learned: the file's hash and size, and its column names
    (CSV header, or the keys of the first JSON objects)."""

    sha256: str
    size: int
    columns: tuple[str, ...]


@dataclass(frozen=True)
class AccountSummary:
    """What one external account did in the new events of an import."""

    external_id: str
    first_seen: datetime
    last_seen: datetime
    events: int
    searches: int


@dataclass
class RunResult:
    """Everything :func:`run` counted and wrote. ``parquet_path`` is None when the events
    were not written (strict mode with rejected rows)."""

    records_read: int = 0
    valid_events: int = 0
    searches: int = 0
    rejected: int = 0
    duplicates_in_file: int = 0
    duplicates_earlier: int = 0
    formula_cells: int = 0
    first_event_at: datetime | None = None
    last_event_at: datetime | None = None
    reject_reasons: dict[str, int] = field(default_factory=dict)
    sample: list[tuple[int | None, int | None, str]] = field(default_factory=list)
    accounts: list[AccountSummary] = field(default_factory=list)
    parquet_path: Path | None = None
    parquet_sha256: str = ""
    rejects_path: Path | None = None
    rejects_sha256: str = ""


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, read 1 MiB at a time."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------- checking


def _codec(encoding: str) -> str:
    return {"utf-8": "utf-8-sig", "utf-16": "utf-16", "latin-1": "latin-1"}[encoding]


def _decode_error(exc: UnicodeDecodeError, consumed: int, encoding: str) -> LogFileError:
    offset = consumed + exc.start
    if encoding == "utf-8":
        what = "the file is not valid UTF-8"
    else:
        what = f"the file is not valid {encoding.upper()}"
    return LogFileError(
        "encoding",
        f"{what} (byte offset {offset:,}); set the mapping's encoding (utf-8, utf-16 or "
        "latin-1) to the one the system exports in",
    )


def _describe_system(system: str) -> str:
    return f"the mapping for {system}" if system else "the mapping"


def check_file(  # noqa: PLR0915  # one pass over the file, read top to bottom
    path: Path, spec: MappingSpec, *, system: str = "", progress: Progress | None = None
) -> FileCheck:
    """Check the file as a whole, streaming it once; raise :class:`LogFileError` with a
    message saying what is wrong and what to do. See the module docstring."""
    size = path.stat().st_size
    if size == 0:
        raise LogFileError("empty", "the file is empty (0 bytes); export the log again")
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder(_codec(spec.encoding))(errors="strict")
    head: list[str] = []
    head_chars = 0
    consumed = 0
    content = False
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                raise _decode_error(exc, consumed, spec.encoding) from exc
            consumed += len(chunk)
            if "\x00" in text:
                raise LogFileError(
                    "encoding",
                    f"the file holds NUL characters (near byte offset {consumed:,}); it is "
                    f"not {spec.encoding.upper()} text: set the mapping's encoding (a UTF-16 "
                    "file read as UTF-8 looks like this)",
                )
            if not content and text.strip():
                content = True
            if head_chars < _HEAD_BYTES:
                head.append(text)
                head_chars += len(text)
            if progress is not None:
                progress("checking the file", 10.0 * consumed / size)
        try:
            tail = decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise _decode_error(exc, consumed, spec.encoding) from exc
        if tail.strip():
            content = True
        if head_chars < _HEAD_BYTES:
            head.append(tail)
    if not content:
        raise LogFileError("empty", "the file holds no records (only blank lines)")
    text = "".join(head).lstrip("\ufeff")
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise LogFileError(
            "format",
            f"the first {head_chars:,} characters of the file are blank; a log starts with "
            "its header (CSV) or its first record (JSON lines): export the log again",
        )
    first = lines[0].lstrip()
    who = _describe_system(system)
    if spec.format == LogFormat.CSV:
        if first.startswith("{"):
            raise LogFileError(
                "format",
                f"this looks like a JSON-lines file (its first line is a JSON object) but "
                f"{who} says CSV; choose the right file or set the mapping's format to jsonl",
            )
        try:
            header = next(csv.reader(io.StringIO(text), delimiter=spec.delimiter), [])
        except csv.Error as exc:
            # A header cell over the csv module's limit (128 KiB) or a NUL-like oddity.
            raise LogFileError(
                "format", f"the header line is not readable CSV ({exc}); is this the log?"
            ) from None
        columns = tuple(name.strip() for name in header)
    else:
        if not first.startswith("{"):
            raise LogFileError(
                "format",
                f"this does not look like a JSON-lines file (its first line is not a JSON "
                f"object; it looks like CSV) but {who} says jsonl; choose the right file or "
                "set the mapping's format to csv",
            )
        keys: dict[str, None] = {}
        for line in lines[:_JSON_SAMPLE_LINES]:
            try:
                value = json.loads(line)
            except (ValueError, RecursionError):
                # Not JSON, or nested too deeply to decode: run() rejects such a line.
                continue
            if isinstance(value, dict):
                keys.update(dict.fromkeys(str(k) for k in value))
        columns = tuple(keys)
    wanted = [c for c in spec.columns.values() if c]
    missing = [c for c in wanted if c not in columns]
    if missing:
        kind = "columns" if spec.format == LogFormat.CSV else "keys"
        raise LogFileError(
            "columns",
            f"the file has {kind} {list(columns)}; {who} expects {wanted} (missing "
            f"{missing}) — is this another system's log? If the system's export changed, set a "
            "new mapping",
        )
    return FileCheck(sha256=digest.hexdigest(), size=size, columns=columns)


# --------------------------------------------------------------------------- SQL


def _lit(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def _ident(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _source_sql(
    path: Path, spec: MappingSpec, columns: Sequence[str], rejects: str
) -> tuple[str, str]:
    """Two statements: the first loads the file's text into the table ``src`` (nothing but
    reading: a cast or function applied inside the reader would make DuckDB's
    ``ignore_errors`` silently drop the rows it fails on), the second SELECTs from ``src``
    the record number and the mapped fields (as VARCHAR, or NULL) of every record."""
    common = (
        f"encoding={_lit(spec.encoding)}, auto_detect=false, ignore_errors=true, "
        f"store_rejects=true, rejects_table={_lit(rejects)}, "
        f"rejects_scan={_lit(rejects + '_scan')}, max_line_size=10000000"
    )
    if spec.format == LogFormat.CSV:
        types = ", ".join(f"{_lit(f'c{i}')}: 'VARCHAR'" for i in range(len(columns)))
        wanted = sorted({columns.index(name) for name in spec.columns.values() if name})
        load = (
            f"CREATE TEMP TABLE src AS SELECT {', '.join(f'c{i}' for i in wanted)} "
            f"FROM read_csv({_lit(str(path))}, header=true, delim={_lit(spec.delimiter)}, "
            f"quote='\"', escape='\"', columns={{{types}}}, {common})"
        )
        fields = {key: f"c{columns.index(name)}" for key, name in spec.columns.items()}
        return load, (
            "SELECT rowid + 1 AS record, TRUE AS well_formed, "
            + ", ".join(f"{expr} AS {_ident('f_' + key)}" for key, expr in fields.items())
            + " FROM src"
        )
    load = (
        f"CREATE TEMP TABLE src AS SELECT j FROM read_csv({_lit(str(path))}, header=false, "
        f"delim='\x1f', quote='', escape='', columns={{'j': 'VARCHAR'}}, {common})"
    )
    valid = "coalesce(json_type(j) = 'OBJECT', FALSE)"
    picked = ", ".join(
        f"CASE WHEN {valid} THEN json_extract_string(j, {_lit('$.' + json.dumps(name))}) END "
        f"AS {_ident('f_' + key)}"
        for key, name in spec.columns.items()
    )
    return load, (
        f"SELECT record, {valid} AS well_formed, {picked} FROM "
        "(SELECT rowid + 1 AS record, TRY_CAST(j AS JSON) AS j FROM src)"
    )


def _timestamp_sql(spec: MappingSpec) -> tuple[str, str]:
    """(the UTC timestamp expression, the rejection reason expression) over ``ts_raw``."""
    zone = spec.naive_timezone
    if spec.timestamp_format:
        fmt = _lit(spec.timestamp_format)
        if spec.format_has_zone:
            value = f"try_strptime(ts_raw, {fmt})"
        else:
            value = f"timezone({_lit(zone)}, try_strptime(ts_raw, {fmt}))"
        reason = (
            "CASE WHEN ts_raw IS NULL OR ts_raw = '' THEN 'timestamp missing' "
            f"WHEN ts IS NULL THEN 'timestamp ' || left(ts_raw, 60) || ' does not match the "
            f"format ' || {fmt} END"
        )
        return value, reason
    offset = f"regexp_full_match(ts_raw, {_lit(ISO_WITH_OFFSET_PATTERN)})"
    naive = f"regexp_full_match(ts_raw, {_lit(ISO_NAIVE_PATTERN)})"
    if zone:
        value = (
            f"CASE WHEN {offset} THEN TRY_CAST(ts_raw AS TIMESTAMPTZ) "
            f"WHEN {naive} THEN timezone({_lit(zone)}, TRY_CAST(ts_raw AS TIMESTAMP)) END"
        )
        missing_zone = "FALSE"
    else:
        value = f"CASE WHEN {offset} THEN TRY_CAST(ts_raw AS TIMESTAMPTZ) END"
        missing_zone = naive
    reason = (
        "CASE WHEN ts_raw IS NULL OR ts_raw = '' THEN 'timestamp missing' "
        f"WHEN {missing_zone} THEN 'time zone missing in timestamp ' || left(ts_raw, 60) "
        "|| ' (give an offset such as Z or +02:00, or set the mapping''s naive time zone)' "
        "WHEN ts IS NULL THEN 'timestamp ' || left(ts_raw, 60) || ' is not an ISO 8601 date "
        "and time' END"
    )
    return value, reason


def _neutral(column: str) -> str:
    """SQL that prefixes a formula-like cell with a single quote (for CSV output)."""
    return (
        f"CASE WHEN regexp_matches({column}, {_lit(_FORMULA_REGEX)}) "
        f"THEN '''' || {column} ELSE {column} END"
    )


def _connect(work: Path, threads: int | None, memory_limit: str) -> duckdb.DuckDBPyConnection:
    work.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {
        "memory_limit": memory_limit,
        "temp_directory": str(work),
        "preserve_insertion_order": True,
    }
    if threads:
        config["threads"] = threads
    con = duckdb.connect(":memory:", config=config)
    # Timestamps are compared and written in UTC whatever the machine's zone.
    con.execute("SET TimeZone = 'UTC'")
    return con


def temporary_path(final: Path) -> Path:
    """Where a file is written before it is renamed to ``final`` (``.<name>.tmp`` beside
    it): one fixed name, so a resumed import writes over what an interrupted one left."""
    return final.with_name("." + final.name + ".tmp")


def _fsync_rename(tmp: Path, final: Path) -> str:
    """fsync ``tmp``, rename it over ``final`` atomically, return its SHA-256."""
    with tmp.open("rb+") as handle:
        os.fsync(handle.fileno())
    digest = sha256_of(tmp)
    tmp.replace(final)
    directory = os.open(final.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return digest


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    row = con.execute(sql).fetchone()
    return row[0] if row else None


def run(  # noqa: PLR0915  # one linear pipeline of SQL steps, read top to bottom
    path: Path,
    spec: MappingSpec,
    check: FileCheck,
    *,
    parquet_path: Path,
    rejects_path: Path,
    earlier: Sequence[Path],
    strict: bool,
    work_dir: Path,
    progress: Progress | None = None,
    threads: int | None = None,
    memory_limit: str = "2GB",
) -> RunResult:
    """Validate and de-duplicate the records of ``path``, write the events to
    ``parquet_path`` (unless ``strict`` and a row was rejected) and every rejected row to
    ``rejects_path``; return the counts. ``earlier`` are the Parquet files of the system's
    earlier completed imports: events already in them are dropped and counted."""

    def step(phase: str, percent: float) -> None:
        if progress is not None:
            progress(phase, percent)

    result = RunResult()
    rejects = "structural_rejects"
    con = _connect(work_dir, threads, memory_limit)
    try:
        step("reading the records", 15.0)
        load, select = _source_sql(path, spec, check.columns, rejects)
        con.execute(load)
        con.execute("CREATE TEMP VIEW raw AS " + select)
        step("validating the records", 45.0)
        ts_value, ts_reason = _timestamp_sql(spec)
        searches = ", ".join(_lit(a.strip().casefold()) for a in spec.search_actions)
        has_case = "f_case_ref" if spec.case_ref_column else "NULL"
        system_check = "FALSE"
        system_field = "f_system" if spec.system_column else "NULL"
        if spec.system_column:
            system_check = f"coalesce(trim(f_system), '') <> {_lit(spec.system_value)}"
        con.execute(
            f"""
            CREATE TEMP TABLE checked AS
            WITH numbered AS (
                SELECT *, trim(f_timestamp) AS ts_raw FROM raw
            ), parsed AS (
                SELECT *, {ts_value} AS ts FROM numbered
            )
            SELECT
                record,
                trim(f_account_id) AS account_id,
                ts_raw,
                ts,
                trim(f_action) AS action,
                nullif(f_reference, '') AS reference,
                nullif({has_case}, '')::VARCHAR AS case_ref,
                lower(trim(f_action)) IN ({searches}) AS is_search,
                CASE
                    WHEN NOT well_formed THEN 'not a JSON object'
                    WHEN {system_check} THEN 'row belongs to another system ('
                        || {_lit(spec.system_column)} || ' is '
                        || coalesce('''' || left(trim({system_field}), 60) || '''', 'empty')
                        || ', expected ' || {_lit(repr(spec.system_value))} || ')'
                    WHEN f_account_id IS NULL OR trim(f_account_id) = '' THEN 'account id missing'
                    WHEN f_action IS NULL OR trim(f_action) = '' THEN 'action missing'
                    ELSE {ts_reason}
                END AS reason
            FROM parsed
            """
        )
        step("counting", 60.0)
        formula_terms = " + ".join(
            f"coalesce(count_if(regexp_matches({c}::VARCHAR, {_lit(_FORMULA_REGEX)})), 0)"
            for c in ("account_id", "action", "reference", "case_ref")
        )
        records, formulas = con.execute(
            f"SELECT count(*), {formula_terms} FROM checked"
        ).fetchone() or (0, 0)
        result.records_read = int(records)
        result.formula_cells = int(formulas or 0)
        # One rejection per physical line (DuckDB reports a short row once per missing
        # column).
        con.execute(
            f"CREATE TEMP TABLE structural AS SELECT line, "
            f"arg_min(error_type, column_idx) AS error_type, "
            f"arg_min(error_message, column_idx) AS error_message "
            f"FROM {rejects} GROUP BY line"
        )
        structural = con.execute(
            "SELECT line, error_type, error_message FROM structural ORDER BY line"
        ).fetchall()
        reasons: dict[str, int] = {}
        for reason, count in con.execute(
            "SELECT reason, count(*) FROM checked WHERE reason IS NOT NULL GROUP BY reason"
        ).fetchall():
            reasons[_reason_key(str(reason))] = reasons.get(_reason_key(str(reason)), 0) + count
        for _, error_type, _ in structural:
            key = f"malformed CSV row ({str(error_type).lower()})"
            if spec.format == LogFormat.JSONL:
                key = "malformed line"
            reasons[key] = reasons.get(key, 0) + 1
        result.reject_reasons = dict(sorted(reasons.items()))
        result.rejected = sum(reasons.values())
        if result.records_read == 0 and not structural:
            raise LogFileError(
                "no_records", "the file has no records after its header; export the log again"
            )
        step("writing the rejects report", 65.0)
        # A JSON-lines "column" error means a raw U+001F (the reader's separator), which JSON
        # never allows unescaped: say that rather than DuckDB's column counts.
        detail = (
            "'malformed line: a raw control character (not valid JSON)'"
            if spec.format == LogFormat.JSONL
            else "'malformed CSV row: ' || error_message"
        )
        con.execute(
            f"""
            CREATE TEMP TABLE rejected AS
            SELECT record, NULL::BIGINT AS line, reason, account_id, ts_raw AS timestamp,
                   action, reference, case_ref
            FROM checked WHERE reason IS NOT NULL
            UNION ALL
            SELECT NULL, line, {detail}, NULL, NULL, NULL, NULL, NULL
            FROM structural
            """
        )
        tmp_rejects = temporary_path(rejects_path)
        neutral = ", ".join(
            f"{_neutral(c)} AS {c}"
            for c in ("reason", "account_id", "timestamp", "action", "reference", "case_ref")
        )
        con.execute(
            f"COPY (SELECT record, line, {neutral} FROM rejected "
            f"ORDER BY coalesce(record, 0), line) TO {_lit(str(tmp_rejects))} "
            "(FORMAT csv, HEADER true)"
        )
        result.rejects_sha256 = _fsync_rename(tmp_rejects, rejects_path)
        result.rejects_path = rejects_path
        result.sample = [
            (None if r is None else int(r), None if line is None else int(line), str(reason))
            for r, line, reason in con.execute(
                f"SELECT record, line, reason FROM rejected "
                f"ORDER BY coalesce(record, line), line LIMIT {DB_REJECT_SAMPLE}"
            ).fetchall()
        ]
        if strict and result.rejected:
            return result
        step("removing duplicates", 70.0)
        con.execute(
            """
            CREATE TEMP TABLE unique_events AS
            SELECT min(record) AS line, account_id, ts, action, any_value(is_search) AS is_search,
                   reference, case_ref, count(*) AS copies
            FROM checked WHERE reason IS NULL
            GROUP BY account_id, ts, action, reference, case_ref
            """
        )
        valid = int(_scalar(con, "SELECT count(*) FROM checked WHERE reason IS NULL") or 0)
        unique = int(_scalar(con, "SELECT count(*) FROM unique_events") or 0)
        result.duplicates_in_file = valid - unique
        source = "unique_events"
        if earlier:
            files = "[" + ", ".join(_lit(str(p)) for p in earlier) + "]"
            con.execute(
                f"""
                CREATE TEMP TABLE new_events AS
                SELECT u.* FROM unique_events u
                ANTI JOIN read_parquet({files}) e
                  ON u.account_id = e.account_id AND u.ts = e.ts AND u.action = e.action
                 AND u.reference IS NOT DISTINCT FROM e.reference
                 AND u.case_ref IS NOT DISTINCT FROM e.case_ref
                """
            )
            source = "new_events"
            kept = int(_scalar(con, "SELECT count(*) FROM new_events") or 0)
            result.duplicates_earlier = unique - kept
        step("writing the events", 80.0)
        tmp_parquet = temporary_path(parquet_path)
        con.execute(
            f"COPY (SELECT line::BIGINT AS line, account_id::VARCHAR AS account_id, "
            f"ts::TIMESTAMPTZ AS ts, action::VARCHAR AS action, is_search::BOOLEAN AS is_search, "
            f"reference::VARCHAR AS reference, case_ref::VARCHAR AS case_ref FROM {source} "
            f"ORDER BY line) TO {_lit(str(tmp_parquet))} (FORMAT parquet, COMPRESSION zstd)"
        )
        step("summarising", 92.0)
        totals = con.execute(
            f"SELECT count(*), count_if(is_search), min(ts), max(ts) FROM {source}"
        ).fetchone() or (0, 0, None, None)
        result.valid_events = int(totals[0] or 0)
        result.searches = int(totals[1] or 0)
        result.first_event_at = totals[2]
        result.last_event_at = totals[3]
        result.accounts = [
            AccountSummary(str(a), first, last, int(n), int(s))
            for a, first, last, n, s in con.execute(
                f"SELECT account_id, min(ts), max(ts), count(*), count_if(is_search) "
                f"FROM {source} GROUP BY account_id ORDER BY account_id"
            ).fetchall()
        ]
        result.parquet_sha256 = _fsync_rename(tmp_parquet, parquet_path)
        result.parquet_path = parquet_path
        return result
    except duckdb.Error as exc:
        raise LogFileError("unreadable", f"the file could not be read: {_first_line(exc)}") from exc
    finally:
        con.close()


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__


def _reason_key(reason: str) -> str:
    """A reason without the offending value, for counting by kind."""
    for prefix in (
        "time zone missing",
        "row belongs to another system",
    ):
        if reason.startswith(prefix):
            return prefix
    if reason.startswith("timestamp ") and reason != "timestamp missing":
        return "timestamp unreadable"
    return reason
