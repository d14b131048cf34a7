"""Fuzz target: a witness's answer, the cosignature line the log stores
(``ledger.witness.open_cosignature``, which ``apps.ledger.checkpoints.store_cosignature``
calls before it writes anything).

Contract: raises only ``NoteError``; an accepted answer is one cosignature by the witness
with a time that can be stored.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fuzz.harness import guard, main
from fuzz.keys import LOG, ORIGIN, WITNESS
from searchledger.ledger.checkpoint import Checkpoint, sign_checkpoint
from searchledger.ledger.merkle import EMPTY_ROOT
from searchledger.ledger.note import NoteError
from searchledger.ledger.witness import open_cosignature

NOTE = sign_checkpoint(Checkpoint(ORIGIN, 0, EMPTY_ROOT), LOG)


def check(data: bytes) -> None:
    """Check ``data`` as the witness's answer for the empty tree's checkpoint."""
    signature, moment = open_cosignature(NOTE, data.decode("utf-8", "replace"), WITNESS.verifier())
    assert signature.name == WITNESS.name
    assert moment.tzinfo is not None


TestOneInput = guard(check, (NoteError,))

if __name__ == "__main__":
    main(TestOneInput)
