"""Fuzz target: tile paths, entry bundles and hash tiles (ledger/tiles.py).

The first byte picks the parser: a tile path (the API and pages take one from the URL), an
entry bundle, or a whole tree read back from hash tiles the input supplies (the tree size
from the next two bytes, each tile's bytes from the rest). Contract: only ``TileError``.
Round trips: a parsed path prints as the same path, a decoded bundle encodes to the same
bytes.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fuzz.harness import guard, main
from searchledger.ledger.merkle import HASH_SIZE
from searchledger.ledger.tiles import (
    TileError,
    TilePath,
    decode_entry_bundle,
    encode_entry_bundle,
    entries_from_tiles,
    parse_tile_path,
    tree_root_from_tiles,
)


def _tree_from(data: bytes) -> None:
    size = int.from_bytes(data[:2], "big") if len(data) >= 2 else 0
    rest = memoryview(data[2:])
    offset = 0

    def read_tile(tile: TilePath) -> bytes:
        # Each tile gets the next count * 32 bytes of the input: short or missing at the end.
        nonlocal offset
        want = tile.count * HASH_SIZE
        chunk = bytes(rest[offset : offset + want])
        offset += want
        return chunk

    root = tree_root_from_tiles(size, read_tile)
    assert len(root) == HASH_SIZE
    offset = 0
    entries_from_tiles(size, lambda tile: bytes(rest))


def check(data: bytes) -> None:
    """Dispatch on the first byte (see the module docstring)."""
    if not data:
        return
    mode, body = data[0] % 3, data[1:]
    if mode == 0:
        path = body.decode("utf-8", "replace")
        tile = parse_tile_path(path)
        assert tile.path == path, "a parsed tile path does not print as itself"
    elif mode == 1:
        entries = decode_entry_bundle(body)
        assert encode_entry_bundle(entries) == body, "a decoded bundle does not round-trip"
    else:
        _tree_from(body)


TestOneInput = guard(check, (TileError,))

if __name__ == "__main__":
    main(TestOneInput)
