"""Fuzz target: a published transparency report's CSV, read back to check it
(``core.published.parse_report_csv``, ``searchledger transparency --check FILE``).

Contract: only ``ValueError`` (the documented error), with a message. Round trip: an
accepted file, written again canonically, reads back the same.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fuzz.harness import again, guard, main
from searchledger.core.published import parse_report_csv, report_csv


def check(data: bytes) -> None:
    """Read ``data`` as a report CSV."""
    parsed = parse_report_csv(data.decode("utf-8", "replace"))
    assert again(parse_report_csv, report_csv(parsed.meta, parsed.rows)) == parsed, (
        "a report CSV written again reads back differently"
    )


TestOneInput = guard(check, (ValueError,))

if __name__ == "__main__":
    main(TestOneInput)
