"""Reading bulk-import CSV files: pure Python, no Django, no database.

:func:`parse_csv` turns the bytes of an uploaded file into rows of trimmed text (and dates)
for one of the three kinds in :data:`KINDS`, and reports every problem it can find with the
physical line number in the file (the header is line 1; a line ends at LF, CRLF or CR, also
inside a quoted field, so the numbers match what a text editor shows).

Problems come in two sizes:

* A problem with the file as a whole (not UTF-8, a NUL byte, empty, too big, too many rows,
  a bad header, broken quoting) raises :class:`CsvFileError`, which carries every
  :class:`Issue` found at that stage. This is the only exception :func:`parse_csv` raises.
* A problem with one row (wrong number of cells, a missing required value, a value that a
  spreadsheet would run as a formula, a date that is not ``YYYY-MM-DD``, a value that is not
  one of the allowed choices, a duplicate of an earlier row) is recorded on that
  :class:`Row` and in :attr:`ParsedFile.issues`; parsing goes on so that every bad row is
  reported at once.

The file format is RFC 4180 CSV: comma-separated, fields containing commas, quotes or line
breaks are enclosed in double quotes, and a quote inside a quoted field is doubled. The
encoding is UTF-8, with or without a byte-order mark; nothing else is guessed.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum, unique
from typing import NamedTuple

from typing_extensions import override

from searchledger.core.roles import Role

__all__ = [
    "COMPLETIONS",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_ROWS",
    "FORMULA_PREFIXES",
    "GRANTS",
    "KINDS",
    "PEOPLE",
    "Column",
    "ColumnType",
    "CsvFileError",
    "FileSpec",
    "Issue",
    "ParsedFile",
    "Row",
    "describe",
    "parse_csv",
]

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
"""Files larger than this (5 MiB) are refused before they are decoded."""

DEFAULT_MAX_ROWS = 50_000
"""Files with more data rows than this are refused as soon as the next row is reached."""

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")
"""A cell starting with one of these (before or after trimming spaces) is refused: a
spreadsheet that later opens an export of the data could run it as a formula."""


@unique
class ColumnType(StrEnum):
    """How a column's cells are read."""

    TEXT = "text"
    DATE = "date"
    CHOICE = "choice"


@dataclass(frozen=True)
class Column:
    """One column of an import file."""

    name: str
    required: bool
    help: str
    type: ColumnType = ColumnType.TEXT
    max_length: int = 200
    choices: tuple[str, ...] = ()
    case_insensitive: bool = False  # compared without case in duplicate checks


