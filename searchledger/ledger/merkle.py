"""RFC 6962 / RFC 9162 Merkle tree hashing, proof generation and proof verification.

The tree is the one of RFC 9162 section 2.1 with SHA-256: a leaf hashes as
``SHA-256(0x00 || data)``, an interior node as ``SHA-256(0x01 || left || right)``, and a tree
of ``n > 1`` leaves splits at ``k``, the largest power of two smaller than ``n``.

Storage is kept out of this module. The ledger stores every *perfect* node (the root of a
complete subtree of ``2**level`` leaves starting at a multiple of ``2**level``) once, when it
is completed, and never changes it; ``append_leaf`` reports those nodes as they complete.
Proof generation reads them back through a ``NodeGetter`` and needs only O(log n) reads,
because every RFC 6962 subtree is the concatenation of at most log2(n) perfect nodes.

Verification follows the algorithms of RFC 9162 sections 2.1.3.2 and 2.1.4.2 as implemented
in transparency-dev/merkle (``proof/verify.go``), and agrees with its test vectors.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MemoryTree",
    "NodeGetter",
    "ProofError",
    "TreeError",
    "append_leaf",
    "consistency_proof",
    "frontier_root",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root_from_inclusion",
    "root_from_leaf_hashes",
    "subtree_root",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

# Domain separation between leaves and interior nodes (RFC 6962 section 2.1): without it a
# pair of leaf hashes could be passed off as a leaf, a second-preimage attack on the tree.
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"

NodeGetter = Callable[[int, int], bytes]
"""``get_node(level, index)`` returns the hash of the perfect subtree of height ``level`` that
covers leaves ``[index * 2**level, (index + 1) * 2**level)``; level 0 holds the leaf hashes."""


class ProofError(ValueError):
    """An inclusion or consistency proof does not prove what it was checked against."""


class TreeError(ValueError):
    """A size, index, range, frontier or hash given to a tree function is not valid for it."""


# ---------------------------------------------------------------------------------------
# Hashing
# ---------------------------------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 6962 leaf hash ``SHA-256(0x00 || data)``."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 6962 interior node hash ``SHA-256(0x01 || left || right)``.

    Lengths are not checked here because this is the innermost loop of every computation;
    the public entry points check the hashes they are given.
    """
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """Return the Merkle Tree Hash of a list of leaf hashes (``EMPTY_ROOT`` for none).

    Works level by level: pairing neighbours and carrying an odd last node up unchanged
    gives exactly the RFC 6962 split at the largest power of two, without recursion.
    """
    for position, value in enumerate(hashes):
        _require_hash(value, f"leaf hash {position}")
    if not hashes:
        return EMPTY_ROOT
    level = list(hashes)
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


# ---------------------------------------------------------------------------------------
# Compact ranges: appending and roots
# ---------------------------------------------------------------------------------------


def append_leaf(
    frontier: Sequence[bytes], size: int, lh: bytes
) -> tuple[list[bytes], list[tuple[int, int, bytes]]]:
    """Append the leaf hash ``lh`` to the tree of ``size`` leaves described by ``frontier``.

    ``frontier`` holds the roots of the perfect subtrees that make up the tree, largest
    (leftmost) first, one per set bit of ``size``. Returns the frontier of the tree of
    ``size + 1`` leaves and every perfect node the append completed, as
    ``(level, index, hash)`` from the leaf itself (level 0, index ``size``) upwards.
    Takes O(log n) time.
    """
    _require_frontier(frontier, size)
    _require_hash(lh, "leaf hash")
    new_frontier = list(frontier)
    completed = [(0, size, lh)]
    current, level, index, carry = lh, 0, size, size
    # Each trailing one bit of the old size is a perfect subtree of the same height as the
    # one just completed, sitting immediately to its left: merge them, like a binary carry.
    while carry & 1:
        current = node_hash(new_frontier.pop(), current)
        level += 1
        index >>= 1
        carry >>= 1
        completed.append((level, index, current))
    new_frontier.append(current)
    return new_frontier, completed


def frontier_root(frontier: Sequence[bytes], size: int) -> bytes:
    """Return the RFC 6962 root of the tree of ``size`` leaves described by ``frontier``.

    ``frontier`` must hold exactly one hash per set bit of ``size``, largest subtree first;
    the root of the empty tree is ``EMPTY_ROOT``.
    """
    _require_frontier(frontier, size)
    if size == 0:
        return EMPTY_ROOT
    return _fold_right(frontier)


