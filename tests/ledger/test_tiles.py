"""Tests for searchledger.ledger.tiles: paths, tile contents, bundles, directory export."""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from searchledger.ledger.checkpoint import Checkpoint, sign_checkpoint
from searchledger.ledger.merkle import MemoryTree, leaf_hash, root_from_leaf_hashes
from searchledger.ledger.note import Signer
from searchledger.ledger.tiles import (
    CHECKPOINT_NAME,
    MAX_ENTRY_SIZE,
    TileError,
    TilePath,
    decode_entry_bundle,
    encode_entry_bundle,
    encode_tile_index,
    entries_from_tiles,
    entries_path,
    hash_tile,
    leaf_hashes_from_tiles,
    parse_tile_path,
    tile_path,
    tiles_for_tree,
    tree_root_from_tiles,
    write_tiles,
)


def shared_dir() -> Path:
    """The shared vectors directory (/work/shared), or $SEARCHLEDGER_SHARED_DIR."""
    override = os.environ.get("SEARCHLEDGER_SHARED_DIR")
    path = Path(override) if override else Path(__file__).resolve().parents[2].parent / "shared"
    if not (path / "vectors").is_dir():
        pytest.fail(
            f"test vectors not found in {path / 'vectors'}; set SEARCHLEDGER_SHARED_DIR to the "
            "directory holding vectors/",
            pytrace=False,
        )
    return path


KAT = (shared_dir() / "vectors" / "rfc6962_kat.txt").read_text(encoding="utf-8")

ORIGIN = "ledger.example.org/tiles"
LOG = Signer.from_seed(ORIGIN, bytes(range(7, 39)))
TREE = MemoryTree()
for _i in range(600):
    TREE.append(f"record {_i}".encode())


def _checkpoint_note(size: int) -> str:
    return sign_checkpoint(Checkpoint(ORIGIN, size, TREE.root(size)), LOG)


def _reader(directory: Path) -> Callable[[TilePath], bytes]:
    return lambda tile: (directory / tile.path).read_bytes()


# ---------------------------------------------------------------------------------------
# Paths
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("index", "encoded"),
    [
        (0, "000"),
        (7, "007"),
        (999, "999"),
        (1000, "x001/000"),
        (1234067, "x001/x234/067"),
        (123456078, "x123/x456/078"),
        (2**64 - 1, "x018/x446/x744/x073/x709/x551/615"),
    ],
)
def test_encode_tile_index(index: int, encoded: str) -> None:
    assert encode_tile_index(index) == encoded


def test_index_example_from_kat() -> None:
    match = re.search(r"index (\d+) -> (\S+)", KAT)
    assert match
    assert encode_tile_index(int(match.group(1))) == match.group(2)


def _kat_tiles() -> list[tuple[str, str]]:
    """The Go sumdb tile paths of the kat file, rewritten to C2SP form (no height element;
    Go's ``data`` tiles are C2SP entry bundles), with their description."""
    rewritten = []
    for line in KAT.splitlines():
        if not line.startswith("tile/"):
            continue
        go_path, description = line.split(maxsplit=1)
        parts = go_path.split("/")
        del parts[1]  # the tile height H
        if parts[1] == "data":
            parts[1] = "entries"
        rewritten.append(("/".join(parts), description))
    return rewritten


def test_tile_paths_from_kat() -> None:
    examples = _kat_tiles()
    assert len(examples) == 3
    expected = {
        "tile/5/x123/x456/078": TilePath("hash", 5, 123456078),
        "tile/5/x123/x456/078.p/2": TilePath("hash", 5, 123456078, 2),
        "tile/entries/x003/x057/500": TilePath("entries", 0, 3057500),
    }
    for path, description in examples:
        tile = parse_tile_path(path)
        assert tile == expected[path], description
        assert tile.path == path
        match = re.search(r"L:(\d+),N:(\d+),W:(\d+)", description)
        if match:  # Go's W:8 at height 3 is a full tile; W:2 is partial.
            level, index, width = map(int, match.groups())
            assert (tile.level, tile.index) == (level, index)
            assert tile.width == (None if width == 8 else width)
    assert tile_path(5, 123456078, 2) == "tile/5/x123/x456/078.p/2"
    assert entries_path(3057500) == "tile/entries/x003/x057/500"
    assert entries_path(0, 255) == "tile/entries/000.p/255"


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/1234",
        "tile/0/12",
        "tile/0/x000/123",
        "tile/0/x001",
        "tile/0/x001/",
        "tile/00/000",
        "tile/64/000",
        "tile/-1/000",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/0/000.p/012",
        "tile/0/000.p/",
        "tile/0/000.p",
        "/tile/0/000",
        "tile/0/../000",
        "tile/0/000/",
        "tile/0/000/../../etc",
        "tile//000",
        "tile/entries/x000/001",
        "tile/entries/000.p/256",
        "tile/data/000",
        "tile/0/X001/000",
        "tile/0/x001/x002/x003/x004/x005/x006/x007/000",
        "tile/0/000\n",
        "tile/0/\u0661\u0662\u0663",
        "tile\\0\\000",
        "checkpoint",
    ],
)
def test_malformed_tile_paths_are_rejected(path: str) -> None:
    with pytest.raises(TileError):
        parse_tile_path(path)


