"""Offline verification of a published checkpoint and its tiles (``ledger.offline``): a good
export verifies, and every way of altering one is detected — each byte of every file,
missing files, reordered or rewritten entries, another key, a rollback and a fork."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from searchledger.ledger.checkpoint import Checkpoint, sign_checkpoint
from searchledger.ledger.events import EntryDraft, LedgerEventType, build_entry
from searchledger.ledger.merkle import MemoryTree
from searchledger.ledger.note import CosignatureSigner, Signer, cosign_note
from searchledger.ledger.offline import OfflineVerificationError, verify_tile_directory
from searchledger.ledger.tiles import CHECKPOINT_NAME, encode_entry_bundle, write_tiles

ORIGIN = "ledger.example.org/offline"
LOG = Signer.from_seed(ORIGIN, bytes(range(1, 33)))
OTHER = Signer.from_seed(ORIGIN, bytes(range(2, 34)))
WITNESS = CosignatureSigner.from_seed("witness.example.org", bytes(range(3, 35)))
START = datetime(2026, 1, 1, tzinfo=UTC)


def _entry(seq: int) -> bytes:
    draft = EntryDraft(
        event=LedgerEventType.ACCOUNT_PASSWORD_SET,
        object_type="accounts.account",
        object_id=str(seq % 7),
        actor_id=1,
        request_id=f"req-{seq}",
        data={"by_self": seq % 2 == 0},
    )
    return build_entry(draft, seq=seq, time=START + timedelta(seconds=seq))


def _tree(size: int) -> MemoryTree:
    tree = MemoryTree()
    for seq in range(size):
        tree.append(_entry(seq))
    return tree


# 600 entries: two full level-0 tiles, a partial one, and a level-1 tile above them.
TREE = _tree(600)


def _note(tree: MemoryTree, size: int, signer: Signer = LOG) -> str:
    return sign_checkpoint(Checkpoint(ORIGIN, size, tree.root(size)), signer)


def _export(directory: Path, tree: MemoryTree, size: int, note: str | None = None) -> Path:
    write_tiles(
        directory, size, tree.node, tree.entry, note if note is not None else _note(tree, size)
    )
    return directory


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _export(tmp_path_factory.mktemp("published"), TREE, 600)


@pytest.fixture
def copy(published: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(published, target)
    return target


def _files(directory: Path) -> list[str]:
    return sorted(
        p.relative_to(directory).as_posix()
        for p in directory.rglob("*")
        if p.is_file() and p.name != CHECKPOINT_NAME
    )


def test_a_published_export_verifies(published: Path) -> None:
    result = verify_tile_directory(published, LOG.verifier())
    assert (result.entries, result.checkpoint.size) == (600, 600)
    assert result.checkpoint.root_hash == TREE.root()
    assert "ok: 600 entries" in result.summary()


def test_the_empty_log_verifies(tmp_path: Path) -> None:
    tree = MemoryTree()
    result = verify_tile_directory(_export(tmp_path, tree, 0), LOG.verifier())
    assert result.entries == 0


def test_every_tile_and_bundle_is_checked(published: Path) -> None:
    # Level-0 tiles 000, 001, 002.p/88; level-1 tile 000.p/2; the three entry bundles.
    assert _files(published) == [
        "tile/0/000",
        "tile/0/001",
        "tile/0/002.p/88",
        "tile/1/000.p/2",
        "tile/entries/000",
        "tile/entries/001",
        "tile/entries/002.p/88",
    ]


@pytest.mark.parametrize(
    "name",
    [
        "tile/0/000",
        "tile/0/001",
        "tile/0/002.p/88",
        "tile/1/000.p/2",
        "tile/entries/000",
        "tile/entries/001",
        "tile/entries/002.p/88",
    ],
)
@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_a_flipped_byte_anywhere_is_detected(copy: Path, name: str, where: str) -> None:
    target = copy / name
    data = bytearray(target.read_bytes())
    position = {"first": 0, "middle": len(data) // 2, "last": len(data) - 1}[where]
    data[position] ^= 0x01
    target.write_bytes(bytes(data))
    with pytest.raises(OfflineVerificationError):
        verify_tile_directory(copy, LOG.verifier())


@pytest.mark.parametrize("name", ["tile/0/001", "tile/1/000.p/2", "tile/entries/002.p/88"])
def test_a_missing_file_is_named(copy: Path, name: str) -> None:
    (copy / name).unlink()
    with pytest.raises(OfflineVerificationError, match="missing or unreadable tile"):
        verify_tile_directory(copy, LOG.verifier())


def test_swapped_entries_are_detected(copy: Path) -> None:
    entries = [_entry(seq) for seq in range(256)]
    entries[3], entries[4] = entries[4], entries[3]
    (copy / "tile/entries/000").write_bytes(encode_entry_bundle(entries))
    with pytest.raises(OfflineVerificationError, match=r"entry 3 .* altered"):
        verify_tile_directory(copy, LOG.verifier())


def test_a_log_recomputed_around_a_rewritten_entry_fails_the_signature(tmp_path: Path) -> None:
    # Whoever rewrites an entry and recomputes every tile and the root still cannot sign.
    forged = MemoryTree()
    for seq in range(600):
        forged.append(_entry(seq) if seq != 10 else _entry(11).replace(b'"seq":11', b'"seq":10'))
    directory = _export(
        tmp_path, forged, 600, sign_checkpoint(Checkpoint(ORIGIN, 600, forged.root()), OTHER)
    )
    with pytest.raises(OfflineVerificationError, match="no signature by a known key"):
        verify_tile_directory(directory, LOG.verifier())


def test_an_entry_out_of_place_is_detected_even_when_tiles_agree(tmp_path: Path) -> None:
    # A log whose own key signed a tree with entry 5 carrying seq 6: the tiles agree with
    # the checkpoint, but the entry is not where it says it is.
    odd = MemoryTree()
    for seq in range(20):
        odd.append(_entry(6 if seq == 5 else seq))
    with pytest.raises(OfflineVerificationError, match="entry 5 carries seq 6"):
        verify_tile_directory(_export(tmp_path, odd, 20), LOG.verifier())


def test_a_non_entry_is_refused(tmp_path: Path) -> None:
    junk = MemoryTree()
    junk.append(b'{"hello":"world"}')
    with pytest.raises(OfflineVerificationError, match="entry 0 is not a valid entry"):
        verify_tile_directory(_export(tmp_path, junk, 1), LOG.verifier())


def test_a_checkpoint_from_another_key_is_refused(copy: Path) -> None:
    (copy / CHECKPOINT_NAME).write_text(_note(TREE, 600, OTHER))
    with pytest.raises(OfflineVerificationError, match="no signature by a known key"):
        verify_tile_directory(copy, LOG.verifier())


def test_a_checkpoint_of_another_origin_is_refused(published: Path) -> None:
    with pytest.raises(OfflineVerificationError, match="origin"):
        verify_tile_directory(published, LOG.verifier(), origin="ledger.example.org/other")


def test_a_missing_checkpoint_is_named(tmp_path: Path) -> None:
    with pytest.raises(OfflineVerificationError, match="cannot read the checkpoint"):
        verify_tile_directory(tmp_path, LOG.verifier())


def test_an_earlier_checkpoint_that_this_one_extends_is_accepted(published: Path) -> None:
    result = verify_tile_directory(published, LOG.verifier(), previous_checkpoint=_note(TREE, 300))
    assert result.previous_size == 300
    assert "extends the earlier checkpoint of size 300" in result.summary()


def test_a_fork_is_detected(published: Path) -> None:
    # The verifier kept a checkpoint of size 300 from a different history.
    other = MemoryTree()
    for seq in range(300):
        other.append(_entry(seq) if seq != 42 else _entry(42).replace(b"req-42", b"req-XX"))
    with pytest.raises(OfflineVerificationError, match="rewritten"):
        verify_tile_directory(published, LOG.verifier(), previous_checkpoint=_note(other, 300))


def test_a_rollback_is_detected(tmp_path: Path) -> None:
    directory = _export(tmp_path, TREE, 300)
    with pytest.raises(OfflineVerificationError, match="rolled back"):
        verify_tile_directory(directory, LOG.verifier(), previous_checkpoint=_note(TREE, 600))


def test_cosignatures_of_given_witnesses_are_reported(tmp_path: Path) -> None:
    cosigned = cosign_note(_note(TREE, 600), WITNESS, 1_790_000_000)
    directory = _export(tmp_path, TREE, 600, cosigned)
    result = verify_tile_directory(directory, LOG.verifier(), witnesses=[WITNESS.verifier()])
    assert result.cosigners == ("witness.example.org",)
    assert "cosigned by witness.example.org" in result.summary()
    # Without the witness's key the cosignature proves nothing and is not reported.
    assert verify_tile_directory(directory, LOG.verifier()).cosigners == ()
