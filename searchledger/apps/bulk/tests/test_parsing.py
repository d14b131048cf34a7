"""The bulk-import CSV parser: pure, so no database. Every line number is asserted exactly."""

from __future__ import annotations

import codecs
import csv
import io
import time
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from searchledger.apps.bulk.parsing import (
    COMPLETIONS,
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_ROWS,
    GRANTS,
    KINDS,
    PEOPLE,
    CsvFileError,
    Issue,
    ParsedFile,
    describe,
    parse_csv,
)

__all__: list[str] = []

COMPLETION_HEADER = "username,course,completed_on,evidence"


def completions(*lines: str, newline: str = "\n") -> bytes:
    """A completions file: the header, then ``lines`` verbatim."""
    return newline.join((COMPLETION_HEADER, *lines)).encode("utf-8") + newline.encode()


def file_error(data: bytes, kind: str = "completions", **limits: int) -> tuple[Issue, ...]:
    with pytest.raises(CsvFileError) as info:
        parse_csv(data, kind, **limits)
    assert str(info.value)
    return info.value.issues


def row_issues(data: bytes, kind: str = "completions") -> list[Issue]:
    return list(parse_csv(data, kind).issues)


# --- clean files ------------------------------------------------------------------------


def test_a_clean_file_gives_trimmed_values_dates_and_line_numbers():
    parsed = parse_csv(
        completions(
            "  ana , privacy,2026-01-05, cert 1 ",
            "",
            "ben,privacy,2025-12-31,roster 7",
        ),
        "completions",
    )
    assert parsed.issues == ()
    assert parsed.header == ("username", "course", "completed_on", "evidence")
    assert [row.line for row in parsed.rows] == [2, 4]  # line 3 is blank and is not a row
    first = parsed.rows[0]
    assert first.values == {
        "username": "ana",
        "course": "privacy",
        "completed_on": "2026-01-05",
        "evidence": "cert 1",
    }
    assert first.date("completed_on") == date(2026, 1, 5)
    assert parsed.row_count == 2


def test_optional_columns_may_be_left_out_and_columns_come_in_any_order():
    data = (
        b"role,email,full_name,username\n"
        b"officer,ana@example.gov,Ana Ames,ana\n"
        b"supervisor,ben@example.gov,Ben Bell,ben\n"
    )
    parsed = parse_csv(data, "people")
    assert parsed.issues == ()
    assert parsed.rows[1].values["role"] == "supervisor"
    assert parsed.rows[1].text("org_unit") == ""
    assert parsed.rows[1].text("supervisor") == ""


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_utf8_with_a_bom_and_any_line_ending(newline):
    data = codecs.BOM_UTF8 + completions(
        "zoë,privacy,2026-01-05,Zertifikat Nr. 4 — ok",
        "yann,privacy,2026-01-06,c2",
        newline=newline,
    )
    parsed = parse_csv(data, "completions")
    assert parsed.issues == ()
    assert parsed.header[0] == "username"  # the BOM is not part of the first name
    assert [row.line for row in parsed.rows] == [2, 3]
    assert parsed.rows[0].text("username") == "zoë"


def test_a_last_line_without_a_line_break_and_a_trailing_blank_line():
    data = (
        COMPLETION_HEADER + "\nana,privacy,2026-01-05,c1\n\n\nben,privacy,2026-01-05,c2"
    ).encode()
    assert [row.line for row in parse_csv(data, "completions").rows] == [2, 5]


def test_line_numbers_count_line_breaks_inside_quoted_fields():
    data = (
        b"username,system,job_function,justification,starts_on,expires_on\n"  # 1
        b'ana,mirs,Officer,"Identify subjects\n'  # 2
        b"of open cases\r\n"  # 3
        b'from ""existing"" leads",2026-01-01,2026-06-01\n'  # 4
        b"ben,mirs,Officer,Identify subjects of open cases,2026-01-01,2026-13-01\n"  # 5
        b'cal,mirs,"Task\rforce",Identify subjects of open cases,2026-01-01,2026-06-01\n'  # 6-7
        b"dee,mirs,Officer,Identify subjects of open cases,01/02/2026,2026-06-01\n"  # 8
    )
    parsed = parse_csv(data, "grants")
    assert [row.line for row in parsed.rows] == [2, 5, 6, 8]
    assert parsed.rows[0].text("justification") == (
        'Identify subjects\nof open cases\r\nfrom "existing" leads'
    )
    assert parsed.rows[0].line_of("starts_on") == 4  # the cell starts on the row's last line
    assert list(parsed.issues) == [
        Issue(5, "expires_on", "2026-13-01 is not a real date"),
        Issue(8, "starts_on", "'01/02/2026' is not a date written YYYY-MM-DD"),
    ]


