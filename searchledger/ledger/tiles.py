"""C2SP tiled transparency logs (c2sp.org/tlog-tiles): paths, tiles and entry bundles.

A tile at level ``L`` and index ``N`` holds up to 256 consecutive hashes of Merkle level
``8 * L``: level-0 tiles hold leaf hashes, and each hash of a level-``L + 1`` tile is the
root of a full level-``L`` tile. Entry bundles hold the entries behind a level-0 tile, each
prefixed with its length as a big-endian uint16. The rightmost tiles of a tree are partial
(``.p/<W>``, 1 to 255 hashes). Together with the checkpoint they let anyone recompute any
root and proof from static files.
"""

from __future__ import annotations

import contextlib
import os
import re
import struct
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from searchledger.ledger.checkpoint import CheckpointError, parse_checkpoint_body
from searchledger.ledger.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    NodeGetter,
    leaf_hash,
    root_from_leaf_hashes,
    subtree_root,
)

__all__ = [
    "CHECKPOINT_NAME",
    "MAX_ENTRY_SIZE",
    "MAX_TILE_LEVEL",
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "TileError",
    "TilePath",
    "TileReader",
    "decode_entry_bundle",
    "encode_entry_bundle",
    "encode_tile_index",
    "entries_from_tiles",
    "entries_path",
    "hash_tile",
    "leaf_hashes_from_tiles",
    "parse_tile_path",
    "tile_path",
    "tiles_for_tree",
    "tree_root_from_tiles",
    "write_tiles",
]

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
MAX_TILE_LEVEL = 63
MAX_ENTRY_SIZE = 0xFFFF  # the uint16 length prefix of entry bundles
CHECKPOINT_NAME = "checkpoint"

# An index below 2**64 has at most 20 digits, so at most 7 three-digit elements; bounding
# the repetition keeps a hostile path from costing more than a short regex match.
_INDEX_PATTERN = r"(?P<index>(?:x[0-9]{3}/){0,6}[0-9]{3})"
_WIDTH_PATTERN = r"(?:\.p/(?P<width>[1-9][0-9]{0,2}))?"
_TILE_PATH = re.compile(
    r"tile/(?:(?P<entries>entries)|(?P<level>0|[1-9][0-9]?))/" + _INDEX_PATTERN + _WIDTH_PATTERN
)

TileReader = Callable[["TilePath"], bytes]


class TileError(ValueError):
    """A tile path, tile, entry bundle or tile directory is malformed or inconsistent."""


@dataclass(frozen=True)
class TilePath:
    """One tile resource: a hash tile at ``level`` or an entry bundle (``level`` is 0).

    ``width`` is ``None`` for a full tile of 256 hashes or entries, or 1 to 255 for a
    partial tile.
    """

    kind: Literal["hash", "entries"]
    level: int
    index: int
    width: int | None = None

    def __post_init__(self) -> None:
        """Refuse a tile that has no path under the spec."""
        if self.kind not in ("hash", "entries"):
            raise TileError(f"tile kind {self.kind!r} is neither 'hash' nor 'entries'")
        if not 0 <= self.level <= MAX_TILE_LEVEL:
            raise TileError(f"tile level {self.level} is not between 0 and {MAX_TILE_LEVEL}")
        if self.kind == "entries" and self.level != 0:
            raise TileError(f"entry bundles belong to level 0, not level {self.level}")
        if self.index < 0:
            raise TileError(f"tile index {self.index} is negative")
        if self.width is not None and not 1 <= self.width < TILE_WIDTH:
            raise TileError(
                f"partial tile width {self.width} is not between 1 and {TILE_WIDTH - 1}"
            )

    @property
    def count(self) -> int:
        """The number of hashes or entries in the tile."""
        return TILE_WIDTH if self.width is None else self.width

    @property
    def path(self) -> str:
        """The path relative to the log prefix, such as ``tile/0/x001/234.p/5``."""
        if self.kind == "entries":
            return entries_path(self.index, self.width)
        return tile_path(self.level, self.index, self.width)


# ---------------------------------------------------------------------------------------
# Paths
# ---------------------------------------------------------------------------------------


