"""The pure rules for access logs: mappings, timestamps, formula cells, file names."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from searchledger.core.accesslogs import (
    NAME_MAX,
    LogFormat,
    MappingError,
    MappingSpec,
    is_formula_like,
    mapping_from_json,
    parse_account_mappings,
    sanitise_filename,
    timestamp_has_offset,
    timestamp_is_iso_naive,
)

EXAMPLE = {
    "format": "csv",
    "delimiter": ";",
    "encoding": "latin-1",
    "account_id": "Benutzer",
    "timestamp": "Zeit",
    "action": "Aktion",
    "reference": "Abfrage",
    "case_ref": "Akte",
    "timestamp_format": "%d.%m.%Y %H:%M:%S",
    "naive_timezone": "Europe/Berlin",
    "search_actions": ["SUCHE", "Suche mit Bild"],
    "system_column": "System",
    "system_value": "MIRS",
}


def test_a_mapping_file_round_trips():
    spec = mapping_from_json(EXAMPLE)
    assert spec.format is LogFormat.CSV
    assert spec.as_json() == EXAMPLE
    assert spec.is_search(" suche ")
    assert not spec.is_search("login")
    assert spec.columns["system"] == "System"


@pytest.mark.parametrize(
    ("change", "setting", "message"),
    [
        ({"colour": "blue"}, "mapping", "unknown settings ['colour']"),
        ({"format": "xml"}, "format", "csv or jsonl"),
        ({"encoding": "cp1252"}, "encoding", "utf-8, utf-16, latin-1"),
        ({"delimiter": '"'}, "delimiter", "one character"),
        ({"account_id": ""}, "account_column", "required"),
        ({"reference": 'a"b'}, "reference_column", "without double quotes"),
        ({"action": "Zeit"}, "columns", "different column"),
        ({"system_value": ""}, "system_value", "both"),
        ({"search_actions": []}, "search_actions", "at least one"),
        ({"timestamp_format": "dd.mm.yyyy"}, "timestamp_format", "strptime"),
        ({"naive_timezone": "Europe/Atlantis"}, "naive_timezone", "not an IANA time zone"),
        ({"naive_timezone": ""}, "naive_timezone", "has no offset"),
    ],
)
def test_every_bad_setting_is_named(change, setting, message):
    with pytest.raises(MappingError) as refused:
        mapping_from_json({**EXAMPLE, **change})
    assert setting in refused.value.errors
    assert message in refused.value.errors[setting]


def test_a_pattern_with_an_offset_needs_no_time_zone():
    spec = MappingSpec(
        account_column="a",
        timestamp_column="t",
        action_column="x",
        reference_column="r",
        search_actions=("s",),
        timestamp_format="%d/%m/%Y %H:%M %z",
    )
    assert spec.errors() == {}
    assert spec.format_has_zone


@pytest.mark.parametrize(
    ("value", "offset", "naive"),
    [
        ("2026-03-01T10:00:00Z", True, False),
        ("2026-03-01 10:00:00+02:00", True, False),
        ("2026-03-01T10:00:00.123456-0530", True, False),
        ("2026-03-01T10:00-05", True, False),
        ("2026-03-01T10:00:00", False, True),
        ("2026-03-01 10:00", False, True),
        ("2026-03-01", False, False),
        ("01/03/2026 10:00", False, False),
        ("2026-03-01t10:00:00z", False, False),
    ],
)
def test_iso_timestamps_with_and_without_offsets(value, offset, naive):
    assert timestamp_has_offset(value) is offset
    assert timestamp_is_iso_naive(value) is naive


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_formula_like_cells(value):
    assert is_formula_like(value)


def test_plain_cells_are_not_formula_like():
    assert not is_formula_like("alice")
    assert not is_formula_like("2026-03-01")


@given(st.text(max_size=400))
def test_sanitised_file_names_are_safe(name):
    clean = sanitise_filename(name)
    assert clean
    assert "/" not in clean
    assert "\\" not in clean
    assert not clean.startswith(".")
    assert len(clean) <= NAME_MAX
    assert all(ch.isprintable() or ch == " " for ch in clean)


def test_path_traversal_is_neutralised():
    assert sanitise_filename("../../etc/passwd") == "passwd"
    assert sanitise_filename("C:\\logs\\..\\mirs.csv") == "mirs.csv"
    assert sanitise_filename("..") == "upload"
    assert sanitise_filename("/") == "upload"


def test_account_mapping_files_report_every_problem_with_its_line():
    rows, problems = parse_account_mappings(b"external_id,username\nu1,alice\n\nu2,bob\n")
    assert rows == [(2, "u1", "alice"), (4, "u2", "bob")]
    assert problems == []
    rows, problems = parse_account_mappings(b"external_id,username\nu1,alice\nu1,bob\nu3\n,carol\n")
    assert rows == []
    assert problems == [
        "line 3: 'u1' is already on line 2",
        "line 4: expected 2 cells, found 1",
        "line 5: both the external id and the username are required",
    ]
    assert parse_account_mappings(b"user,name\n")[1] == [
        "line 1: the header must be external_id,username"
    ]
    assert "not valid UTF-8" in parse_account_mappings(b"external_id,username\n\xff,x\n")[1][0]