def test_an_error_in_a_cell_names_the_line_where_that_cell_starts():
    data = completions('ana,privacy,"2026-01-05","line one', 'then =2+2"', "ben,privacy,x,c")
    assert row_issues(data) == [Issue(4, "completed_on", "'x' is not a date written YYYY-MM-DD")]
    data = completions('"ana\nbob",privacy,2026-01-05,"\n=cmd"')
    assert row_issues(data) == [
        Issue(
            3,
            "evidence",
            "starts with '\\n', which a spreadsheet could run as a formula; remove that character",
        )
    ]


# --- encoding and size ------------------------------------------------------------------


def test_latin_1_is_refused_with_the_byte_offset_and_line():
    text = COMPLETION_HEADER + "\nana,privacy,2026-01-05,c1\r\nzoë,privacy,2026-01-05,c2\n"
    data = text.encode("latin-1")
    offset = data.index(b"\xeb")
    assert file_error(data) == (
        Issue(
            3,
            None,
            f"the file is not UTF-8: byte 0xEB at byte offset {offset} (line 3) cannot be "
            "decoded; save the file as CSV UTF-8",
        ),
    )


def test_the_byte_offset_counts_the_bom():
    data = codecs.BOM_UTF8 + b"username\xff"
    (issue,) = file_error(data)
    assert issue.line == 1
    assert "byte 0xFF at byte offset 11 " in issue.message


@pytest.mark.parametrize(
    ("encoding", "name"),
    [("utf-16", "UTF-16"), ("utf-16-be", "UTF-16"), ("utf-32", "UTF-32")],
)
def test_utf16_and_utf32_are_refused_by_name(encoding, name):
    text = COMPLETION_HEADER + "\nana,privacy,2026-01-05,c1\n"
    data = text.encode(encoding)
    if not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE)):
        data = codecs.BOM_UTF16_BE + data
    (issue,) = file_error(data)
    assert issue.line == 1
    assert f"the file is {name}" in issue.message


def test_a_nul_byte_is_refused_with_its_offset_and_line():
    data = completions("ana,privacy,2026-01-05,c1", "ben,privacy,2026-01-05,c\x002")
    offset = data.index(b"\x00")
    assert file_error(data) == (
        Issue(
            3,
            None,
            f"a NUL byte at byte offset {offset} (line 3): this is not a text CSV file",
        ),
    )


@pytest.mark.parametrize("data", [b"", codecs.BOM_UTF8, b"\n\n", b"  \r\n \t\n"])
def test_an_empty_file_is_refused(data):
    assert file_error(data) == (Issue(None, None, "the file is empty; it needs a header and rows"),)


def test_a_header_without_rows_is_refused():
    assert file_error(completions("", " , , , ")) == (
        Issue(None, None, "the file has a header but no rows"),
    )


def test_a_blank_first_line_is_refused():
    (issue,) = file_error(b"\n" + completions("ana,privacy,2026-01-05,c1"))
    assert issue.line == 1
    assert "the first line must be the header" in issue.message


def test_a_file_over_the_byte_limit_is_refused_before_it_is_decoded():
    assert DEFAULT_MAX_BYTES == 5 * 1024 * 1024
    # Not UTF-8 at all: only the size is looked at.
    assert file_error(b"\xff" * (DEFAULT_MAX_BYTES + 1)) == (
        Issue(
            None,
            None,
            "the file is 5,242,881 bytes; the limit is 5,242,880 bytes; split it into "
            "smaller files",
        ),
    )
    data = completions("ana,privacy,2026-01-05,c1")
    assert parse_csv(data, "completions", max_bytes=len(data)).row_count == 1
    assert file_error(data, max_bytes=len(data) - 1)[0].line is None


