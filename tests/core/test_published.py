"""The published report's CSV (``core.published``): canonical text, read back with its
provenance, regrouped into tables, and compared cell by cell."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from searchledger.core.published import (
    CSV_HEADER,
    ReportMeta,
    cell_value,
    csv_sha256,
    differences,
    group_tables,
    parse_report_csv,
    report_csv,
)

META = ReportMeta(date(2026, 1, 1), date(2026, 12, 31), "UTC", 5, 120, "ab" * 32)
ROWS = [
    ("Searches", "MIRS", "Documented", "12"),
    ("Searches", "MIRS", "Refused", "suppressed"),
    ("Searches", "MIRS", "Total", "suppressed"),
    ("Searches", "Total", "Documented", "12"),
    ("Searches", 'Leads, "derived"', "Documented", "0"),
]


def test_the_csv_reads_back_with_the_csv_module_and_our_parser():
    text = report_csv(META, ROWS)
    records = list(csv.reader(io.StringIO(text)))
    assert tuple(records[0]) == CSV_HEADER
    assert records[1:7] == [list(row) for row in META.rows()]
    assert [tuple(r) for r in records[7:]] == ROWS
    parsed = parse_report_csv(text)
    assert parsed.meta == META
    assert parsed.rows == ROWS
    assert "\r" not in text
    assert csv_sha256(text) == csv_sha256(report_csv(META, ROWS))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "first line"),
        ("table,row,column,value\nReport,Period,From\n", "3 fields"),
        ("table,row,column,value\nReport,Period,From,2026-01-01\n", "lack Period/To"),
    ],
)
def test_a_malformed_csv_is_refused(text, message):
    with pytest.raises(ValueError, match=message):
        parse_report_csv(text)


def test_tables_are_regrouped_with_totals_last():
    (table,) = group_tables(ROWS)
    assert table.columns == ("Documented", "Refused", "Total")
    assert [label for label, _ in table.rows] == ["MIRS", 'Leads, "derived"', "Total"]
    assert table.column("Documented") == (["MIRS", 'Leads, "derived"'], ["12", "0"])
    assert table.row("MIRS") == (["Documented", "Refused"], ["12", "suppressed"])
    assert [cell_value(c) for c in ("12", "0", "suppressed", "")] == [12, 0, None, None]


def test_differences_name_each_changed_missing_or_extra_cell():
    assert differences(ROWS, ROWS) == []
    changed = [*ROWS[:1], ("Searches", "MIRS", "Refused", "3"), *ROWS[2:4], ("X", "y", "z", "1")]
    assert differences(ROWS, changed) == [
        "Searches / MIRS / Refused: published suppressed, recomputed 3",
        'Searches / Leads, "derived" / Documented: published 0, recomputed (absent)',
        "X / y / z: published (absent), recomputed 1",
    ]
