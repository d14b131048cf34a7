"""Pure rules for external access logs: the column mapping, timestamps, formula cells and
file names. No Django, no DuckDB: the importer (``apps.accesslogs.engine``) turns these
rules into SQL, and the actions store what they validate.

A **column mapping** says how to read one system's log: its format (CSV or JSON lines),
the CSV delimiter and the encoding, which column (or JSON key) holds the account id, the
timestamp, the action, the query or record reference and optionally a case reference, how
timestamps are written, what time zone a timestamp without an offset is in (blank: such a
timestamp is a rejected row), which action values are searches, and optionally a column
whose value must name the system (rows with another value belong to another system).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum, unique
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

__all__ = [
    "ENCODINGS",
    "FORMULA_PREFIXES",
    "ISO_NAIVE_PATTERN",
    "ISO_WITH_OFFSET_PATTERN",
    "NAME_MAX",
    "LogFormat",
    "MappingError",
    "MappingSpec",
    "is_formula_like",
    "mapping_from_json",
    "parse_account_mappings",
    "sanitise_filename",
    "timestamp_has_offset",
    "timestamp_is_iso_naive",
]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""A cell starting with one of these could be run as a formula by a spreadsheet that opens
an export of it. Such cells are stored as text, counted, and neutralised in every CSV we
write (a leading single quote)."""

ENCODINGS = ("utf-8", "utf-16", "latin-1")
"""The encodings a log may be declared in (DuckDB reads these without extensions)."""

NAME_MAX = 200
"""The longest original file name kept."""

# ISO 8601 / RFC 3339 date and time with an explicit offset ("Z", "+02:00", "+0200", "+02"),
# and the same without one. A date alone is not a timestamp.
_ISO_CORE = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?"
ISO_WITH_OFFSET_PATTERN = _ISO_CORE + r"(Z|[+-]\d{2}(:?\d{2})?)"
ISO_NAIVE_PATTERN = _ISO_CORE
_ISO_WITH_OFFSET = re.compile(ISO_WITH_OFFSET_PATTERN)
_ISO_NAIVE = re.compile(ISO_NAIVE_PATTERN)
# Column names and JSON keys: printable, no double quote or backslash (they are quoted
# into SQL identifiers and JSON paths).
_NAME = re.compile(r'^[^"\\\x00-\x1f\x7f]{1,120}$')
_STRPTIME_DIRECTIVE = re.compile(r"%[aAbBcdfgGHIjmMpSuUVwWxXyYzZ%]")
_ZONE_DIRECTIVES = ("%z", "%Z")


@unique
class LogFormat(StrEnum):
    """How a log file is laid out."""

    CSV = "csv"
    JSONL = "jsonl"


