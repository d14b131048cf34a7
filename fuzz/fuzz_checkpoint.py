"""Fuzz target: checkpoint bodies and signed checkpoints (ledger/checkpoint.py).

Contract: ``parse_checkpoint_body`` raises only ``CheckpointError``; ``open_checkpoint``
only ``NoteError`` or ``CheckpointError``. Round trip: a parsed body re-encodes to the same
text.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fuzz.harness import again, guard, main
from fuzz.keys import LOG, ORIGIN, WITNESS
from searchledger.ledger.checkpoint import CheckpointError, open_checkpoint, parse_checkpoint_body
from searchledger.ledger.note import NoteError


def check(data: bytes) -> None:
    """Parse ``data`` as a body; open it as a signed checkpoint of the fuzz log."""
    text = data.decode("utf-8", "replace")
    try:
        checkpoint = parse_checkpoint_body(text)
    except CheckpointError:
        pass
    else:
        assert checkpoint.body() == text, "a parsed checkpoint body does not round-trip"
    opened, _ = open_checkpoint(data, LOG.verifier(), ORIGIN, witnesses=[WITNESS.verifier()])
    assert again(parse_checkpoint_body, opened.body()) == opened


TestOneInput = guard(check, (NoteError, CheckpointError))

if __name__ == "__main__":
    main(TestOneInput)
