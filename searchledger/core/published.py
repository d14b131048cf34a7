"""The published transparency report as CSV: one canonical text, so that its SHA-256 (which
the ledger records when the report is published) identifies it, and so that anyone can
recompute the report and compare.

The CSV has the columns ``table,row,column,value``. Its first rows, in the table
``Report``, say what it was computed from: the period (first and last day), the time zone
the days are counted in, the suppression threshold, and the ledger checkpoint (tree size
and root hash). The rest are the report's cells (``TransparencyReport.rows()``), a hidden
count reading ``suppressed``. Lines end with ``\\n``; fields are quoted only when needed.
A cell that a spreadsheet would run as a formula (one starting with = + - @, a tab or a
carriage return), or that starts with a single quote, is written with one more single quote
in front, which reading takes off.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

__all__ = [
    "CSV_HEADER",
    "META_TABLE",
    "PublishedCsv",
    "PublishedTable",
    "ReportMeta",
    "cell_value",
    "csv_sha256",
    "differences",
    "group_tables",
    "parse_report_csv",
    "report_csv",
]

CSV_HEADER = ("table", "row", "column", "value")
META_TABLE = "Report"
_META_ROWS = (
    ("Period", "From"),
    ("Period", "To"),
    ("Period", "Time zone"),
    ("Suppression", "Threshold"),
    ("Checkpoint", "Size"),
    ("Checkpoint", "Root"),
)

Row = tuple[str, str, str, str]


@dataclass(frozen=True)
class ReportMeta:
    """What a published report was computed from. ``last_day`` is included."""

    first_day: date
    last_day: date
    time_zone: str
    threshold: int
    checkpoint_size: int
    checkpoint_root: str

    def rows(self) -> list[Row]:
        """The ``Report`` rows of the CSV."""
        values = (
            self.first_day.isoformat(),
            self.last_day.isoformat(),
            self.time_zone,
            str(self.threshold),
            str(self.checkpoint_size),
            self.checkpoint_root,
        )
        return [
            (META_TABLE, row, column, value)
            for (row, column), value in zip(_META_ROWS, values, strict=True)
        ]


@dataclass(frozen=True)
class PublishedCsv:
    """A report CSV read back: what it was computed from, and its cells."""

    meta: ReportMeta
    rows: list[Row]


def report_csv(meta: ReportMeta, rows: Sequence[Sequence[str]]) -> str:
    """The canonical CSV text of a report."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    # With "\n" line ends the csv module does not quote a field holding a lone "\r", which
    # a reader then takes for a line end: such a row is written with every field quoted
    # (any other row is unchanged, so the text, and its SHA-256, of other reports is too).
    quoted = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(CSV_HEADER)
    for row in [*meta.rows(), *rows]:
        cells = tuple(_escape_cell(str(cell)) for cell in row)
        (quoted if any("\r" in cell for cell in cells) else writer).writerow(cells)
    return buffer.getvalue()


# A row label is a system's name or a purpose's label, which an administrator may have
# typed as "=HYPERLINK(...)": a cell starting with = + - @, a tab or a carriage return is
# written with a leading single quote, so a spreadsheet shows it as text instead of running
# it. A cell already starting with a quote gets one more, so reading takes exactly one off
# and a report reads back as it was written. Other cells (and so the text and SHA-256 of
# every report without such a label) are unchanged.
_QUOTED_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")


def _escape_cell(cell: str) -> str:
    return "'" + cell if cell.startswith(_QUOTED_STARTS) else cell


def _unescape_cell(cell: str) -> str:
    return cell[1:] if cell.startswith("'") else cell


