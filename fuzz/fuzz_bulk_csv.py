"""Fuzz target: CSV bulk imports of people, grants and completions
(``apps.bulk.parsing.parse_csv``; pure Python, no Django).

The first byte picks the kind; the rest is the uploaded file. Contract: only
``CsvFileError``, always with at least one issue; every row problem names a line within the
file.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fuzz.harness import expect, guard, main
from searchledger.apps.bulk.parsing import KINDS, CsvFileError, parse_csv

_KINDS = sorted(KINDS)


def check(data: bytes) -> None:
    """Parse ``data[1:]`` as a file of the kind ``data[0]`` picks."""
    if not data:
        return
    body = data[1:]
    try:
        parsed = parse_csv(body, _KINDS[data[0] % len(_KINDS)])
    except CsvFileError as exc:
        expect(exc.issues, "a refused file names no issue")
        raise
    lines = body.count(b"\n") + body.count(b"\r") - body.count(b"\r\n") + 1
    for issue in parsed.issues:
        assert issue.line is not None
        assert 1 <= issue.line <= lines, f"issue on line {issue.line} of a {lines}-line file"


TestOneInput = guard(check, (CsvFileError,))

if __name__ == "__main__":
    main(TestOneInput)