def encode_tile_index(n: int) -> str:
    """Encode a tile index as zero-padded three-digit elements, all but the last with x.

    ``1234067`` becomes ``x001/x234/067`` and ``0`` becomes ``000``.
    """
    if n < 0:
        raise TileError(f"tile index {n} is negative")
    digits = str(n)
    digits = digits.zfill(-(-len(digits) // 3) * 3)
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([*("x" + group for group in groups[:-1]), groups[-1]])


def tile_path(level: int, index: int, width: int | None = None) -> str:
    """Return ``tile/<L>/<N>`` or, for a partial tile, ``tile/<L>/<N>.p/<W>``."""
    _check_width(width)
    if not 0 <= level <= MAX_TILE_LEVEL:
        raise TileError(f"tile level {level} is not between 0 and {MAX_TILE_LEVEL}")
    return f"tile/{level}/{encode_tile_index(index)}{_width_suffix(width)}"


def entries_path(index: int, width: int | None = None) -> str:
    """Return ``tile/entries/<N>`` or, for a partial bundle, ``tile/entries/<N>.p/<W>``."""
    _check_width(width)
    return f"tile/entries/{encode_tile_index(index)}{_width_suffix(width)}"


def parse_tile_path(path: str) -> TilePath:
    """Parse a tile or entry bundle path relative to the log prefix, exactly as encoded.

    Anything else (leading zeros, ``.p/0`` or ``.p/256``, extra or empty elements,
    ``..``, a leading slash) raises ``TileError``.
    """
    match = _TILE_PATH.fullmatch(path)
    if match is None:
        raise TileError(f"{path[:100]!r} is not a tile path")
    index_text = match["index"]
    index = int(index_text.replace("x", "").replace("/", ""))
    if encode_tile_index(index) != index_text:
        raise TileError(f"tile index {index_text!r} in {path!r} has extra leading zeros")
    width = int(match["width"]) if match["width"] else None
    if width is not None and width >= TILE_WIDTH:
        raise TileError(f"partial tile width {width} in {path!r} is not below {TILE_WIDTH}")
    if match["entries"]:
        return TilePath("entries", 0, index, width)
    level = int(match["level"])
    if level > MAX_TILE_LEVEL:
        raise TileError(f"tile level {level} in {path!r} is above {MAX_TILE_LEVEL}")
    return TilePath("hash", level, index, width)


def tiles_for_tree(size: int) -> list[TilePath]:
    """Return every hash tile and entry bundle that a tree of ``size`` leaves is made of.

    At each level the full tiles come first, then the partial one if any; the entry
    bundles follow the level-0 tiles.
    """
    if size < 0:
        raise TileError(f"tree size {size} is negative")
    paths: list[TilePath] = []
    level = 0
    while hashes := size >> (TILE_HEIGHT * level):
        paths.extend(_level_tiles("hash", level, hashes))
        if level == 0:
            paths.extend(_level_tiles("entries", 0, hashes))
        level += 1
    return paths


# ---------------------------------------------------------------------------------------
# Tile contents
# ---------------------------------------------------------------------------------------


def hash_tile(level: int, index: int, width: int, get_node: NodeGetter) -> bytes:
    """Return the hash tile: ``width`` hashes of Merkle level ``8 * level`` from
    ``index * 256``, concatenated."""
    if not 1 <= width <= TILE_WIDTH:
        raise TileError(f"tile width {width} is not between 1 and {TILE_WIDTH}")
    tile = TilePath("hash", level, index, None if width == TILE_WIDTH else width)
    hashes = []
    for position in range(index * TILE_WIDTH, index * TILE_WIDTH + width):
        value = get_node(tile.level * TILE_HEIGHT, position)
        if len(value) != HASH_SIZE:
            raise TileError(
                f"node {position} at level {tile.level * TILE_HEIGHT} for {tile.path} is "
                f"{len(value)} bytes, not {HASH_SIZE}"
            )
        hashes.append(value)
    return b"".join(hashes)


def encode_entry_bundle(entries: Sequence[bytes]) -> bytes:
    """Encode entries as an entry bundle: each prefixed by its big-endian uint16 length."""
    parts = []
    for position, entry in enumerate(entries):
        if len(entry) > MAX_ENTRY_SIZE:
            raise TileError(
                f"entry {position} is {len(entry)} bytes; an entry bundle holds at most "
                f"{MAX_ENTRY_SIZE}"
            )
        parts.append(struct.pack(">H", len(entry)) + entry)
    return b"".join(parts)


def decode_entry_bundle(data: bytes) -> list[bytes]:
    """Decode an entry bundle; ``TileError`` if it is truncated or has trailing bytes."""
    entries: list[bytes] = []
    offset = 0
    while offset < len(data):
        if offset + 2 > len(data):
            raise TileError(
                f"entry bundle ends inside the length prefix of entry {len(entries)} "
                f"(byte {offset} of {len(data)})"
            )
        (length,) = struct.unpack_from(">H", data, offset)
        offset += 2
        if offset + length > len(data):
            raise TileError(
                f"entry {len(entries)} of the bundle claims {length} bytes but only "
                f"{len(data) - offset} remain"
            )
        entries.append(bytes(data[offset : offset + length]))
        offset += length
    return entries


# ---------------------------------------------------------------------------------------
# Reading a tree back from its tiles
# ---------------------------------------------------------------------------------------


def leaf_hashes_from_tiles(size: int, read_tile: TileReader) -> list[bytes]:
    """Return the ``size`` leaf hashes held by the level-0 tiles of a tree."""
    return _read_level(size, 0, read_tile)


def entries_from_tiles(size: int, read_tile: TileReader) -> list[bytes]:
    """Return the ``size`` entries held by the entry bundles of a tree."""
    entries: list[bytes] = []
    for tile in _iter_level_tiles("entries", 0, size):
        bundle = decode_entry_bundle(read_tile(tile))
        if len(bundle) != tile.count:
            raise TileError(f"{tile.path} holds {len(bundle)} entries, not {tile.count}")
        entries.extend(bundle)
    return entries


def tree_root_from_tiles(size: int, read_tile: TileReader) -> bytes:
    """Return the root of the tree of ``size`` leaves recomputed from its hash tiles.

    Every hash tile is read and checked: each hash of a tile above level 0 must be the
    root of the full tile below it, so a tile altered anywhere raises ``TileError`` or
    changes the returned root. Entry bundles are not read; compare
    ``entries_from_tiles`` with ``leaf_hashes_from_tiles`` for those.
    """
    if size < 0:
        raise TileError(f"tree size {size} is negative")
    if size == 0:
        return EMPTY_ROOT
    # levels[level] holds every hash of Merkle level 8 * level that the tree has.
    levels = [_read_level(size, 0, read_tile)]
    while size >> (TILE_HEIGHT * len(levels)):
        level = len(levels)
        upper = _read_level(size, level, read_tile)
        lower = levels[-1]
        for position, value in enumerate(upper):
            span = lower[position * TILE_WIDTH : (position + 1) * TILE_WIDTH]
            if root_from_leaf_hashes(span) != value:
                raise TileError(
                    f"hash {position % TILE_WIDTH} of level-{level} tile "
                    f"{encode_tile_index(position // TILE_WIDTH)} is not the root of "
                    f"{tile_path(level - 1, position)} below it"
                )
        levels.append(upper)

    def from_levels(merkle_level: int, index: int) -> bytes:
        # A perfect node of height 8l + r is the root of 2**r adjacent level-l tile hashes.
        level, height = divmod(merkle_level, TILE_HEIGHT)
        return root_from_leaf_hashes(levels[level][index << height : (index + 1) << height])

    return subtree_root(0, size, from_levels)


def write_tiles(
    directory: Path,
    size: int,
    get_node: NodeGetter,
    get_entry: Callable[[int], bytes],
    checkpoint_note: str,
    *,
    verify_existing: bool = True,
) -> list[TilePath]:
    """Write the checkpoint and every tile and entry bundle of a tree of ``size`` leaves.

    The checkpoint's size and root must match the tree. Tiles are written first and the
    checkpoint last, each atomically (temporary file, then rename), so a reader never sees
    a checkpoint whose tiles are missing or a half-written file. A tile that already exists
    with the same content is left alone; one with different content raises ``TileError``,
    because published tiles are immutable. With ``verify_existing=False`` existing tiles
    are trusted without being recomputed, which makes a re-export cost only the new tiles.
    Returns the tiles that were written.
    """
    _check_checkpoint_matches(checkpoint_note, size, get_node)
    written = []
    for tile in tiles_for_tree(size):
        target = directory / tile.path
        if not verify_existing and target.exists():
            continue
        content = _tile_content(tile, get_node, get_entry)
        if target.exists():
            if target.read_bytes() == content:
                continue
            raise TileError(
                f"{target} already exists with different content; published tiles never change"
            )
        _write_atomically(target, content)
        written.append(tile)
    # The renames must be on disk before the checkpoint that points at them is, or a crash
    # could leave a published checkpoint whose tiles are missing.
    _sync_directories(directory, [directory / tile.path for tile in written])
    _write_atomically(directory / CHECKPOINT_NAME, checkpoint_note.encode("utf-8"))
    _sync_directories(directory, [directory / CHECKPOINT_NAME])
    return written


# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------


def _check_width(width: int | None) -> None:
    if width is not None and not 1 <= width < TILE_WIDTH:
        raise TileError(f"partial tile width {width} is not between 1 and {TILE_WIDTH - 1}")


def _width_suffix(width: int | None) -> str:
    return "" if width is None else f".p/{width}"


def _level_tiles(kind: Literal["hash", "entries"], level: int, count: int) -> list[TilePath]:
    """Return the tiles holding ``count`` hashes (or entries) of one level."""
    return list(_iter_level_tiles(kind, level, count))


def _iter_level_tiles(
    kind: Literal["hash", "entries"], level: int, count: int
) -> Iterator[TilePath]:
    """The tiles of one level, one at a time: a reader stops at the first missing tile
    instead of first listing the 2**56 tiles a hostile checkpoint's size may claim."""
    full, partial = divmod(count, TILE_WIDTH)
    for index in range(full):
        yield TilePath(kind, level, index)
    if partial:
        yield TilePath(kind, level, full, partial)


def _read_level(size: int, level: int, read_tile: TileReader) -> list[bytes]:
    hashes: list[bytes] = []
    for tile in _iter_level_tiles("hash", level, size >> (TILE_HEIGHT * level)):
        data = read_tile(tile)
        if len(data) != tile.count * HASH_SIZE:
            raise TileError(
                f"{tile.path} is {len(data)} bytes; a tile of {tile.count} hashes is "
                f"{tile.count * HASH_SIZE}"
            )
        hashes.extend(data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE))
    return hashes


def _tile_content(tile: TilePath, get_node: NodeGetter, get_entry: Callable[[int], bytes]) -> bytes:
    if tile.kind == "hash":
        return hash_tile(tile.level, tile.index, tile.count, get_node)
    entries = []
    for position in range(tile.index * TILE_WIDTH, tile.index * TILE_WIDTH + tile.count):
        entry = get_entry(position)
        # Refuse to publish a bundle that would not match its level-0 tile.
        if leaf_hash(entry) != get_node(0, position):
            raise TileError(f"entry {position} does not hash to leaf hash {position}")
        entries.append(entry)
    return encode_entry_bundle(entries)


def _check_checkpoint_matches(checkpoint_note: str, size: int, get_node: NodeGetter) -> None:
    # The signatures are the signer's business; here only the body must describe this tree.
    body = checkpoint_note[: checkpoint_note.rfind("\n\n") + 1]
    try:
        checkpoint = parse_checkpoint_body(body)
    except CheckpointError as exc:
        raise TileError(f"checkpoint note does not hold a checkpoint: {exc}") from None
    if checkpoint.size != size:
        raise TileError(f"checkpoint is for tree size {checkpoint.size}, not {size}")
    if checkpoint.root_hash != subtree_root(0, size, get_node):
        raise TileError(f"checkpoint root hash is not the root of the tree of size {size}")


def _write_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    try:
        # Tiles are public, static files: readable by the web server, like any export.
        os.fchmod(handle, 0o644)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _sync_directories(root: Path, files: Sequence[Path]) -> None:
    """fsync every directory from ``root`` down to each of ``files``, once each, so that
    new directory entries (renamed files, created directories) survive a crash."""
    if os.name != "posix":  # directories cannot be opened for fsync elsewhere
        return
    directories = {root}
    for path in files:
        directories.update(parent for parent in path.parents if parent.is_relative_to(root))
    for path in sorted(directories):
        handle = os.open(path, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)
