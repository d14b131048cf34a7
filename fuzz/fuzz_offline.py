"""Fuzz target: offline verification of a published tile directory
(``ledger.offline.verify_tile_directory``), what an auditor runs on files the agency sends.

The input is written out as a directory: the first byte says whether the checkpoint text
that follows (up to a NUL) is signed with the fuzz log's key (so the fuzzer reaches the
tiles) or used as is; then, repeatedly, one byte picks a file (one of the tiles a tree of
the checkpoint's size has, or a path taken from the input) and a two-byte length gives its
content. Contract: only ``OfflineVerificationError``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fuzz.harness import guard, main
from fuzz.keys import LOG, ORIGIN
from searchledger.ledger.checkpoint import CheckpointError, parse_checkpoint_body
from searchledger.ledger.note import NoteError, sign_note
from searchledger.ledger.offline import OfflineVerificationError, verify_tile_directory
from searchledger.ledger.tiles import CHECKPOINT_NAME, tiles_for_tree

_MAX_LISTED = 2048  # tiles named by index; a larger claimed size is still verified


def _checkpoint(mode: int, text: str) -> str:
    if mode & 1:
        try:
            return sign_note(text, LOG)
        except NoteError:
            return text
    return text


def _files(size: int, data: bytes) -> list[tuple[str, bytes]]:
    names = [tile.path for tile in tiles_for_tree(min(size, _MAX_LISTED))]
    files, offset = [], 0
    while offset + 3 <= len(data):
        pick, length = data[offset], int.from_bytes(data[offset + 1 : offset + 3], "big")
        offset += 3
        content = data[offset : offset + length]
        offset += length
        if names and pick < 0xF0:
            files.append((names[pick % len(names)], content))
        else:
            name, _, content = content.partition(b"\0")
            files.append((name.decode("utf-8", "replace"), content))
    return files


def check(data: bytes) -> None:
    """Write the directory the input describes and verify it."""
    if not data:
        return
    head, _, rest = data[1:].partition(b"\0")
    note = _checkpoint(data[0], head.decode("utf-8", "replace"))
    try:
        size = parse_checkpoint_body(note[: note.rfind("\n\n") + 1]).size
    except CheckpointError:
        size = 0
    with tempfile.TemporaryDirectory(prefix="fuzz-offline-") as name:
        root = Path(name) / "tiles"
        root.mkdir()
        (root / CHECKPOINT_NAME).write_text(note, encoding="utf-8")
        for path, content in _files(size, rest):
            target = (root / path).resolve()
            if not target.is_relative_to(root.resolve()) or target == root.resolve():
                continue  # the target writes only inside its directory
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
            except OSError:
                continue  # a path the file system refuses (a file where a directory is)
        result = verify_tile_directory(root, LOG.verifier(), origin=ORIGIN)
        assert result.entries == size


TestOneInput = guard(check, (OfflineVerificationError,))

if __name__ == "__main__":
    main(TestOneInput)
