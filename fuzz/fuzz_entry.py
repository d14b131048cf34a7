"""Fuzz target: stored ledger entries, canonical JSON and the entry schema
(``ledger.events.parse_entry``, ``ledger.canonical.decode_canonical``): what ``verify``,
the offline verifier, the audit export and the webhooks read back.

Contract: ``decode_canonical`` raises only ``CanonicalError``, ``parse_entry`` only
``EntrySchemaError``. Round trip: an accepted entry is its own canonical encoding.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fuzz.harness import expect, guard, main
from searchledger.ledger.canonical import CanonicalError, canonical_bytes, decode_canonical
from searchledger.ledger.events import EntrySchemaError, parse_entry


def check(data: bytes) -> None:
    """Decode ``data`` as canonical JSON, then as a ledger entry."""
    try:
        obj = decode_canonical(data)
    except CanonicalError as exc:
        expect(str(exc), "a non-canonical entry is refused without a message")
    else:
        assert canonical_bytes(obj) == data
    entry = parse_entry(data)
    assert canonical_bytes(entry) == data


TestOneInput = guard(check, (EntrySchemaError,))

if __name__ == "__main__":
    main(TestOneInput)
