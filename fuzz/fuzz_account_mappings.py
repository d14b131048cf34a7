"""Fuzz target: the CSV of external-account mappings (``external_id,username``) uploaded on
the access-log pages (``core.accesslogs.parse_account_mappings``).

Contract: it never raises; it returns rows or problems, never both, and never neither.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fuzz.harness import guard, main
from searchledger.core.accesslogs import parse_account_mappings


def check(data: bytes) -> None:
    """Parse ``data`` as the uploaded file."""
    rows, problems = parse_account_mappings(data)
    assert bool(rows) != bool(problems), "rows and problems together, or neither"
    assert all(problem.strip() for problem in problems)


TestOneInput = guard(check, ())

if __name__ == "__main__":
    main(TestOneInput)