def subtree_root(start: int, end: int, get_node: NodeGetter) -> bytes:
    """Return ``MTH(D[start:end])`` assembled from perfect nodes read with ``get_node``.

    The range must be one that RFC 6962 hashes as a unit: a prefix ``[0, end)`` of the tree,
    or any range of ``w`` leaves that starts at a multiple of the smallest power of two not
    below ``w``. Reads at most one node per set bit of ``end - start``.
    """
    if start < 0 or end < start:
        raise TreeError(f"leaf range [{start}, {end}) is not a range of leaves")
    width = end - start
    if width == 0:
        if start != 0:
            raise TreeError(f"empty leaf range at {start}: only the empty tree has no leaves")
        return EMPTY_ROOT
    span = 1 << (width - 1).bit_length()
    if start % span:
        raise TreeError(
            f"leaf range [{start}, {end}) is not an RFC 6962 subtree: a range of {width} "
            f"leaves must start at a multiple of {span}"
        )
    nodes = []
    for level, index in _perfect_nodes(start, end):
        value = get_node(level, index)
        _require_hash(value, f"node at level {level} index {index} returned by get_node")
        nodes.append(value)
    return _fold_right(nodes)


# ---------------------------------------------------------------------------------------
# Proof generation (RFC 9162 sections 2.1.3.1 and 2.1.4.1)
# ---------------------------------------------------------------------------------------


def inclusion_proof(index: int, size: int, get_node: NodeGetter) -> list[bytes]:
    """Return the inclusion proof ``PATH(index, D[0:size])`` of RFC 9162 section 2.1.3.1.

    Hashes are ordered from the leaf's sibling up to the child of the root. Only the one
    sibling that is not a perfect subtree (on the right border) costs more than one read.
    """
    if not 0 <= index < size:
        raise TreeError(f"leaf index {index} is not in a tree of size {size}")
    top_down: list[bytes] = []
    low, high = 0, size
    # The recursive definition descends into the half that holds the leaf and emits the
    # other half's hash after the sub-path, so the siblings are collected top-down here and
    # reversed at the end.
    while high - low > 1:
        middle = low + _split_point(high - low)
        if index < middle:
            top_down.append(subtree_root(middle, high, get_node))
            high = middle
        else:
            top_down.append(subtree_root(low, middle, get_node))
            low = middle
    top_down.reverse()
    return top_down


def consistency_proof(old_size: int, new_size: int, get_node: NodeGetter) -> list[bytes]:
    """Return the consistency proof ``PROOF(old_size, D[0:new_size])`` of RFC 9162 2.1.4.1.

    Requires ``0 < old_size <= new_size``; the proof between equal sizes is empty.
    """
    if not 0 < old_size <= new_size:
        raise TreeError(
            f"no consistency proof from size {old_size} to size {new_size}: "
            "it needs 0 < old size <= new size"
        )
    top_down: list[bytes] = []
    low, high = 0, new_size
    # ``whole_old_tree`` is SUBPROOF's flag b: true while the current range starts at leaf
    # 0, in which case the verifier already knows the old root and it is not repeated.
    whole_old_tree = True
    while old_size != high:
        middle = low + _split_point(high - low)
        if old_size <= middle:
            top_down.append(subtree_root(middle, high, get_node))
            high = middle
        else:
            top_down.append(subtree_root(low, middle, get_node))
            low = middle
            whole_old_tree = False
    if not whole_old_tree:
        top_down.append(subtree_root(low, high, get_node))
    top_down.reverse()
    return top_down


# ---------------------------------------------------------------------------------------
# Proof verification (RFC 9162 sections 2.1.3.2 and 2.1.4.2)
# ---------------------------------------------------------------------------------------


def root_from_inclusion(index: int, size: int, lh: bytes, proof: Sequence[bytes]) -> bytes:
    """Return the root that ``proof`` yields for leaf hash ``lh`` at ``index`` in ``size``.

    Raises ``ProofError`` when the arguments cannot form an inclusion proof at all (index
    outside the tree, wrong hash length, wrong number of hashes).
    """
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not in a tree of size {size}")
    _require_proof_hash(lh, "leaf hash")
    inner, border = _decompose_inclusion(index, size)
    if len(proof) != inner + border:
        raise ProofError(
            f"inclusion proof has {len(proof)} hashes; a proof for leaf {index} in a tree "
            f"of size {size} has {inner + border}"
        )
    for position, value in enumerate(proof):
        _require_proof_hash(value, f"proof hash {position}")
    result = _chain_inner(lh, proof[:inner], index)
    return _chain_border_right(result, proof[inner:])