def test_path_builders_reject_invalid_values() -> None:
    with pytest.raises(TileError, match="width 256 is not between 1 and 255"):
        tile_path(0, 0, 256)
    with pytest.raises(TileError, match="width 0"):
        entries_path(0, 0)
    with pytest.raises(TileError, match="level 64"):
        tile_path(64, 0)
    with pytest.raises(TileError, match="negative"):
        encode_tile_index(-1)
    with pytest.raises(TileError, match="entry bundles belong to level 0"):
        TilePath("entries", 1, 0)


def test_tiles_for_tree_70000() -> None:
    tiles = tiles_for_tree(70000)
    match = re.search(
        r"tree size 70000 -> (\d+) full L0 tiles \+ L0 partial \.p/(\d+), (\d+) full L1 "
        r"\+ L1 partial \.p/(\d+), L2 partial \.p/(\d+)",
        KAT,
    )
    assert match
    full0, partial0, full1, partial1, partial2 = map(int, match.groups())
    hash_tiles = Counter((t.level, t.width) for t in tiles if t.kind == "hash")
    assert hash_tiles == {
        (0, None): full0,
        (0, partial0): 1,
        (1, None): full1,
        (1, partial1): 1,
        (2, partial2): 1,
    }
    bundles = Counter(t.width for t in tiles if t.kind == "entries")
    assert bundles == {None: full0, partial0: 1}
    assert [t.index for t in tiles if (t.kind, t.level) == ("hash", 0)] == list(range(274))
    assert len(tiles) == len(set(tiles))


def test_tiles_for_small_trees() -> None:
    assert tiles_for_tree(0) == []
    assert [t.path for t in tiles_for_tree(1)] == ["tile/0/000.p/1", "tile/entries/000.p/1"]
    # The spec: a tree of size 256 is a full level 0 tile and a level 1 tile of width 1.
    assert [t.path for t in tiles_for_tree(256)] == [
        "tile/0/000",
        "tile/entries/000",
        "tile/1/000.p/1",
    ]


# ---------------------------------------------------------------------------------------
# Contents
# ---------------------------------------------------------------------------------------


def test_hash_tile_contents() -> None:
    hashes = TREE.leaf_hashes
    assert hash_tile(0, 0, 256, TREE.node) == b"".join(hashes[:256])
    assert hash_tile(0, 2, 88, TREE.node) == b"".join(hashes[512:600])
    assert hash_tile(1, 0, 2, TREE.node) == (
        root_from_leaf_hashes(hashes[:256]) + root_from_leaf_hashes(hashes[256:512])
    )
    with pytest.raises(TileError, match="width 0"):
        hash_tile(0, 0, 0, TREE.node)
    with pytest.raises(TileError, match="is 5 bytes"):
        hash_tile(0, 0, 1, lambda level, index: b"short")


def test_entry_bundle_round_trip() -> None:
    entries = [b"", b"a", b"\x00" * 300, os.urandom(MAX_ENTRY_SIZE)]
    bundle = encode_entry_bundle(entries)
    assert bundle[:5] == b"\x00\x00\x00\x01a"
    assert decode_entry_bundle(bundle) == entries
    assert decode_entry_bundle(b"") == []


def test_entry_bundle_rejects_oversized_entry() -> None:
    with pytest.raises(TileError, match="entry 1 is 65536 bytes"):
        encode_entry_bundle([b"", b"x" * (MAX_ENTRY_SIZE + 1)])


def test_truncated_entry_bundle_is_rejected() -> None:
    entries = [b"abc", b"", b"hello"]
    bundle = encode_entry_bundle(entries)
    boundaries = {0, 5, 7, len(bundle)}
    for cut in range(len(bundle)):
        if cut in boundaries:
            # Cutting between entries leaves a shorter, valid bundle; entries_from_tiles
            # catches that by counting.
            assert decode_entry_bundle(bundle[:cut]) == entries[: sorted(boundaries).index(cut)]
        else:
            with pytest.raises(TileError, match=r"entry bundle ends inside|claims"):
                decode_entry_bundle(bundle[:cut])


# ---------------------------------------------------------------------------------------
# Writing and reading back a tile directory
# ---------------------------------------------------------------------------------------


def test_roots_from_written_tiles_for_sizes_1_to_600(tmp_path: Path) -> None:
    read = _reader(tmp_path)
    for size in range(1, 601):
        note = _checkpoint_note(size)
        write_tiles(tmp_path, size, TREE.node, TREE.entry, note)
        assert (tmp_path / CHECKPOINT_NAME).read_text(encoding="utf-8") == note
        assert tree_root_from_tiles(size, read) == TREE.root(size)
        if size % 37 == 0 or size in (1, 255, 256, 257, 511, 512, 513, 600):
            assert leaf_hashes_from_tiles(size, read) == TREE.leaf_hashes[:size]
            entries = entries_from_tiles(size, read)
            assert entries == [TREE.entry(i) for i in range(size)]
    assert not list(tmp_path.rglob("*.tmp"))


