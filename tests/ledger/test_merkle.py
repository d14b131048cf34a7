"""Tests for searchledger.ledger.merkle: RFC 6962/9162 vectors, generation, tampering."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from searchledger.ledger.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    MemoryTree,
    ProofError,
    TreeError,
    append_leaf,
    consistency_proof,
    frontier_root,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_inclusion,
    root_from_leaf_hashes,
    subtree_root,
    verify_consistency,
    verify_inclusion,
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


VECTORS = shared_dir() / "vectors"
TESTDATA = VECTORS / "transparency-dev_merkle_417fb0c" / "testdata"
INCLUSION_CASES = sorted((TESTDATA / "inclusion").rglob("*.json"))
CONSISTENCY_CASES = sorted((TESTDATA / "consistency").rglob("*.json"))


def _case_id(path: Path) -> str:
    return str(path.relative_to(TESTDATA))


def _load(path: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads(path.read_text())
    return data


def _b64(value: object) -> bytes:
    assert isinstance(value, str)
    return base64.b64decode(value)


def _proof(value: object) -> list[bytes]:
    # "proof": null in the vectors means an empty proof.
    if value is None:
        return []
    assert isinstance(value, list)
    return [_b64(item) for item in value]


# ---------------------------------------------------------------------------------------
# transparency-dev/merkle vectors
# ---------------------------------------------------------------------------------------


def test_all_vector_files_are_found() -> None:
    # 98 inclusion and 98 consistency files at commit 417fb0c: 12 happy paths and 184
    # cases that must be rejected. A missing or moved directory fails here, not silently.
    cases = [_load(path) for path in INCLUSION_CASES + CONSISTENCY_CASES]
    assert (len(INCLUSION_CASES), len(CONSISTENCY_CASES)) == (98, 98)
    assert sum(1 for case in cases if case["wantErr"]) == 184
    assert sum(1 for case in cases if not case["wantErr"]) == 12


@pytest.mark.parametrize("path", INCLUSION_CASES, ids=_case_id)
def test_inclusion_vector(path: Path) -> None:
    case = _load(path)
    index, size = case["leafIdx"], case["treeSize"]
    assert isinstance(index, int)
    assert isinstance(size, int)
    args = (index, size, _b64(case["leafHash"]), _proof(case["proof"]), _b64(case["root"]))
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("path", CONSISTENCY_CASES, ids=_case_id)
def test_consistency_vector(path: Path) -> None:
    case = _load(path)
    size1, size2 = case["size1"], case["size2"]
    assert isinstance(size1, int)
    assert isinstance(size2, int)
    args = (size1, size2, _proof(case["proof"]), _b64(case["root1"]), _b64(case["root2"]))
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


# ---------------------------------------------------------------------------------------
# Known answers (rfc6962_kat.txt)
# ---------------------------------------------------------------------------------------

KAT = (VECTORS / "rfc6962_kat.txt").read_text()


def _kat_hex(label: str) -> bytes:
    match = re.search(rf"^{re.escape(label)}.*= ([0-9a-f]{{64}})$", KAT, re.MULTILINE)
    assert match, f"{label} missing from rfc6962_kat.txt"
    return bytes.fromhex(match.group(1))


def _kat_leaves() -> list[bytes]:
    match = re.search(r"^# Leaf inputs \(hex\): (.*)$", KAT, re.MULTILINE)
    assert match
    return [bytes.fromhex(item.strip().strip('"')) for item in match.group(1).split(",")]


def _kat_roots() -> dict[int, bytes]:
    found = re.findall(r"^root\[(\d+)\] ([0-9a-f]{64})$", KAT, re.MULTILINE)
    return {int(size): bytes.fromhex(root) for size, root in found}


def test_known_answer_hashes() -> None:
    assert _kat_hex("EMPTY_ROOT") == EMPTY_ROOT == hashlib.sha256(b"").digest()
    assert _kat_hex('LEAF("")') == leaf_hash(b"")
    assert _kat_hex('LEAF("L123456")') == leaf_hash(b"L123456")
    assert _kat_hex('NODE("N123","N456")') == node_hash(b"N123", b"N456")


def test_known_answer_roots_for_sizes_0_to_8() -> None:
    leaves = _kat_leaves()
    roots = _kat_roots()
    assert len(leaves) == 8
    assert sorted(roots) == list(range(9))
    tree = MemoryTree()
    for data in leaves:
        tree.append(data)
    for size, expected in roots.items():
        hashes = [leaf_hash(data) for data in leaves[:size]]
        assert root_from_leaf_hashes(hashes) == expected
        assert tree.root(size) == expected
        assert subtree_root(0, size, tree.node) == expected
    assert tree.root() == roots[8]


# ---------------------------------------------------------------------------------------
# A naive reference: RFC 9162 MTH, PATH and PROOF written straight from the definitions
# ---------------------------------------------------------------------------------------


def ref_mth(hashes: list[bytes]) -> bytes:
    if not hashes:
        return EMPTY_ROOT
    if len(hashes) == 1:
        return hashes[0]
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    return node_hash(ref_mth(hashes[:k]), ref_mth(hashes[k:]))


def ref_path(m: int, hashes: list[bytes]) -> list[bytes]:
    n = len(hashes)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*ref_path(m, hashes[:k]), ref_mth(hashes[k:])]
    return [*ref_path(m - k, hashes[k:]), ref_mth(hashes[:k])]


def ref_subproof(m: int, hashes: list[bytes], whole: bool) -> list[bytes]:
    n = len(hashes)
    if m == n:
        return [] if whole else [ref_mth(hashes)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*ref_subproof(m, hashes[:k], whole), ref_mth(hashes[k:])]
    return [*ref_subproof(m - k, hashes[k:], False), ref_mth(hashes[:k])]


def ref_proof(m: int, hashes: list[bytes]) -> list[bytes]:
    return ref_subproof(m, hashes, True)


def _tree(size: int) -> MemoryTree:
    tree = MemoryTree()
    for i in range(size):
        tree.append(f"entry {i}".encode())
    return tree


TREE = _tree(70)


# ---------------------------------------------------------------------------------------
# Proof generation
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", range(1, 71))
def test_inclusion_proofs_match_reference_and_verify(size: int) -> None:
    hashes = TREE.leaf_hashes[:size]
    root = TREE.root(size)
    assert root == ref_mth(hashes)
    for index in range(size):
        proof = TREE.inclusion_proof(index, size)
        assert proof == ref_path(index, hashes)
        assert proof == inclusion_proof(index, size, TREE.node)
        verify_inclusion(index, size, hashes[index], proof, root)
        assert root_from_inclusion(index, size, hashes[index], proof) == root


@pytest.mark.parametrize("new_size", range(1, 71))
def test_consistency_proofs_match_reference_and_verify(new_size: int) -> None:
    hashes = TREE.leaf_hashes[:new_size]
    new_root = TREE.root(new_size)
    for old_size in range(1, new_size + 1):
        proof = TREE.consistency_proof(old_size, new_size)
        assert proof == ref_proof(old_size, hashes)
        assert proof == consistency_proof(old_size, new_size, TREE.node)
        verify_consistency(old_size, new_size, proof, TREE.root(old_size), new_root)
    assert TREE.consistency_proof(new_size, new_size) == []


def test_consistency_from_the_empty_tree() -> None:
    # The empty tree is a prefix of every tree: nothing to prove beyond the empty root.
    verify_consistency(0, 5, [], EMPTY_ROOT, TREE.root(5))
    with pytest.raises(ProofError, match="must be empty"):
        verify_consistency(0, 5, [TREE.root(1)], EMPTY_ROOT, TREE.root(5))
    with pytest.raises(ProofError, match="empty tree"):
        verify_consistency(0, 5, [], TREE.root(1), TREE.root(5))


def test_proof_generation_reads_logarithmically_many_nodes() -> None:
    # A synthetic tree of 2**40 leaves: proofs must come from O(log n) reads, never from
    # materialising leaves. (The synthetic hashes do not form a real tree, so only the
    # number and the positions of the reads are checked.)
    size = 2**40 + 12345
    reads: list[tuple[int, int]] = []

    def get_node(level: int, index: int) -> bytes:
        assert (index + 1) << level <= size, "read outside the tree"
        reads.append((level, index))
        return hashlib.sha256(f"{level}/{index}".encode()).digest()

    for index in (0, 1, 2**39, size - 1, 987654321):
        reads.clear()
        assert len(inclusion_proof(index, size, get_node)) <= 41
        assert len(reads) <= 2 * 41
    for old_size in (1, 2**39, 2**40, 2**40 + 1, size - 1, 777):
        reads.clear()
        consistency_proof(old_size, size, get_node)
        assert len(reads) <= 2 * 41


def test_generation_rejects_invalid_arguments() -> None:
    with pytest.raises(TreeError, match="not in a tree of size 5"):
        inclusion_proof(5, 5, TREE.node)
    with pytest.raises(TreeError, match="not in a tree of size 0"):
        inclusion_proof(0, 0, TREE.node)
    with pytest.raises(TreeError, match="0 < old size <= new size"):
        consistency_proof(0, 5, TREE.node)
    with pytest.raises(TreeError, match="0 < old size <= new size"):
        consistency_proof(6, 5, TREE.node)
    with pytest.raises(TreeError, match="not between 0 and 70"):
        TREE.inclusion_proof(0, 71)


# ---------------------------------------------------------------------------------------
# Compact ranges
# ---------------------------------------------------------------------------------------


def test_append_leaf_and_frontier_root_for_sizes_0_to_300() -> None:
    hashes = [leaf_hash(i.to_bytes(2, "big")) for i in range(301)]
    frontier: list[bytes] = []
    for size in range(301):
        assert frontier_root(frontier, size) == root_from_leaf_hashes(hashes[:size])
        assert len(frontier) == size.bit_count()
        if size == 300:
            break
        frontier, completed = append_leaf(frontier, size, hashes[size])
        assert completed[0] == (0, size, hashes[size])
        # Every completed node is a perfect subtree ending at the new leaf.
        for level, index, value in completed:
            assert (index + 1) << level == size + 1
            assert value == root_from_leaf_hashes(hashes[index << level : (index + 1) << level])
        assert len(completed) == 1 + (size ^ (size + 1)).bit_length() - 1


def test_empty_tree() -> None:
    assert root_from_leaf_hashes([]) == EMPTY_ROOT
    assert frontier_root([], 0) == EMPTY_ROOT
    assert MemoryTree().root() == EMPTY_ROOT
    assert subtree_root(0, 0, TREE.node) == EMPTY_ROOT


def test_frontier_must_match_size() -> None:
    with pytest.raises(TreeError, match="a tree of size 3 has 2 frontier hashes, not 1"):
        frontier_root([EMPTY_ROOT], 3)
    with pytest.raises(TreeError, match="frontier hash 0 is 31 bytes"):
        append_leaf([b"\x00" * 31], 1, EMPTY_ROOT)
    with pytest.raises(TreeError, match="leaf hash is 33 bytes"):
        append_leaf([], 0, b"\x00" * 33)
    with pytest.raises(TreeError, match="negative"):
        frontier_root([], -1)


def test_subtree_root_of_every_valid_range_and_rejection_of_others() -> None:
    hashes = TREE.leaf_hashes
    for start in range(70):
        for end in range(start + 1, 71):
            width = end - start
            if start % (1 << (width - 1).bit_length()) == 0:
                assert subtree_root(start, end, TREE.node) == ref_mth(hashes[start:end])
            else:
                with pytest.raises(TreeError, match="not an RFC 6962 subtree"):
                    subtree_root(start, end, TREE.node)
    with pytest.raises(TreeError, match="empty leaf range"):
        subtree_root(3, 3, TREE.node)
    with pytest.raises(TreeError, match="not a range"):
        subtree_root(4, 3, TREE.node)


def test_subtree_root_checks_stored_hashes() -> None:
    with pytest.raises(TreeError, match="returned by get_node"):
        subtree_root(0, 2, lambda level, index: b"short")


def test_memory_tree_accessors() -> None:
    tree = _tree(5)
    assert tree.size == 5
    assert tree.entry(4) == b"entry 4"
    assert tree.node(2, 0) == ref_mth(tree.leaf_hashes[:4])
    with pytest.raises(TreeError, match="no complete subtree at level 2 index 1"):
        tree.node(2, 1)
    with pytest.raises(TreeError, match="not in a tree of size 5"):
        tree.entry(5)
    assert tree.append(b"more") == 5


def test_verification_rejects_malformed_arguments() -> None:
    hashes = TREE.leaf_hashes[:7]
    proof = TREE.inclusion_proof(3, 7)
    root = TREE.root(7)
    with pytest.raises(ProofError, match="leaf hash is 31 bytes"):
        verify_inclusion(3, 7, hashes[3][:31], proof, root)
    with pytest.raises(
        ProofError, match="has 2 hashes; a proof for leaf 3 in a tree of size 7 has 3"
    ):
        verify_inclusion(3, 7, hashes[3], proof[:2], root)
    with pytest.raises(ProofError, match="proof hash 1 is 33 bytes"):
        verify_inclusion(3, 7, hashes[3], [proof[0], proof[1] + b"\x00", proof[2]], root)
    with pytest.raises(ProofError, match="not in a tree of size 7"):
        verify_inclusion(-1, 7, hashes[3], proof, root)
    with pytest.raises(ProofError, match="smaller than old tree size"):
        verify_consistency(5, 4, [], root, root)
    with pytest.raises(ProofError, match="negative"):
        verify_consistency(-1, 4, [], root, root)


# ---------------------------------------------------------------------------------------
# Tampering (Hypothesis)
# ---------------------------------------------------------------------------------------


def _flip(value: bytes, bit: int) -> bytes:
    flipped = bytearray(value)
    flipped[bit // 8] ^= 1 << (bit % 8)
    return bytes(flipped)


BITS = st.integers(0, HASH_SIZE * 8 - 1)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), size=st.integers(1, 70))
def test_tampered_inclusion_is_rejected(data: st.DataObject, size: int) -> None:
    index = data.draw(st.integers(0, size - 1))
    lh, root = TREE.leaf_hashes[index], TREE.root(size)
    proof = TREE.inclusion_proof(index, size)
    targets = ["leaf", "root"] + (["proof"] if proof else [])
    target = data.draw(st.sampled_from(targets))
    bit = data.draw(BITS)
    if target == "leaf":
        lh = _flip(lh, bit)
    elif target == "root":
        root = _flip(root, bit)
    else:
        position = data.draw(st.integers(0, len(proof) - 1))
        proof[position] = _flip(proof[position], bit)
    with pytest.raises(ProofError):
        verify_inclusion(index, size, lh, proof, root)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), new_size=st.integers(1, 70))
def test_tampered_consistency_is_rejected(data: st.DataObject, new_size: int) -> None:
    old_size = data.draw(st.integers(1, new_size))
    old_root, new_root = TREE.root(old_size), TREE.root(new_size)
    proof = TREE.consistency_proof(old_size, new_size)
    targets = ["old root", "new root"] + (["proof"] if proof else [])
    target = data.draw(st.sampled_from(targets))
    bit = data.draw(BITS)
    if target == "old root":
        old_root = _flip(old_root, bit)
    elif target == "new root":
        new_root = _flip(new_root, bit)
    else:
        position = data.draw(st.integers(0, len(proof) - 1))
        proof[position] = _flip(proof[position], bit)
    with pytest.raises(ProofError):
        verify_consistency(old_size, new_size, proof, old_root, new_root)
