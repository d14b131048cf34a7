"""C2SP transparency log checkpoints (c2sp.org/tlog-checkpoint).

A checkpoint is the signed note text::

    <origin>
    <tree size, decimal, no leading zeros>
    <base64 of the 32-byte RFC 6962 root hash>
    [<extension line>...]

signed by the log's Ed25519 key and optionally cosigned by witnesses.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass

from searchledger.ledger.merkle import HASH_SIZE
from searchledger.ledger.note import Note, NoteSigner, Verifier, open_note, sign_note

__all__ = [
    "MAX_TREE_SIZE",
    "Checkpoint",
    "CheckpointError",
    "open_checkpoint",
    "parse_checkpoint_body",
    "sign_checkpoint",
]

# Tree sizes are uint64 in every tlog implementation this must interoperate with.
MAX_TREE_SIZE = 2**64 - 1
_MAX_TREE_SIZE_DIGITS = len(str(MAX_TREE_SIZE))

# ASCII digits only: str.isdigit() would also accept digits from other scripts.
_TREE_SIZE = re.compile(r"0|[1-9][0-9]*")
_CONTROL = re.compile(r"[\x00-\x1f]")


class CheckpointError(ValueError):
    """A checkpoint body is malformed, or a checkpoint is not the one expected."""


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head: origin, tree size, root hash and optional extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """Refuse values that would not produce a valid checkpoint body."""
        _check_line(self.origin, "origin")
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise CheckpointError(f"tree size {self.size} is not between 0 and 2^64-1")
        if len(self.root_hash) != HASH_SIZE:
            raise CheckpointError(f"root hash is {len(self.root_hash)} bytes, not {HASH_SIZE}")
        for number, extension in enumerate(self.extensions, 1):
            _check_line(extension, f"extension line {number}")

    def body(self) -> str:
        """Return the note text: origin, size, base64 root and extensions, each on a line."""
        root = base64.b64encode(self.root_hash).decode("ascii")
        lines = [self.origin, str(self.size), root, *self.extensions]
        return "".join(line + "\n" for line in lines)


def parse_checkpoint_body(text: str) -> Checkpoint:
    """Parse a checkpoint note text strictly; raise ``CheckpointError`` saying what is wrong."""
    if not text.endswith("\n"):
        raise CheckpointError("checkpoint body does not end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointError(
            f"checkpoint body has {len(lines)} lines; it needs origin, size and root hash"
        )
    origin, size_text, root_text, *extensions = lines
    if len(size_text) > _MAX_TREE_SIZE_DIGITS:
        # Checked before int(): huge digit strings are slow to convert, or refused by it.
        raise CheckpointError(
            f"tree size has {len(size_text)} digits; a uint64 has at most {_MAX_TREE_SIZE_DIGITS}"
        )
    if not _TREE_SIZE.fullmatch(size_text):
        raise CheckpointError(
            f"tree size {size_text[:40]!r} is not a decimal number without leading zeros"
        )
    try:
        root_hash = base64.b64decode(root_text, validate=True)
    except (binascii.Error, ValueError):
        raise CheckpointError(f"root hash {root_text[:60]!r} is not valid base64") from None
    if base64.b64encode(root_hash).decode("ascii") != root_text:
        raise CheckpointError(f"root hash {root_text[:60]!r} is not canonical base64")
    return Checkpoint(origin, int(size_text), root_hash, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signer: NoteSigner) -> str:
    """Return the checkpoint as a note signed by ``signer`` (the log's key)."""
    return sign_note(checkpoint.body(), signer)


def open_checkpoint(
    note_text: str | bytes,
    log_verifier: Verifier,
    origin: str | None = None,
    *,
    witnesses: Sequence[Verifier] = (),
) -> tuple[Checkpoint, Note]:
    """Verify and parse a signed checkpoint.

    The note must carry a valid signature by ``log_verifier``; cosignatures by
    ``witnesses`` are verified too and appear in the returned note's ``verified``. If
    ``origin`` is given the checkpoint's origin must equal it. Raises ``NoteError`` for a
    malformed or badly signed note and ``CheckpointError`` for a note that is not a
    checkpoint of this log.
    """
    note = open_note(note_text, [log_verifier, *witnesses])
    log_signed = any(
        (s.name, s.key_id) == (log_verifier.name, log_verifier.key_id) for s in note.verified
    )
    if not log_signed:
        raise CheckpointError(
            f"checkpoint is not signed by the log key {log_verifier.name}+"
            f"{log_verifier.key_id.hex()}"
        )
    checkpoint = parse_checkpoint_body(note.text)
    if origin is not None and checkpoint.origin != origin:
        raise CheckpointError(f"checkpoint is for origin {checkpoint.origin!r}, not for {origin!r}")
    return checkpoint, note


def _check_line(value: str, what: str) -> None:
    if not value:
        raise CheckpointError(f"checkpoint {what} is empty")
    if "\n" in value:
        raise CheckpointError(f"checkpoint {what} contains a newline")
    control = _CONTROL.search(value)
    if control:
        raise CheckpointError(
            f"checkpoint {what} contains control character U+{ord(control.group()):04X}"
        )
