"""Verifying a published copy of the ledger (a checkpoint and its tlog-tiles) with nothing
but the files and the log's verifier key: what an oversight body or a system owner's
auditor runs, with no access to the agency's database.

:func:`verify_tile_directory` checks, in this order, and stops at the first failure with a
:class:`OfflineVerificationError` naming it:

1. the checkpoint is a note signed by the given log key (and has the expected origin);
2. every hash tile is consistent with the tiles above it and the recomputed root is the
   checkpoint's root (``tiles.tree_root_from_tiles``);
3. every entry bundle holds the entries of its level-0 tile: each entry's RFC 6962 leaf hash
   is the tile's hash at its index;
4. every entry is a well-formed ledger entry (schema version 1, canonical JSON) whose
   ``seq`` is its index;
5. optionally, an earlier checkpoint the verifier kept is a prefix of this tree: its root is
   the root of the first ``size`` leaves, so nothing it covered was changed or removed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from searchledger.ledger.canonical import CanonicalError
from searchledger.ledger.checkpoint import Checkpoint, CheckpointError, open_checkpoint
from searchledger.ledger.events import EntrySchemaError, parse_entry
from searchledger.ledger.merkle import leaf_hash, root_from_leaf_hashes
from searchledger.ledger.note import NoteError, Verifier
from searchledger.ledger.tiles import (
    CHECKPOINT_NAME,
    TileError,
    TilePath,
    entries_from_tiles,
    leaf_hashes_from_tiles,
    tree_root_from_tiles,
)

__all__ = ["OfflineVerificationError", "TileVerification", "verify_tile_directory"]


class OfflineVerificationError(ValueError):
    """The published tiles or checkpoint do not verify; the message says which and why."""


@dataclass(frozen=True)
class TileVerification:
    """What a successful offline verification established."""

    checkpoint: Checkpoint
    entries: int
    cosigners: tuple[str, ...]
    previous_size: int | None

    def summary(self) -> str:
        """One line for the command line."""
        line = (
            f"ok: {self.entries} entries; tiles and entry bundles match checkpoint "
            f"{self.checkpoint.origin} size {self.checkpoint.size} root "
            f"{self.checkpoint.root_hash.hex()}"
        )
        if self.cosigners:
            line += f"; cosigned by {', '.join(self.cosigners)}"
        if self.previous_size is not None:
            line += f"; extends the earlier checkpoint of size {self.previous_size}"
        return line


def verify_tile_directory(
    directory: Path,
    log_verifier: Verifier,
    *,
    origin: str | None = None,
    witnesses: Sequence[Verifier] = (),
    previous_checkpoint: str | None = None,
) -> TileVerification:
    """Verify the checkpoint and tiles in ``directory`` against ``log_verifier``.

    ``witnesses`` are the verifier keys of witnesses whose cosignatures should be checked
    and reported; ``previous_checkpoint`` is the text of an earlier signed checkpoint of the
    same log that this one must extend. Raises :class:`OfflineVerificationError`.
    """
    checkpoint_file = directory / CHECKPOINT_NAME
    try:
        note_text = checkpoint_file.read_bytes()
    except OSError as exc:
        raise OfflineVerificationError(
            f"cannot read the checkpoint {checkpoint_file}: {exc}"
        ) from exc
    try:
        checkpoint, note = open_checkpoint(note_text, log_verifier, origin, witnesses=witnesses)
    except (NoteError, CheckpointError) as exc:
        raise OfflineVerificationError(f"checkpoint {checkpoint_file}: {exc}") from exc

    # Each tile is read at most once; every path stays inside the directory.
    cache: dict[str, bytes] = {}
    root_dir = directory.resolve()

    def read_tile(tile: TilePath) -> bytes:
        if tile.path not in cache:
            target = (root_dir / tile.path).resolve()
            if root_dir not in target.parents:
                raise TileError(f"{tile.path} resolves outside {root_dir}")
            try:
                cache[tile.path] = target.read_bytes()
            except OSError as exc:
                raise TileError(f"missing or unreadable tile {tile.path}: {exc}") from exc
        return cache[tile.path]

    size = checkpoint.size
    try:
        root = tree_root_from_tiles(size, read_tile)
        if root != checkpoint.root_hash:
            raise OfflineVerificationError(
                f"the hash tiles give root {root.hex()} for size {size}, but the checkpoint "
                f"says {checkpoint.root_hash.hex()}: a tile was altered or replaced"
            )
        leaves = leaf_hashes_from_tiles(size, read_tile)
        entries = entries_from_tiles(size, read_tile)
    except TileError as exc:
        raise OfflineVerificationError(str(exc)) from exc

    for index, (entry, expected) in enumerate(zip(entries, leaves, strict=True)):
        if leaf_hash(entry) != expected:
            raise OfflineVerificationError(
                f"entry {index} in its entry bundle does not hash to leaf {index} of the "
                "level-0 tile: the entry was altered"
            )
        try:
            parsed = parse_entry(entry)
        except (EntrySchemaError, CanonicalError) as exc:
            raise OfflineVerificationError(f"entry {index} is not a valid entry: {exc}") from exc
        if parsed["seq"] != index:
            raise OfflineVerificationError(
                f"entry {index} carries seq {parsed['seq']}: entries were reordered"
            )

    previous_size = None
    if previous_checkpoint is not None:
        try:
            previous, _ = open_checkpoint(previous_checkpoint, log_verifier, checkpoint.origin)
        except (NoteError, CheckpointError) as exc:
            raise OfflineVerificationError(f"the earlier checkpoint: {exc}") from exc
        if previous.size > size:
            raise OfflineVerificationError(
                f"the earlier checkpoint has size {previous.size}, larger than this one's "
                f"{size}: the log was rolled back"
            )
        if root_from_leaf_hashes(leaves[: previous.size]) != previous.root_hash:
            raise OfflineVerificationError(
                f"the first {previous.size} entries no longer have the earlier checkpoint's "
                f"root {previous.root_hash.hex()}: the log was rewritten (a fork)"
            )
        previous_size = previous.size

    cosigners = tuple(
        sorted(
            s.name
            for s in note.verified
            if (s.name, s.key_id) != (log_verifier.name, log_verifier.key_id)
        )
    )
    return TileVerification(checkpoint, len(entries), cosigners, previous_size)