class MappingError(ValueError):
    """A column mapping is not usable; ``errors`` maps each setting to what is wrong."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


@dataclass(frozen=True)
class MappingSpec:
    """How to read one system's access log (see the module docstring)."""

    account_column: str
    timestamp_column: str
    action_column: str
    reference_column: str
    search_actions: tuple[str, ...]
    format: LogFormat = LogFormat.CSV
    delimiter: str = ","
    encoding: str = "utf-8"
    case_ref_column: str = ""
    timestamp_format: str = ""  # blank: ISO 8601; else a strptime pattern
    naive_timezone: str = ""  # blank: a timestamp without an offset is rejected
    system_column: str = ""
    system_value: str = ""

    @property
    def columns(self) -> dict[str, str]:
        """Each event field mapped, as {field: source column or key}, optional ones only
        when set."""
        found = {
            "account_id": self.account_column,
            "timestamp": self.timestamp_column,
            "action": self.action_column,
            "reference": self.reference_column,
        }
        if self.case_ref_column:
            found["case_ref"] = self.case_ref_column
        if self.system_column:
            found["system"] = self.system_column
        return found

    @property
    def format_has_zone(self) -> bool:
        """Whether a strptime pattern reads the offset itself (``%z``/``%Z``)."""
        return any(d in self.timestamp_format for d in _ZONE_DIRECTIVES)

    def errors(self) -> dict[str, str]:
        """Everything wrong with this mapping, by setting; empty when it is usable."""
        found: dict[str, str] = {}
        try:
            LogFormat(self.format)
        except ValueError:
            found["format"] = "the format must be csv or jsonl"
        if self.format == LogFormat.CSV and (len(self.delimiter) != 1 or self.delimiter in '"\r\n'):
            found["delimiter"] = "the delimiter must be one character (not a quote or newline)"
        if self.encoding not in ENCODINGS:
            found["encoding"] = f"the encoding must be one of {', '.join(ENCODINGS)}"
        for name, value in (
            ("account_column", self.account_column),
            ("timestamp_column", self.timestamp_column),
            ("action_column", self.action_column),
            ("reference_column", self.reference_column),
        ):
            if not value:
                found[name] = "required"
            elif not _NAME.match(value):
                found[name] = "at most 120 printable characters, without double quotes"
        for name, value in (
            ("case_ref_column", self.case_ref_column),
            ("system_column", self.system_column),
        ):
            if value and not _NAME.match(value):
                found[name] = "at most 120 printable characters, without double quotes"
        used = [v for v in self.columns.values() if v]
        if len(set(used)) != len(used):
            found["columns"] = "each field must come from a different column"
        if bool(self.system_column) != bool(self.system_value.strip()):
            found["system_value"] = "give both the system column and the value naming this system"
        if not self.search_actions or any(not a.strip() for a in self.search_actions):
            found["search_actions"] = "name at least one action value that counts as a search"
        if self.timestamp_format and not _STRPTIME_DIRECTIVE.search(self.timestamp_format):
            found["timestamp_format"] = "a strptime pattern such as %d/%m/%Y %H:%M:%S %z"
        if self.naive_timezone:
            if not _zone_exists(self.naive_timezone):
                found["naive_timezone"] = (
                    f"{self.naive_timezone!r} is not an IANA time zone (e.g. America/New_York)"
                )
        elif self.timestamp_format and not self.format_has_zone:
            found["naive_timezone"] = (
                "the timestamp format has no offset (%z); name the time zone the log's times are in"
            )
        return found

    def validate(self) -> MappingSpec:
        """Return self, or raise :class:`MappingError` naming every problem."""
        problems = self.errors()
        if problems:
            raise MappingError(problems)
        return self

    def is_search(self, action: str) -> bool:
        """Whether an action value counts as a search (trimmed, compared without case)."""
        wanted = {a.strip().casefold() for a in self.search_actions}
        return action.strip().casefold() in wanted

    def as_json(self) -> dict[str, Any]:
        """The mapping as the JSON object the ``--mapping`` file holds."""
        return {
            "format": str(self.format),
            "delimiter": self.delimiter,
            "encoding": self.encoding,
            "account_id": self.account_column,
            "timestamp": self.timestamp_column,
            "action": self.action_column,
            "reference": self.reference_column,
            "case_ref": self.case_ref_column,
            "timestamp_format": self.timestamp_format,
            "naive_timezone": self.naive_timezone,
            "search_actions": list(self.search_actions),
            "system_column": self.system_column,
            "system_value": self.system_value,
        }


def _zone_exists(name: str) -> bool:
    if name not in available_timezones() and name != "UTC":
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


_JSON_KEYS = frozenset(
    {
        "format",
        "delimiter",
        "encoding",
        "account_id",
        "timestamp",
        "action",
        "reference",
        "case_ref",
        "timestamp_format",
        "naive_timezone",
        "search_actions",
        "system_column",
        "system_value",
    }
)