def test_a_file_over_the_row_limit_is_refused_at_the_first_row_too_many():
    rows = ["ana,privacy,2026-01-05,c1", "", "ben,privacy,2026-01-05,c2"]
    assert parse_csv(completions(*rows), "completions", max_rows=2).row_count == 2
    # The third row is refused on its line, before the broken quoting after it is reached.
    data = completions(*rows, "cal,privacy,2026-01-05,c3", 'dee,"never closed')
    assert file_error(data, max_rows=2) == (
        Issue(5, None, "the file has more than 2 rows; split it into smaller files"),
    )


def test_the_default_row_limit():
    assert DEFAULT_MAX_ROWS == 50_000
    rows = [f"user{i},privacy,2026-01-05,c{i}" for i in range(DEFAULT_MAX_ROWS + 1)]
    started = time.perf_counter()
    issues = file_error(completions(*rows))
    assert issues == (
        Issue(50_002, None, "the file has more than 50,000 rows; split it into smaller files"),
    )
    assert time.perf_counter() - started < 30
    assert parse_csv(completions(*rows[:-1]), "completions").row_count == DEFAULT_MAX_ROWS


# --- the header -------------------------------------------------------------------------


def test_header_problems_are_all_named_together():
    data = b"username,Course,evidence,evidence,,notes\nana,privacy,c1,c1,,x\n"
    assert file_error(data) == (
        Issue(1, "evidence", "the header names 'evidence' twice (columns 3 and 4)"),
        Issue(1, None, "header column 5 has no name"),
        Issue(
            1,
            "Course",
            "unknown column 'Course'; the columns of a completions file are username, course, "
            "completed_on, evidence",
        ),
        Issue(
            1,
            "notes",
            "unknown column 'notes'; the columns of a completions file are username, course, "
            "completed_on, evidence",
        ),
        Issue(1, None, "missing required columns: course, completed_on"),
    )


def test_a_single_missing_column_is_named():
    assert file_error(b"username,course,completed_on\nana,privacy,2026-01-05\n") == (
        Issue(1, None, "missing required column: evidence"),
    )


def test_header_names_are_trimmed_and_quoted_names_are_fine():
    data = b' username ,"course", completed_on ,evidence\r\nana,privacy,2026-01-05,c1\r\n'
    assert parse_csv(data, "completions").rows[0].text("course") == "privacy"


def test_an_unknown_kind():
    assert file_error(b"a\nb\n", kind="badges")[0].message.startswith("unknown import kind")


# --- rows -------------------------------------------------------------------------------


def test_rows_with_the_wrong_number_of_cells():
    data = completions(
        "ana,privacy,2026-01-05,c1",
        "ben,privacy,2026-01-05",
        "cal,privacy,2026-01-05,c3,extra",
        "dee,privacy,2026-01-05,c4,",
    )
    assert row_issues(data) == [
        Issue(3, None, "the row has 3 cells but the header has 4 columns"),
        Issue(4, None, "the row has 5 cells but the header has 4 columns"),
        Issue(5, None, "the row has 5 cells but the header has 4 columns"),
    ]


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        ("=HYPERLINK(1)", "'='"),
        ("+1", "'+'"),
        ("-1", "'-'"),
        ("@SUM(A1)", "'@'"),
        ('"\tcmd"', "'\\t'"),
        ('"\rcmd"', "'\\r'"),
        ("  =1+1", "'='"),  # still a formula once trimmed
    ],
)
def test_formula_injection_is_refused_with_line_and_column(cell, shown):
    data = completions("ana,privacy,2026-01-05,c1", f"ben,privacy,2026-01-05,{cell}")
    assert row_issues(data) == [
        Issue(
            3,
            "evidence",
            f"starts with {shown}, which a spreadsheet could run as a formula; "
            "remove that character",
        )
    ]


def test_a_leading_minus_in_a_date_is_refused_as_a_formula():
    data = completions("ana,privacy,-2026-01-05,c1")
    (issue,) = row_issues(data)
    assert (issue.line, issue.column) == (2, "completed_on")
    assert issue.message.startswith("starts with '-'")


def test_operators_inside_a_value_are_fine():
    data = completions("ana,privacy,2026-01-05,roster 2026-07 = batch @ HQ +1")
    assert row_issues(data) == []