def csv_sha256(text: str) -> str:
    """The SHA-256 of the CSV's UTF-8 bytes, hex: what the ledger records."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_report_csv(text: str) -> PublishedCsv:
    """Read a report CSV; raise ValueError naming the first problem."""
    try:
        records = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        # A field longer than the csv module's limit (128 KiB): not a report of ours.
        raise ValueError(f"the file is not readable CSV: {exc}") from None
    if not records or tuple(records[0]) != CSV_HEADER:
        raise ValueError(f"the first line must be {','.join(CSV_HEADER)}")
    for number, record in enumerate(records[1:], start=2):
        if len(record) != len(CSV_HEADER):
            raise ValueError(f"line {number} has {len(record)} fields, not {len(CSV_HEADER)}")
    body = [[_unescape_cell(cell) for cell in record] for record in records[1:]]
    meta = {(r[1], r[2]): r[3] for r in body if r[0] == META_TABLE}
    missing = [f"{row}/{column}" for row, column in _META_ROWS if (row, column) not in meta]
    if missing:
        raise ValueError(f"the Report rows lack {', '.join(missing)}")
    try:
        parsed = ReportMeta(
            first_day=date.fromisoformat(meta["Period", "From"]),
            last_day=date.fromisoformat(meta["Period", "To"]),
            time_zone=meta["Period", "Time zone"],
            threshold=int(meta["Suppression", "Threshold"]),
            checkpoint_size=int(meta["Checkpoint", "Size"]),
            checkpoint_root=meta["Checkpoint", "Root"],
        )
    except ValueError as exc:
        raise ValueError(f"a Report row is malformed: {exc}") from exc
    cells = [(r[0], r[1], r[2], r[3]) for r in body if r[0] != META_TABLE]
    return PublishedCsv(meta=parsed, rows=cells)


@dataclass(frozen=True)
class PublishedTable:
    """The cells of one table, regrouped for display: its columns and, per row, the cell
    text of each column (``"suppressed"`` for a hidden count, ``""`` for no cell)."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, tuple[str, ...]], ...]

    def column(self, name: str, *, totals: bool = False) -> tuple[list[str], list[str]]:
        """The row labels and the cells of column ``name`` (without the Total row unless
        ``totals``)."""
        index = self.columns.index(name)
        chosen = [(label, cells) for label, cells in self.rows if totals or label != "Total"]
        return [label for label, _ in chosen], [cells[index] for _, cells in chosen]

    def row(self, label: str, *, totals: bool = False) -> tuple[list[str], list[str]]:
        """The column names and the cells of row ``label`` (without the Total column unless
        ``totals``)."""
        cells = dict(self.rows)[label]
        chosen = [
            (c, v) for c, v in zip(self.columns, cells, strict=True) if totals or c != "Total"
        ]
        return [c for c, _ in chosen], [v for _, v in chosen]


def group_tables(rows: Sequence[Sequence[str]]) -> list[PublishedTable]:
    """The report's cells (table, row, column, value) as tables, in the order they come."""
    order: list[str] = []
    columns: dict[str, list[str]] = {}
    row_order: dict[str, list[str]] = {}
    cells: dict[str, dict[tuple[str, str], str]] = {}
    for table, row, column, value in rows:
        if table == META_TABLE:
            continue
        if table not in cells:
            order.append(table)
            columns[table], row_order[table], cells[table] = [], [], {}
        if column not in columns[table]:
            columns[table].append(column)
        if row not in row_order[table]:
            row_order[table].append(row)
        cells[table][row, column] = value
    # Totals last, whichever came first.
    out = []
    for table in order:
        cols = sorted(columns[table], key=lambda c: c == "Total")
        labels = sorted(row_order[table], key=lambda r: r == "Total")
        out.append(
            PublishedTable(
                title=table,
                columns=tuple(cols),
                rows=tuple(
                    (label, tuple(cells[table].get((label, c), "") for c in cols))
                    for label in labels
                ),
            )
        )
    return out


def cell_value(text: str) -> int | None:
    """A published cell as a number for a chart: None when suppressed or empty."""
    return int(text) if text.isdigit() else None


def differences(published: Sequence[Row], recomputed: Sequence[Row], limit: int = 20) -> list[str]:
    """Each cell that differs between two reports, in words (at most ``limit``); empty
    when they agree cell for cell."""
    found: list[str] = []
    mine = {(t, r, c): v for t, r, c, v in recomputed}
    theirs = {(t, r, c): v for t, r, c, v in published}
    for key in [*theirs, *(k for k in mine if k not in theirs)]:
        if theirs.get(key) != mine.get(key):
            table, row, column = key
            found.append(
                f"{table} / {row} / {column}: published {theirs.get(key, '(absent)')}, "
                f"recomputed {mine.get(key, '(absent)')}"
            )
    return found[:limit]
