"""Fuzz target: a file of checkpoints kept outside the database, given to ``searchledger
verify --checkpoint FILE`` and read by ``restore`` (``apps.ledger.checkpoint_log``): a
signed checkpoint note, a checkpoint log of JSON lines, or a published report's CSV.

Contract: ``read_checkpoint_file`` raises only ``CheckpointFileError``; ``open_external``
on what it read only ``VerificationFailure``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fuzz.harness import guard, main, setup_django

setup_django()

from fuzz.keys import LOG  # noqa: E402
from searchledger.apps.ledger.checkpoint_log import (  # noqa: E402
    CheckpointFileError,
    open_external,
    read_checkpoint_file,
)
from searchledger.apps.ledger.verify import VerificationFailure  # noqa: E402

_FILE = Path(tempfile.mkdtemp(prefix="fuzz-checkpoint-file-")) / "checkpoints"


def check(data: bytes) -> None:
    """Read ``data`` as a checkpoint file and open every checkpoint in it."""
    _FILE.write_bytes(data)
    for checkpoint in read_checkpoint_file(_FILE):
        open_external(checkpoint, LOG.verifier())


TestOneInput = guard(check, (CheckpointFileError, VerificationFailure))

if __name__ == "__main__":
    main(TestOneInput)