@pytest.mark.parametrize(
    "value",
    [
        "2026-1-05",
        "20260105",
        "05/01/2026",
        "2026-01-05T00:00",
        "2026-01-05Z",
        "\uff12\uff10\uff12\uff16-01-05",  # full-width digits are digits to Python, not to ISO 8601
        "2026/01/05",
    ],
)
def test_dates_are_strictly_iso(value):
    data = completions(f"ana,privacy,{value},c1")
    assert row_issues(data) == [
        Issue(2, "completed_on", f"{value!r} is not a date written YYYY-MM-DD")
    ]


@pytest.mark.parametrize("value", ["2026-02-30", "2025-02-29", "0000-01-01", "2026-00-10"])
def test_dates_must_exist(value):
    assert row_issues(completions(f"ana,privacy,{value},c1")) == [
        Issue(2, "completed_on", f"{value} is not a real date")
    ]


def test_required_values_choices_lengths_and_control_characters():
    data = (
        b"username,full_name,email,role,job_title\n"
        b"ana,Ana Ames,ana@example.gov,officer,\n"  # empty optional: fine
        b"ben,,ben@example.gov,officer,\n"
        b"cal,Cal Cole,cal@example.gov,Officer,\n"
        b"dee,Dee Dunn,dee@example.gov,auditor," + b"x" * 201 + b"\n"
        b"eve,Eve\x07Ess,eve@example.gov,auditor,\n"
    )
    assert row_issues(data, "people") == [
        Issue(3, "full_name", "a value is required"),
        Issue(
            4,
            "role",
            "'Officer' is not one of officer, supervisor, auditor, administrator, oversight",
        ),
        Issue(5, "job_title", "longer than 200 characters"),
        Issue(6, "full_name", "contains a control character"),
    ]


def test_several_problems_in_one_row_are_all_reported():
    data = completions(" ,=privacy,2026-02-31,")
    assert row_issues(data) == [
        Issue(2, "username", "a value is required"),
        Issue(
            2,
            "course",
            "starts with '=', which a spreadsheet could run as a formula; remove that character",
        ),
        Issue(2, "completed_on", "2026-02-31 is not a real date"),
        Issue(2, "evidence", "a value is required"),
    ]


def test_duplicates_within_the_file():
    people = (
        b"username,full_name,email,role\n"
        b"ana,Ana Ames,ana@example.gov,officer\n"
        b"ANA,Ana Other,other@example.gov,officer\n"
        b"ben,Ben Bell,Ana@Example.gov,officer\n"
    )
    assert row_issues(people, "people") == [
        Issue(3, "username", "the same username as line 2; each may appear only once"),
        Issue(4, "email", "the same email as line 2; each may appear only once"),
    ]
    grants = (
        b"username,system,job_function,justification,starts_on,expires_on\n"
        b"ana,mirs,Officer,Identify subjects of open cases,2026-01-01,2026-06-01\n"
        b"ana,dmv,Officer,Identify subjects of open cases,2026-01-01,2026-06-01\n"
        b"ana,mirs,Analyst,Identify subjects of open cases,2026-02-01,2026-06-01\n"
    )
    assert row_issues(grants, "grants") == [
        Issue(4, "username", "the same username and system as line 2; each may appear only once")
    ]
    same_course_other_day = completions(
        "ana,privacy,2026-01-05,c1", "ana,privacy,2025-01-05,c0", "ana,privacy,2026-01-05,c2"
    )
    assert row_issues(same_course_other_day) == [
        Issue(
            4,
            "username",
            "the same username and course and completed_on as line 2; each may appear only once",
        )
    ]


# --- broken quoting ---------------------------------------------------------------------


def test_a_quote_that_is_never_closed_names_the_line_where_it_opens():
    data = completions("ana,privacy,2026-01-05,c1", 'ben,privacy,2026-01-05,"cert', "cal,x,y,z")
    assert file_error(data) == (
        Issue(
            3,
            "evidence",
            'a quoted field starting here is never closed (a closing " is missing)',
        ),
    )


def test_text_after_a_closing_quote():
    data = completions('ana,"priv\nacy"x,2026-01-05,c1')
    (issue,) = file_error(data)
    assert (issue.line, issue.column) == (3, "course")
    assert issue.message.startswith("text follows the closing quote")


def test_a_quote_inside_an_unquoted_field():
    data = completions("ana,privacy,2026-01-05,c1", 'ben,privacy,2026-01-05,the "best"')
    (issue,) = file_error(data)
    assert (issue.line, issue.column) == (3, "evidence")
    assert "enclose the whole field in quotes" in issue.message


