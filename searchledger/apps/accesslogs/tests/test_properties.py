"""Property: the SQL row validation of ``accesslogs.engine`` agrees, row by row, with a
plain Python reading of the same rules (``core.accesslogs``) on generated CSV files."""

from __future__ import annotations

import csv
import io
import tempfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from searchledger.apps.accesslogs import engine
from searchledger.core.accesslogs import MappingSpec, timestamp_has_offset, timestamp_is_iso_naive

SPEC = MappingSpec(
    account_column="user",
    timestamp_column="when",
    action_column="what",
    reference_column="ref",
    search_actions=("search", "Photo Search"),
)

_OFFSETS = [timezone(timedelta(minutes=m)) for m in (0, 60, -300, 330, -690, 840)]


@st.composite
def timestamps(draw: st.DrawFn) -> str:
    """ISO 8601 with or without an offset, in several spellings, or not a timestamp."""
    kind = draw(st.sampled_from(["aware", "naive", "garbage", "empty", "bad_date"]))
    if kind == "empty":
        return draw(st.sampled_from(["", "   "]))
    if kind == "garbage":
        return draw(st.text(alphabet="abxyz /:.", min_size=1, max_size=12))
    if kind == "bad_date":
        return draw(st.sampled_from(["2026-02-30T10:00:00Z", "2026-13-01 10:00:00+02:00"]))
    # Naive bounds: the strategy draws wall-clock times, then spells them with or without
    # an offset.
    low, high = datetime(1990, 1, 1), datetime(2090, 1, 1)  # noqa: DTZ001
    moment = draw(st.datetimes(min_value=low, max_value=high))
    sep = draw(st.sampled_from(["T", " "]))
    text = moment.strftime(f"%Y-%m-%d{sep}%H:%M")
    if draw(st.booleans()):
        text += moment.strftime(":%S")
        if moment.microsecond and draw(st.booleans()):
            text += f".{moment.microsecond:06d}"
    if kind == "naive":
        return text
    zone = draw(st.sampled_from(_OFFSETS))
    minutes = int(zone.utcoffset(None).total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    hh, mm = divmod(abs(minutes), 60)
    spelled = draw(
        st.sampled_from(
            ["Z" if minutes == 0 else f"{sign}{hh:02d}:{mm:02d}", f"{sign}{hh:02d}{mm:02d}"]
        )
    )
    return text + spelled


cells = st.text(alphabet="abcAB =+-@,\"'", max_size=6)
rows = st.lists(
    st.tuples(
        cells,
        timestamps(),
        st.sampled_from(["search", " SEARCH ", "photo search", "view", "", "  "]),
    ),
    min_size=1,
    max_size=25,
)


def expected(account: str, stamp: str, action: str) -> tuple[str | None, datetime | None]:
    """(the rejection reason kind, or None and the UTC time) by the rules in Python."""
    if not account.strip(" "):
        return "account id missing", None
    if not action.strip(" "):
        return "action missing", None
    stamp = stamp.strip(" ")
    if not stamp:
        return "timestamp missing", None
    if timestamp_is_iso_naive(stamp):
        return "time zone missing", None
    if not timestamp_has_offset(stamp):
        return "timestamp unreadable", None
    try:
        parsed = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return "timestamp unreadable", None
    return None, parsed.astimezone(UTC)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows)
def test_sql_validation_matches_the_python_rules(generated):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["user", "when", "what", "ref"])
    for i, (account, stamp, action) in enumerate(generated):
        writer.writerow([account, stamp, action, f"R{i}"])
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        path = work / "log.csv"
        path.write_text(buffer.getvalue(), encoding="utf-8")
        check = engine.check_file(path, SPEC)
        result = engine.run(
            path,
            SPEC,
            check,
            parquet_path=work / "events.parquet",
            rejects_path=work / "rejects.csv",
            earlier=[],
            strict=False,
            work_dir=work / "work",
        )
        got_events = {}
        if result.parquet_path is not None:
            # A private connection, never DuckDB's process-wide default one.
            with duckdb.connect() as con:
                relation = con.read_parquet(str(result.parquet_path))
                for line, account, ts, action, is_search in relation.select(
                    "line, account_id, ts, action, is_search"
                ).fetchall():
                    got_events[line] = (account, ts, action, is_search)
    reasons = {record: reason for record, _, reason in result.sample}
    assert result.records_read == len(generated)
    for record, (account, stamp, action) in enumerate(generated, start=1):
        kind, moment = expected(account, stamp, action)
        if kind is None:
            assert record in got_events, (record, account, stamp, action, reasons.get(record))
            got_account, ts, got_action, is_search = got_events[record]
            assert got_account == account.strip(" ")
            assert got_action == action.strip(" ")
            assert ts == moment
            assert is_search is SPEC.is_search(action)
        else:
            assert record not in got_events
            assert engine._reason_key(reasons[record]) == kind, (stamp, reasons[record])
    assert result.rejected + result.valid_events == len(generated)