def mapping_from_json(data: object) -> MappingSpec:
    """A validated mapping from the JSON object of a ``--mapping`` file (see
    docs/access-logs.md); raise :class:`MappingError` naming every problem."""
    if not isinstance(data, Mapping):
        raise MappingError({"mapping": "the mapping file must hold one JSON object"})
    unknown = sorted(set(data) - _JSON_KEYS)
    if unknown:
        raise MappingError({"mapping": f"unknown settings {unknown}; known: {sorted(_JSON_KEYS)}"})

    def text(key: str, default: str = "") -> str:
        value = data.get(key, default)
        return value if isinstance(value, str) else ""

    actions = data.get("search_actions", [])
    if isinstance(actions, str):
        actions = [actions]
    if not isinstance(actions, Sequence) or not all(isinstance(a, str) for a in actions):
        raise MappingError({"search_actions": "a list of action values"})
    try:
        fmt = LogFormat(text("format", "csv"))
    except ValueError:
        raise MappingError({"format": "the format must be csv or jsonl"}) from None
    return MappingSpec(
        format=fmt,
        delimiter=text("delimiter", ","),
        encoding=text("encoding", "utf-8").lower(),
        account_column=text("account_id"),
        timestamp_column=text("timestamp"),
        action_column=text("action"),
        reference_column=text("reference"),
        case_ref_column=text("case_ref"),
        timestamp_format=text("timestamp_format"),
        naive_timezone=text("naive_timezone"),
        search_actions=tuple(a.strip() for a in actions),
        system_column=text("system_column"),
        system_value=text("system_value").strip(),
    ).validate()


def is_formula_like(value: str) -> bool:
    """Whether a spreadsheet could run this cell as a formula."""
    return value.startswith(FORMULA_PREFIXES)


def timestamp_has_offset(value: str) -> bool:
    """Whether an ISO 8601 timestamp carries its offset (``Z``, ``+02:00``, ...)."""
    return _ISO_WITH_OFFSET.fullmatch(value.strip()) is not None


def timestamp_is_iso_naive(value: str) -> bool:
    """Whether a value is an ISO 8601 date and time without an offset."""
    return _ISO_NAIVE.fullmatch(value.strip()) is not None


def sanitise_filename(name: str) -> str:
    """The last component of an uploaded file's name, safe to show and to use in a path:
    directories (``/`` and ``\\``) dropped, control characters removed, other spaces made
    plain spaces, no leading dots,
    at most :data:`NAME_MAX` characters; ``upload`` if nothing is left."""
    base = re.split(r"[\\/]", name)[-1]
    base = "".join(
        " " if unicodedata.category(ch)[0] == "Z" else ch
        for ch in base
        if unicodedata.category(ch)[0] != "C"
    )
    base = base.strip().lstrip(".").strip()
    return base[:NAME_MAX] or "upload"


def parse_account_mappings(data: bytes) -> tuple[list[tuple[int, str, str]], list[str]]:
    """Read a CSV file of account mappings (header ``external_id,username``; UTF-8) into
    (line, external id, username) rows, and every problem as "line N: ..." (the header is
    line 1). Rows are returned only when there is no problem at all."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return [], [f"the file is not valid UTF-8 (byte offset {exc.start:,})"]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        return _account_mapping_rows(reader)
    except csv.Error as exc:
        # A field longer than the csv module's limit (128 KiB), or broken quoting.
        return [], [f"line {reader.line_num}: the file is not readable CSV ({exc})"]


def _account_mapping_rows(
    reader: Any,
) -> tuple[list[tuple[int, str, str]], list[str]]:
    header = [h.strip().casefold() for h in next(reader, [])]
    if header[:2] != ["external_id", "username"]:
        return [], ["line 1: the header must be external_id,username"]
    rows: list[tuple[int, str, str]] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for record in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != 2:
            problems.append(f"line {line}: expected 2 cells, found {len(record)}")
            continue
        external_id, username = record[0].strip(), record[1].strip()
        if not external_id or not username:
            problems.append(f"line {line}: both the external id and the username are required")
            continue
        if external_id in seen:
            problems.append(f"line {line}: {external_id!r} is already on line {seen[external_id]}")
            continue
        seen[external_id] = line
        rows.append((line, external_id, username))
    if not rows and not problems:
        problems.append("the file has no mappings after its header")
    return ([] if problems else rows), problems