def test_broken_quoting_in_the_header():
    (issue,) = file_error(b'username,"course\n')
    assert (issue.line, issue.column) == (1, None)


# --- documentation ----------------------------------------------------------------------


def test_every_kind_is_documented():
    assert set(KINDS) == {"people", "grants", "completions"}
    assert PEOPLE.names == (
        "username",
        "full_name",
        "email",
        "role",
        "org_unit",
        "supervisor",
        "job_title",
    )
    assert GRANTS.required_names == (
        "username",
        "system",
        "job_function",
        "justification",
        "starts_on",
        "expires_on",
    )
    assert COMPLETIONS.required_names == COMPLETIONS.names
    text = describe(GRANTS)
    assert "Header: username,system,job_function" in text
    assert "  approved_by (optional): " in text
    with pytest.raises(KeyError):
        GRANTS.column("nope")


def test_the_user_documentation_shows_every_header_and_column():
    docs = (Path(__file__).resolve().parents[4] / "docs" / "bulk-import.md").read_text()
    for spec in KINDS.values():
        assert f"## {spec.kind}\n" in docs
        assert f"Header: `{','.join(spec.names)}`" in docs
        for column in spec.columns:
            need = "required" if column.required else "optional"
            assert f"| `{column.name}` | {need} |" in docs


# --- properties -------------------------------------------------------------------------

_LIMITS = {"max_bytes": 20_000, "max_rows": 50}


def _outcome(data: bytes, kind: str) -> ParsedFile | CsvFileError:
    """The parse, or the parser's own error; any other exception fails the test."""
    try:
        return parse_csv(data, kind, **_LIMITS)
    except CsvFileError as exc:
        return exc


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(sorted(KINDS)), data=st.binary(max_size=600))
def test_arbitrary_bytes_raise_only_the_parsers_error(kind, data):
    outcome = _outcome(data, kind)
    if isinstance(outcome, CsvFileError):
        assert outcome.issues
    else:
        assert outcome.row_count >= 1


_CSV_ALPHABET = st.sampled_from(list('ab ,"\r\n\t=-+@0123456789é\x00\x07\ufeff'))


@settings(max_examples=400, deadline=None)
@given(
    kind=st.sampled_from(sorted(KINDS)),
    body=st.text(alphabet=_CSV_ALPHABET, max_size=300),
    bom=st.booleans(),
)
def test_arbitrary_text_after_a_valid_header_raises_only_the_parsers_error(kind, body, bom):
    header = ",".join(KINDS[kind].names)
    data = (codecs.BOM_UTF8 if bom else b"") + (header + "\n" + body).encode("utf-8")
    outcome = _outcome(data, kind)
    if isinstance(outcome, CsvFileError):
        assert all(issue.line is None or issue.line >= 1 for issue in outcome.issues)
    else:
        for row in outcome.rows:
            assert row.line >= 2
            assert all(issue.line is not None and issue.line >= row.line for issue in row.issues)


_CELL = st.text(alphabet=st.sampled_from(list('abc ,"\r\n')), max_size=12)


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(st.tuples(_CELL, _CELL), min_size=1, max_size=8),
    terminator=st.sampled_from(["\n", "\r\n", "\r"]),
)
def test_line_numbers_are_physical_lines_whatever_the_quoted_content(rows, terminator):
    buffer = io.StringIO(newline="")
    out = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator=terminator)
    out.writerow(COMPLETIONS.names)
    expected_lines = []
    for index, (course, evidence) in enumerate(rows):
        # str.splitlines is an independent count of lines (the alphabet has no other breaks).
        expected_lines.append(len(buffer.getvalue().splitlines()) + 1)
        out.writerow([f"user{index}", course, "2026-01-05", evidence])
    parsed = parse_csv(buffer.getvalue().encode(), "completions")
    assert [row.line for row in parsed.rows] == expected_lines
    for row, (course, evidence) in zip(parsed.rows, rows, strict=True):
        assert row.values["course"] == course.strip()
        assert row.values["evidence"] == evidence.strip()
        course_breaks = len((course + "x").splitlines()) - 1
        assert row.line_of("course") == row.line
        assert row.line_of("completed_on") == row.line + course_breaks
        assert row.line_of("evidence") == row.line + course_breaks