def test_altered_tiles_are_detected(tmp_path: Path) -> None:
    size = 600
    write_tiles(tmp_path, size, TREE.node, TREE.entry, _checkpoint_note(size))
    read = _reader(tmp_path)
    root = TREE.root(size)
    hash_tiles = [t for t in tiles_for_tree(size) if t.kind == "hash"]
    assert {t.path for t in hash_tiles} == {
        "tile/0/000",
        "tile/0/001",
        "tile/0/002.p/88",
        "tile/1/000.p/2",
    }
    for tile in hash_tiles:
        for offset in (0, 5000 % (tile.count * 32), tile.count * 32 - 1):
            original = read(tile)
            altered = bytearray(original)
            altered[offset] ^= 0x40
            (tmp_path / tile.path).write_bytes(bytes(altered))
            if tile.level == 0 and tile.width is not None:
                # The last partial leaf tile is not summarised by any tile above it, so the
                # change shows up as a different root.
                assert tree_root_from_tiles(size, read) != root
            else:
                with pytest.raises(TileError, match="is not the root of"):
                    tree_root_from_tiles(size, read)
            (tmp_path / tile.path).write_bytes(original)
    assert tree_root_from_tiles(size, read) == root


def test_truncated_or_altered_files_are_detected(tmp_path: Path) -> None:
    write_tiles(tmp_path, 300, TREE.node, TREE.entry, _checkpoint_note(300))
    read = _reader(tmp_path)
    tile = tmp_path / "tile/0/001.p/44"
    tile.write_bytes(tile.read_bytes()[:-1])
    with pytest.raises(TileError, match=r"tile/0/001.p/44 is 1407 bytes; a tile of 44 hashes"):
        tree_root_from_tiles(300, read)
    bundle = tmp_path / "tile/entries/001.p/44"
    entries = decode_entry_bundle(bundle.read_bytes())
    bundle.write_bytes(encode_entry_bundle(entries[:-1]))
    with pytest.raises(TileError, match="holds 43 entries, not 44"):
        entries_from_tiles(300, read)
    entries[3] = b"forged"
    bundle.write_bytes(encode_entry_bundle(entries))
    forged = entries_from_tiles(300, read)
    assert leaf_hash(forged[259]) != TREE.leaf_hashes[259]


def test_existing_tiles_are_not_rewritten(tmp_path: Path) -> None:
    first = write_tiles(tmp_path, 520, TREE.node, TREE.entry, _checkpoint_note(520))
    assert len(first) == len(tiles_for_tree(520))
    full = tmp_path / "tile/0/000"
    before = full.stat()
    again = write_tiles(tmp_path, 520, TREE.node, TREE.entry, _checkpoint_note(520))
    assert again == []
    grown = write_tiles(tmp_path, 600, TREE.node, TREE.entry, _checkpoint_note(600))
    # tile/1/000.p/2 is the same for both sizes and was already written.
    assert {t.path for t in grown} == {"tile/0/002.p/88", "tile/entries/002.p/88"}
    after = full.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert full.stat().st_mode & 0o777 == 0o644


def test_conflicting_existing_tile_is_refused(tmp_path: Path) -> None:
    write_tiles(tmp_path, 300, TREE.node, TREE.entry, _checkpoint_note(300))
    full = tmp_path / "tile/0/000"
    full.write_bytes(bytes(8192))
    with pytest.raises(TileError, match="already exists with different content"):
        write_tiles(tmp_path, 300, TREE.node, TREE.entry, _checkpoint_note(300))
    # Trusting existing tiles skips the comparison (and the work) for them.
    written = write_tiles(
        tmp_path, 301, TREE.node, TREE.entry, _checkpoint_note(301), verify_existing=False
    )
    assert {t.path for t in written} == {"tile/0/001.p/45", "tile/entries/001.p/45"}


def test_checkpoint_must_describe_the_tree(tmp_path: Path) -> None:
    with pytest.raises(TileError, match="checkpoint is for tree size 10, not 11"):
        write_tiles(tmp_path, 11, TREE.node, TREE.entry, _checkpoint_note(10))
    wrong_root = sign_checkpoint(Checkpoint(ORIGIN, 11, TREE.root(10)), LOG)
    with pytest.raises(TileError, match="root hash is not the root of the tree of size 11"):
        write_tiles(tmp_path, 11, TREE.node, TREE.entry, wrong_root)
    with pytest.raises(TileError, match="does not hold a checkpoint"):
        write_tiles(tmp_path, 11, TREE.node, TREE.entry, "garbage")
    assert not (tmp_path / CHECKPOINT_NAME).exists()
    assert not (tmp_path / "tile").exists()


def test_entries_must_match_leaf_hashes(tmp_path: Path) -> None:
    def bad_entry(index: int) -> bytes:
        return b"tampered" if index == 3 else TREE.entry(index)

    with pytest.raises(TileError, match="entry 3 does not hash to leaf hash 3"):
        write_tiles(tmp_path, 10, TREE.node, bad_entry, _checkpoint_note(10))
