"""Fuzz target: importing an external system's access log, the whole read on small files
(``apps.accesslogs.engine``: ``check_file`` then ``run``, the DuckDB reading, row
validation, de-duplication and Parquet writing that ``do_run_access_log_import`` drives;
no Django).

The first byte picks a mapping (CSV with ISO 8601 times; CSV with ``;`` and a naive time
zone; JSON lines; Latin-1 CSV with a strptime format and a system column), strict mode, and
whether an earlier import's events exist; the rest is the file. Contract: only
``LogFileError``; a finished run's counts add up, and its event file holds exactly the
valid, new events.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import duckdb

from fuzz.harness import guard, main
from searchledger.apps.accesslogs.engine import LogFileError, check_file, run
from searchledger.core.accesslogs import LogFormat, MappingSpec

MAPPINGS = (
    MappingSpec("user", "time", "action", "ref", ("search",)),
    MappingSpec(
        "user",
        "time",
        "action",
        "ref",
        ("search", "query"),
        delimiter=";",
        case_ref_column="case",
        naive_timezone="America/New_York",
    ),
    MappingSpec("user", "time", "action", "ref", ("search",), format=LogFormat.JSONL),
    MappingSpec(
        "user",
        "time",
        "action",
        "ref",
        ("search",),
        encoding="latin-1",
        timestamp_format="%d/%m/%Y %H:%M:%S",
        naive_timezone="UTC",
        system_column="sys",
        system_value="mirs",
    ),
)
EARLIER = b"user,time,action,ref\nu1,2024-01-02T03:04:05Z,search,r1\n"

_WORK = Path(tempfile.mkdtemp(prefix="fuzz-access-log-"))
_earlier_parquet: Path | None = None


def _earlier() -> Path:
    """An event file from an earlier import of the first mapping, made once."""
    global _earlier_parquet  # noqa: PLW0603  # made once per process, on first use
    if _earlier_parquet is None:
        source = _WORK / "earlier.csv"
        source.write_bytes(EARLIER)
        spec = MAPPINGS[0]
        _earlier_parquet = _WORK / "earlier.parquet"
        run(
            source,
            spec,
            check_file(source, spec),
            parquet_path=_earlier_parquet,
            rejects_path=_WORK / "earlier-rejects.csv",
            earlier=[],
            strict=False,
            work_dir=_WORK / "work-earlier",
            threads=1,
            memory_limit="256MB",
        )
    return _earlier_parquet


def check(data: bytes) -> None:
    """Import ``data[1:]`` with the options ``data[0]`` picks."""
    if not data:
        return
    options, body = data[0], data[1:]
    spec = MAPPINGS[options % len(MAPPINGS)]
    strict = bool(options & 0x10)
    earlier = [_earlier()] if options & 0x20 else []
    run_dir = Path(tempfile.mkdtemp(dir=_WORK))
    try:
        source = run_dir / "log.txt"
        source.write_bytes(body)
        checked = check_file(source, spec, system="mirs")
        result = run(
            source,
            spec,
            checked,
            parquet_path=run_dir / "events.parquet",
            rejects_path=run_dir / "rejects.csv",
            earlier=earlier,
            strict=strict,
            work_dir=run_dir / "work",
            threads=1,
            memory_limit="256MB",
        )
        assert result.rejected == sum(result.reject_reasons.values())
        if result.parquet_path is None:
            assert strict
            assert result.rejected
            return
        with duckdb.connect() as con:
            written = con.execute(
                "SELECT count(*) FROM read_parquet(?)", [str(result.parquet_path)]
            ).fetchone()
        assert written is not None
        assert written[0] == result.valid_events
        assert result.valid_events == (
            result.records_read
            - (result.rejected - _structural(result))
            - result.duplicates_in_file
            - result.duplicates_earlier
        ), "the counts of a finished import do not add up"
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


def _structural(result: object) -> int:
    """Rejections of physical lines the reader could not split (not counted as records)."""
    reasons = getattr(result, "reject_reasons", {})
    return sum(
        n for k, n in reasons.items() if k.startswith(("malformed CSV row", "malformed line"))
    )


TestOneInput = guard(check, (LogFileError,))

if __name__ == "__main__":
    main(TestOneInput)