@dataclass(frozen=True)
class FileSpec:
    """The header and rules of one kind of import file.

    ``unique_keys`` lists column groups whose values may appear only once in a file (for
    example the username in a people file); a later row repeating them is an error.
    """

    kind: str
    description: str
    columns: tuple[Column, ...]
    unique_keys: tuple[tuple[str, ...], ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """Every column name, in documentation order."""
        return tuple(c.name for c in self.columns)

    @property
    def required_names(self) -> tuple[str, ...]:
        """The columns the header must contain (and every row must fill)."""
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        """The column called ``name``; KeyError if there is none."""
        for candidate in self.columns:
            if candidate.name == name:
                return candidate
        raise KeyError(name)


_USERNAME = 150
_CODE = 40

PEOPLE = FileSpec(
    kind="people",
    description=(
        "One row per person to create. The account gets no usable password: the person "
        "signs in by single sign-on or is given a password later."
    ),
    columns=(
        Column(
            "username",
            True,
            "the sign-in name; unique",
            max_length=_USERNAME,
            case_insensitive=True,
        ),
        Column("full_name", True, "given name(s) then family name", max_length=300),
        Column("email", True, "work e-mail address; unique", max_length=254, case_insensitive=True),
        Column(
            "role",
            True,
            "one of: " + ", ".join(r.value for r in Role),
            type=ColumnType.CHOICE,
            choices=tuple(r.value for r in Role),
        ),
        Column("org_unit", False, "code of an existing org unit", max_length=_CODE),
        Column(
            "supervisor",
            False,
            "username of an existing supervisor or administrator, or of one listed on an "
            "earlier line of the same file",
            max_length=_USERNAME,
        ),
        Column("job_title", False, "job title", max_length=200),
    ),
    unique_keys=(("username",), ("email",)),
)

GRANTS = FileSpec(
    kind="grants",
    description=(
        "One row per access grant to request. With approved_by the grant is also approved, "
        "recorded as a decision of that person, who must be allowed to approve it (the "
        "grantee's supervisor or an administrator, never the grantee)."
    ),
    columns=(
        Column(
            "username",
            True,
            "username of an existing person",
            max_length=_USERNAME,
            case_insensitive=True,
        ),
        Column("system", True, "code of an external system in service", max_length=_CODE),
        Column("job_function", True, "the job function that needs the access", max_length=200),
        Column("justification", True, "the need to know (at least 20 characters)", max_length=4000),
        Column("starts_on", True, "first day, YYYY-MM-DD", type=ColumnType.DATE),
        Column(
            "expires_on",
            True,
            "expiry, YYYY-MM-DD, after starts_on and at most three years later",
            type=ColumnType.DATE,
        ),
        Column(
            "external_account_id", False, "the person's account id on the system", max_length=200
        ),
        Column(
            "approved_by",
            False,
            "username of the supervisor or administrator who approved on paper",
            max_length=_USERNAME,
        ),
    ),
    unique_keys=(("username", "system"),),
)

COMPLETIONS = FileSpec(
    kind="completions",
    description="One row per completed training course.",
    columns=(
        Column(
            "username",
            True,
            "username of an existing person",
            max_length=_USERNAME,
            case_insensitive=True,
        ),
        Column("course", True, "code of an existing course", max_length=_CODE),
        Column(
            "completed_on",
            True,
            "day completed, YYYY-MM-DD, not in the future",
            type=ColumnType.DATE,
        ),
        Column("evidence", True, "certificate number or roster reference", max_length=300),
    ),
    unique_keys=(("username", "course", "completed_on"),),
)

KINDS: Mapping[str, FileSpec] = {spec.kind: spec for spec in (PEOPLE, GRANTS, COMPLETIONS)}
"""The import kinds by name."""


class Issue(NamedTuple):
    """One problem: the physical line (None for the whole file), the column name (None for
    the whole row or file) and what is wrong."""

    line: int | None
    column: str | None
    message: str

    @override
    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column {self.column}")
        return f"{', '.join(where) or 'file'}: {self.message}"


class CsvFileError(ValueError):
    """The file cannot be read as an import file at all; ``issues`` says why and where."""

    def __init__(self, *issues: Issue) -> None:
        self.issues = tuple(issues)
        super().__init__("; ".join(str(issue) for issue in issues))


@dataclass(frozen=True)
class Row:
    """One data row: trimmed text for every column of the kind ("" when the column is absent
    or the cell empty), parsed dates, where each cell starts, and the row's problems."""

    line: int
    values: Mapping[str, str]
    dates: Mapping[str, date] = field(default_factory=dict)
    cell_lines: Mapping[str, int] = field(default_factory=dict)
    issues: tuple[Issue, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the row has no problems."""
        return not self.issues

    def text(self, name: str) -> str:
        """The trimmed value of column ``name``."""
        return self.values.get(name, "")

    def date(self, name: str) -> date:
        """The parsed date of column ``name`` (only for a row without problems)."""
        return self.dates[name]

    def line_of(self, column: str | None) -> int:
        """The line on which ``column``'s cell starts (the row's line for None)."""
        if column is None:
            return self.line
        return self.cell_lines.get(column, self.line)


@dataclass(frozen=True)
class ParsedFile:
    """A file that could be read: its header and every non-blank data row."""

    spec: FileSpec
    header: tuple[str, ...]
    rows: tuple[Row, ...]

    @property
    def issues(self) -> tuple[Issue, ...]:
        """Every row problem, in file order."""
        return tuple(issue for row in self.rows for issue in row.issues)

    @property
    def row_count(self) -> int:
        """How many data rows the file has (blank lines are not rows)."""
        return len(self.rows)


def describe(spec: FileSpec) -> str:
    """Plain-text documentation of a kind's header, for help pages and the CLI."""
    lines = [f"{spec.kind}: {spec.description}", "", "Header: " + ",".join(spec.names), ""]
    for column in spec.columns:
        need = "required" if column.required else "optional"
        size = f"; at most {column.max_length} characters" if column.type is ColumnType.TEXT else ""
        lines.append(f"  {column.name} ({need}): {column.help}{size}")
    return "\n".join(lines)


# --- tokenising -------------------------------------------------------------------------

_QUOTED = re.compile(r'"([^"]*(?:""[^"]*)*)"')
_UNQUOTED = re.compile(r'[^,"\r\n]*')
_BREAK = re.compile(r"\r\n|\r|\n")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _breaks(text: str) -> int:
    """How many line breaks (LF, CRLF or CR) ``text`` contains."""
    return text.count("\n") + text.count("\r") - text.count("\r\n")


@dataclass(frozen=True)
class _Cell:
    raw: str
    line: int


@dataclass(frozen=True)
class _Record:
    line: int
    cells: tuple[_Cell, ...]

    @property
    def blank(self) -> bool:
        return all(not cell.raw.strip() for cell in self.cells)


class _SyntaxProblem(Exception):
    """Broken quoting at ``line`` in field ``index`` (0-based) of its record."""

    def __init__(self, line: int, index: int, message: str) -> None:
        self.line = line
        self.index = index
        self.message = message
        super().__init__(message)


def _records(text: str) -> Iterator[_Record]:
    """Split ``text`` into records of raw cells, tracking physical line numbers."""
    pos, line, end = 0, 1, len(text)
    while pos < end:
        start_line = line
        cells: list[_Cell] = []
        while True:
            cell_line = line
            if text.startswith('"', pos):
                quoted = _QUOTED.match(text, pos)
                if quoted is None:
                    raise _SyntaxProblem(
                        cell_line,
                        len(cells),
                        'a quoted field starting here is never closed (a closing " is missing)',
                    )
                inner = quoted.group(1)
                value = inner.replace('""', '"')
                line += _breaks(inner)
                pos = quoted.end()
                if pos < end and text[pos] not in ",\r\n":
                    raise _SyntaxProblem(
                        line,
                        len(cells),
                        'text follows the closing quote of a quoted field; write a " inside '
                        'a quoted field as ""',
                    )
            else:
                unquoted = _UNQUOTED.match(text, pos)
                # The pattern matches the empty string, so it always matches.
                value = unquoted.group(0) if unquoted is not None else ""
                pos += len(value)
                if pos < end and text[pos] == '"':
                    raise _SyntaxProblem(
                        line,
                        len(cells),
                        'a " inside a field that does not start with one; enclose the whole '
                        'field in quotes and write each " inside it as ""',
                    )
            cells.append(_Cell(value, cell_line))
            if pos < end and text[pos] == ",":
                pos += 1
                continue
            break
        newline = _BREAK.match(text, pos)
        if newline is not None:
            pos = newline.end()
            line += 1
        yield _Record(start_line, tuple(cells))


# --- decoding ---------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    """UTF-8 with or without a BOM, else :class:`CsvFileError` naming the offset and line."""
    for bom, name in ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32")):
        if data.startswith(bom):
            raise CsvFileError(Issue(1, None, f"the file is {name}; save it as CSV UTF-8"))
    for bom in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        if data.startswith(bom):
            raise CsvFileError(Issue(1, None, "the file is UTF-16; save it as CSV UTF-8"))
    skip = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        text = data[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = skip + exc.start
        line = _breaks(data[skip:offset].decode("utf-8")) + 1
        raise CsvFileError(
            Issue(
                line,
                None,
                f"the file is not UTF-8: byte 0x{data[offset]:02X} at byte offset {offset} "
                f"(line {line}) cannot be decoded; save the file as CSV UTF-8",
            )
        ) from None
    nul = text.find("\x00")
    if nul >= 0:
        offset = skip + len(text[:nul].encode("utf-8"))
        line = _breaks(text[:nul]) + 1
        raise CsvFileError(
            Issue(
                line,
                None,
                f"a NUL byte at byte offset {offset} (line {line}): this is not a text CSV file",
            )
        )
    return text


# --- parsing ----------------------------------------------------------------------------


def _header(spec: FileSpec, record: _Record) -> tuple[str, ...]:
    names = tuple(cell.raw.strip() for cell in record.cells)
    issues: list[Issue] = []
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        if not name:
            issues.append(Issue(1, None, f"header column {position} has no name"))
        elif name in seen:
            issues.append(
                Issue(
                    1,
                    name,
                    f"the header names {name!r} twice (columns {seen[name]} and {position})",
                )
            )
        else:
            seen[name] = position
    unknown = [name for name in seen if name not in spec.names]
    if unknown:
        issues.extend(
            Issue(
                1,
                name,
                f"unknown column {name!r}; the columns of a {spec.kind} file are "
                + ", ".join(spec.names),
            )
            for name in unknown
        )
    missing = [name for name in spec.required_names if name not in seen]
    if missing:
        issues.append(
            Issue(
                1,
                None,
                f"missing required column{'s' if len(missing) > 1 else ''}: " + ", ".join(missing),
            )
        )
    if issues:
        raise CsvFileError(*issues)
    return names


def _cell(column: Column, cell: _Cell) -> tuple[str, date | None, str | None]:
    """Check one cell: (trimmed value, parsed date, problem or None)."""
    value = cell.raw.strip()
    if _CONTROL.search(cell.raw):
        return value, None, "contains a control character"
    if cell.raw.startswith(FORMULA_PREFIXES) or value.startswith(FORMULA_PREFIXES):
        first = (cell.raw if cell.raw.startswith(FORMULA_PREFIXES) else value)[0]
        return (
            value,
            None,
            f"starts with {first!r}, which a spreadsheet could run as a formula; "
            "remove that character",
        )
    if not value:
        return value, None, "a value is required" if column.required else None
    if len(value) > column.max_length:
        return value, None, f"longer than {column.max_length} characters"
    if column.type is ColumnType.CHOICE and value not in column.choices:
        return value, None, f"{value!r} is not one of {', '.join(column.choices)}"
    if column.type is ColumnType.DATE:
        if not _ISO_DATE.fullmatch(value):
            return value, None, f"{value!r} is not a date written YYYY-MM-DD"
        try:
            return value, date(int(value[:4]), int(value[5:7]), int(value[8:])), None
        except ValueError:
            return value, None, f"{value} is not a real date"
    return value, None, None


def _row(spec: FileSpec, header: tuple[str, ...], record: _Record) -> Row:
    if len(record.cells) != len(header):
        return Row(
            line=record.line,
            values={},
            issues=(
                Issue(
                    record.line,
                    None,
                    f"the row has {len(record.cells)} cells but the header has "
                    f"{len(header)} columns",
                ),
            ),
        )
    values = dict.fromkeys(spec.names, "")
    dates: dict[str, date] = {}
    lines: dict[str, int] = {}
    issues: list[Issue] = []
    for name, cell in zip(header, record.cells, strict=True):
        value, parsed, problem = _cell(spec.column(name), cell)
        values[name] = value
        lines[name] = cell.line
        if problem is not None:
            issues.append(Issue(cell.line, name, problem))
        elif parsed is not None:
            dates[name] = parsed
    return Row(line=record.line, values=values, dates=dates, cell_lines=lines, issues=tuple(issues))


def _key(spec: FileSpec, row: Row, names: tuple[str, ...]) -> tuple[str, ...] | None:
    bad = {issue.column for issue in row.issues}
    if any(name in bad or not row.text(name) for name in names):
        return None
    return tuple(
        row.text(name).casefold() if spec.column(name).case_insensitive else row.text(name)
        for name in names
    )


def _duplicates(spec: FileSpec, row: Row, seen: dict[tuple[str, ...], int]) -> Row:
    """Record the row's unique keys in ``seen``; add an issue for a key seen before."""
    extra: list[Issue] = []
    for names in spec.unique_keys:
        key = _key(spec, row, names)
        if key is None:
            continue
        first = seen.setdefault((*names, *key), row.line)
        if first != row.line:
            what = " and ".join(names)
            extra.append(
                Issue(
                    row.line_of(names[0]),
                    names[0],
                    f"the same {what} as line {first}; each may appear only once",
                )
            )
    if not extra:
        return row
    return Row(
        line=row.line,
        values=row.values,
        dates=row.dates,
        cell_lines=row.cell_lines,
        issues=row.issues + tuple(extra),
    )


def parse_csv(
    data: bytes,
    kind: str | FileSpec,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> ParsedFile:
    """Read ``data`` as an import file of ``kind`` (a name in :data:`KINDS` or a spec).

    Raises :class:`CsvFileError` (and nothing else) when the file as a whole cannot be used;
    otherwise returns every non-blank data row with its own problems, if any.
    """
    spec = kind if isinstance(kind, FileSpec) else KINDS.get(kind)
    if spec is None:
        raise CsvFileError(
            Issue(None, None, f"unknown import kind {kind!r}; one of {', '.join(KINDS)}")
        )
    if len(data) > max_bytes:
        raise CsvFileError(
            Issue(
                None,
                None,
                f"the file is {len(data):,} bytes; the limit is {max_bytes:,} "
                "bytes; split it into smaller files",
            )
        )
    text = _decode(data)
    if not text.strip():
        raise CsvFileError(Issue(None, None, "the file is empty; it needs a header and rows"))
    records = _records(text)
    header: tuple[str, ...] = ()
    rows: list[Row] = []
    seen: dict[tuple[str, ...], int] = {}
    try:
        first = next(records)
        if first.blank:
            raise CsvFileError(
                Issue(
                    1,
                    None,
                    "line 1 is blank; the first line must be the header: " + ",".join(spec.names),
                )
            )
        header = _header(spec, first)
        for record in records:
            if record.blank:
                continue
            if len(rows) >= max_rows:
                raise CsvFileError(
                    Issue(
                        record.line,
                        None,
                        f"the file has more than {max_rows:,} rows; split it into smaller files",
                    )
                )
            rows.append(_duplicates(spec, _row(spec, header, record), seen))
    except _SyntaxProblem as problem:
        column = header[problem.index] if problem.index < len(header) else None
        raise CsvFileError(Issue(problem.line, column, problem.message)) from None
    if not rows:
        raise CsvFileError(Issue(None, None, "the file has a header but no rows"))
    return ParsedFile(spec=spec, header=header, rows=tuple(rows))