def verify_inclusion(index: int, size: int, lh: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """Check that ``proof`` shows leaf hash ``lh`` at ``index`` in the tree ``(size, root)``.

    Returns nothing on success and raises ``ProofError`` saying what failed otherwise.
    """
    calculated = root_from_inclusion(index, size, lh, proof)
    if calculated != root:
        raise ProofError(
            f"inclusion proof for leaf {index} leads to root {calculated.hex()}, "
            f"not to the expected root {root.hex()} of the tree of size {size}"
        )


def verify_consistency(
    old_size: int,
    new_size: int,
    proof: Sequence[bytes],
    old_root: bytes,
    new_root: bytes,
) -> None:
    """Check that the tree ``(new_size, new_root)`` extends ``(old_size, old_root)``.

    Equal sizes need an empty proof and equal roots (and, for size 0, the empty-tree root).
    The empty tree is a prefix of every tree, so from size 0 the proof must be empty and
    ``old_root`` must be ``EMPTY_ROOT``. Raises ``ProofError`` saying what failed.
    """
    if old_size < 0:
        raise ProofError(f"old tree size {old_size} is negative")
    if new_size < old_size:
        raise ProofError(f"new tree size {new_size} is smaller than old tree size {old_size}")
    if old_size == new_size:
        _verify_same_size(old_size, proof, old_root, new_root)
        return
    if old_size == 0:
        _verify_from_empty(proof, old_root, new_root)
        return
    if not proof:
        raise ProofError(
            f"consistency proof from size {old_size} to size {new_size} is empty; "
            "different sizes always need at least one hash"
        )
    for position, value in enumerate(proof):
        _require_proof_hash(value, f"proof hash {position}")

    inner, border = _decompose_inclusion(old_size - 1, new_size)
    # The lowest ``shift`` levels of the path to leaf old_size - 1 lie inside one perfect
    # subtree that both trees share, so the proof starts from that subtree's root instead.
    shift = _trailing_zeros(old_size)
    inner -= shift
    if old_size == 1 << shift:
        # The old tree is itself that perfect subtree: its root is the seed, not sent.
        seed, rest = old_root, proof
    else:
        seed, rest = proof[0], proof[1:]
    if len(rest) != inner + border:
        expected = inner + border + (0 if old_size == 1 << shift else 1)
        raise ProofError(
            f"consistency proof from size {old_size} to size {new_size} has "
            f"{len(proof)} hashes; it should have {expected}"
        )
    mask = (old_size - 1) >> shift
    old_calculated = _chain_border_right(_chain_inner_right(seed, rest[:inner], mask), rest[inner:])
    if old_calculated != old_root:
        raise ProofError(
            f"consistency proof leads to old root {old_calculated.hex()}, "
            f"not to the expected root {old_root.hex()} of the tree of size {old_size}"
        )
    new_calculated = _chain_border_right(_chain_inner(seed, rest[:inner], mask), rest[inner:])
    if new_calculated != new_root:
        raise ProofError(
            f"consistency proof leads to new root {new_calculated.hex()}, "
            f"not to the expected root {new_root.hex()} of the tree of size {new_size}"
        )


# ---------------------------------------------------------------------------------------
# In-memory tree
# ---------------------------------------------------------------------------------------


class MemoryTree:
    """An append-only Merkle tree held in memory, storing every perfect node once.

    It is the reference for the database-backed tree (it is built on ``append_leaf`` in the
    same way) and serves tests and the tile exporter. Entries are kept so that entry
    bundles can be written from it.
    """

    def __init__(self) -> None:
        """Create an empty tree."""
        # _levels[level][index] is the perfect node of height ``level`` at ``index``.
        self._levels: list[list[bytes]] = [[]]
        self._frontier: list[bytes] = []
        self._entries: list[bytes] = []

    @property
    def size(self) -> int:
        """The number of leaves."""
        return len(self._entries)

    @property
    def leaf_hashes(self) -> list[bytes]:
        """A copy of the leaf hashes, in order."""
        return list(self._levels[0])

    def append(self, data: bytes) -> int:
        """Append an entry and return its leaf index."""
        index = self.size
        self._frontier, completed = append_leaf(self._frontier, index, leaf_hash(data))
        for level, _, value in completed:
            if level == len(self._levels):
                self._levels.append([])
            self._levels[level].append(value)
        self._entries.append(data)
        return index

    def entry(self, index: int) -> bytes:
        """Return the entry at leaf ``index``."""
        if not 0 <= index < self.size:
            raise TreeError(f"leaf index {index} is not in a tree of size {self.size}")
        return self._entries[index]

    def node(self, level: int, index: int) -> bytes:
        """Return the perfect node at ``(level, index)``; a ``NodeGetter`` for this tree."""
        if 0 <= level < len(self._levels) and 0 <= index < len(self._levels[level]):
            return self._levels[level][index]
        raise TreeError(
            f"no complete subtree at level {level} index {index} in a tree of size {self.size}"
        )

    def root(self, size: int | None = None) -> bytes:
        """Return the root of the tree, or of its first ``size`` leaves."""
        if size is None:
            return frontier_root(self._frontier, self.size)
        return subtree_root(0, self._check_size(size), self.node)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Return the inclusion proof of leaf ``index`` in the tree of ``size`` (default all)."""
        return inclusion_proof(index, self._check_size(size), self.node)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """Return the consistency proof from ``old_size`` to ``new_size`` (default all)."""
        return consistency_proof(old_size, self._check_size(new_size), self.node)

    def _check_size(self, size: int | None) -> int:
        if size is None:
            return self.size
        if not 0 <= size <= self.size:
            raise TreeError(f"tree size {size} is not between 0 and {self.size}")
        return size


# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------


def _require_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise TreeError(f"{what} is {len(value)} bytes, not {HASH_SIZE}")


def _require_proof_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} is {len(value)} bytes, not {HASH_SIZE}")


def _require_frontier(frontier: Sequence[bytes], size: int) -> None:
    if size < 0:
        raise TreeError(f"tree size {size} is negative")
    if len(frontier) != size.bit_count():
        raise TreeError(
            f"a tree of size {size} has {size.bit_count()} frontier hashes, not {len(frontier)}"
        )
    for position, value in enumerate(frontier):
        _require_hash(value, f"frontier hash {position}")


def _fold_right(hashes: Sequence[bytes]) -> bytes:
    """Hash a non-empty list of adjacent subtree roots (largest first) into one root."""
    result = hashes[-1]
    for value in reversed(hashes[:-1]):
        result = node_hash(value, result)
    return result


def _perfect_nodes(start: int, end: int) -> list[tuple[int, int]]:
    """Return the perfect nodes that make up a valid subtree range, largest first."""
    nodes = []
    position = start
    width = end - start
    for level in range(width.bit_length() - 1, -1, -1):
        if width >> level & 1:
            nodes.append((level, position >> level))
            position += 1 << level
    return nodes


def _split_point(width: int) -> int:
    """Return the largest power of two strictly smaller than ``width`` (``width >= 2``)."""
    return 1 << ((width - 1).bit_length() - 1)


def _trailing_zeros(value: int) -> int:
    return (value & -value).bit_length() - 1


def _decompose_inclusion(index: int, size: int) -> tuple[int, int]:
    """Split an inclusion proof's length into the part below and above the point where the
    paths to ``index`` and to the last leaf ``size - 1`` meet."""
    inner = (index ^ (size - 1)).bit_length()
    border = (index >> inner).bit_count()
    return inner, border


def _chain_inner(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    for level, value in enumerate(proof):
        # A set bit means the node on the path is a right child: its sibling is on the left.
        seed = node_hash(value, seed) if (index >> level) & 1 else node_hash(seed, value)
    return seed


def _chain_inner_right(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    # Only the siblings on the left existed in the older tree; right ones are skipped.
    for level, value in enumerate(proof):
        if (index >> level) & 1:
            seed = node_hash(value, seed)
    return seed


def _chain_border_right(seed: bytes, proof: Sequence[bytes]) -> bytes:
    # Above the meeting point the path runs along the right border: every sibling is left.
    for value in proof:
        seed = node_hash(value, seed)
    return seed


def _verify_same_size(size: int, proof: Sequence[bytes], old_root: bytes, new_root: bytes) -> None:
    if proof:
        raise ProofError(
            f"consistency proof between two trees of size {size} must be empty, "
            f"it has {len(proof)} hashes"
        )
    if size == 0 and old_root != EMPTY_ROOT:
        raise ProofError("old root of the empty tree is not SHA-256 of the empty string")
    if size == 0 and new_root != EMPTY_ROOT:
        raise ProofError("new root of the empty tree is not SHA-256 of the empty string")
    # Only equality is checked, not the length: with nothing to hash, equal roots are all
    # a proof can show, and the transparency-dev vectors accept equal roots of any length.
    if old_root != new_root:
        raise ProofError(
            f"two trees of size {size} have different roots {old_root.hex()} and {new_root.hex()}"
        )


def _verify_from_empty(proof: Sequence[bytes], old_root: bytes, new_root: bytes) -> None:
    if proof:
        raise ProofError(
            f"consistency proof from the empty tree must be empty, it has {len(proof)} hashes"
        )
    if old_root != EMPTY_ROOT:
        raise ProofError("old root of the empty tree is not SHA-256 of the empty string")
    _require_proof_hash(new_root, "new root")
