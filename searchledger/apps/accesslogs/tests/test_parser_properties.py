"""Hostile access-log files (issue 7): whatever a system exports, reading it
(``engine.check_file`` then ``engine.run``, what ``do_run_access_log_import`` drives) ends
in a result whose counts add up, or in ``LogFileError`` with a message; never another
exception, which would fail the import as "stopped on an error". ``test_properties.py``
checks the SQL row rules against Python on well-formed files; this one throws malformed
ones at the whole read. The atheris target is ``fuzz/fuzz_access_log_import.py``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from searchledger.apps.accesslogs import engine
from searchledger.core.accesslogs import LogFormat, MappingSpec

CSV_SPEC = MappingSpec("user", "time", "action", "ref", ("search",))
JSONL_SPEC = MappingSpec("user", "time", "action", "ref", ("search",), format=LogFormat.JSONL)
HEADER = "user,time,action,ref\n"
_PIECES = st.sampled_from(
    [
        "u1",
        ",",
        '"',
        "\n",
        "\r\n",
        "\r",
        "2024-01-02T03:04:05Z",
        "2024-01-02 03:04",
        "search",
        "=cmd",
        "{",
        "}",
        "[",
        '"user":',
        "\x1f",
        "\x00",
        "é",
        "\ufeff",
        " ",
    ]
)
_BODY = st.lists(_PIECES, max_size=40).map("".join)


def _read(data: bytes, spec: MappingSpec) -> engine.RunResult | engine.LogFileError:
    with tempfile.TemporaryDirectory() as name:
        work = Path(name)
        source = work / "log.txt"
        source.write_bytes(data)
        try:
            check = engine.check_file(source, spec, system="mirs")
            return engine.run(
                source,
                spec,
                check,
                parquet_path=work / "events.parquet",
                rejects_path=work / "rejects.csv",
                earlier=[],
                strict=False,
                work_dir=work / "work",
                threads=1,
                memory_limit="256MB",
            )
        except engine.LogFileError as exc:
            return exc


def _settled(outcome: engine.RunResult | engine.LogFileError) -> None:
    if isinstance(outcome, engine.LogFileError):
        assert str(outcome).strip()
        assert outcome.code
        return
    assert outcome.rejected == sum(outcome.reject_reasons.values())
    assert outcome.valid_events <= outcome.records_read


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=_BODY, header=st.booleans(), encoding=st.sampled_from(["utf-8", "utf-16", "latin-1"]))
def test_a_malformed_csv_log_is_read_or_refused_with_a_log_file_error(
    body: str, header: bool, encoding: str
) -> None:
    text = (HEADER if header else "") + body
    data = text.encode(encoding, "replace")
    _settled(_read(data, CSV_SPEC))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(_BODY.map(str.encode), st.binary(max_size=200)))
def test_a_malformed_json_lines_log_is_read_or_refused_with_a_log_file_error(
    data: bytes,
) -> None:
    _settled(_read(b'{"user": "u", "time": "t", "action": "a", "ref": "r"}\n' + data, JSONL_SPEC))


@pytest.mark.parametrize(
    ("data", "spec", "message"),
    [
        pytest.param(
            b"user,time," + b"x" * 131_100 + b"\n",
            CSV_SPEC,
            "the header line is not readable CSV",
            id="a header cell over the csv module's 128 KiB limit",
        ),
        pytest.param(
            b'{"user": ' + b"[" * 100_000 + b"\n",
            JSONL_SPEC,
            "the file has keys []",
            id="a JSON line nested too deeply to decode",
        ),
        pytest.param(
            b" " * (1024 * 1024 + 10) + b"\n" + HEADER.encode(),
            CSV_SPEC,
            "characters of the file are blank",
            id="a first mebibyte of spaces",
        ),
    ],
)
def test_files_that_crashed_the_check_are_refused_with_a_reason(
    data: bytes, spec: MappingSpec, message: str
) -> None:
    # Each raised csv.Error, RecursionError or IndexError before: the import then failed as
    # "stopped on an error" with a traceback instead of saying what is wrong with the file.
    outcome = _read(data, spec)
    assert isinstance(outcome, engine.LogFileError)
    assert message in str(outcome)
