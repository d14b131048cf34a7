"""Reads of the ledger: tree head, node hashes, proofs, tiles and entries."""

from __future__ import annotations

import json
from typing import Any

from searchledger.apps.accounts.models import Account
from searchledger.apps.ledger.models import Checkpoint, LedgerEntry, LedgerNode, TreeHead
from searchledger.ledger import merkle, tiles

__all__ = [
    "LedgerReadError",
    "consistency_proof",
    "entry_bytes",
    "get_node",
    "get_tree_head",
    "inclusion_proof",
    "latest_checkpoint",
    "list_recent_entries",
    "object_history",
    "read_tile",
]


class LedgerReadError(ValueError):
    """A read asked for something the ledger does not hold (bad index, size, tile)."""


def get_tree_head() -> tuple[int, bytes]:
    """Current (size, root) of the tree."""
    head = TreeHead.objects.filter(pk=1).first()
    if head is None:
        return 0, merkle.EMPTY_ROOT
    return head.size, bytes.fromhex(head.root)


def get_node(level: int, index: int) -> bytes:
    """Hash of the perfect subtree at (level, index); LedgerReadError if not complete."""
    node = LedgerNode.objects.filter(level=level, index=index).values_list("hash", flat=True)
    found = list(node)
    if not found:
        raise LedgerReadError(f"no complete subtree at level {level} index {index}")
    return bytes.fromhex(found[0])


def _check_size(size: int | None) -> int:
    current, _ = get_tree_head()
    if size is None:
        return current
    if size < 0 or size > current:
        raise LedgerReadError(f"tree size {size} is outside 0..{current}")
    return size


def inclusion_proof(index: int, size: int | None = None) -> tuple[int, list[bytes]]:
    """Inclusion proof of entry ``index`` in the tree of ``size`` (default: current)."""
    tree_size = _check_size(size)
    if not 0 <= index < tree_size:
        raise LedgerReadError(f"entry index {index} is outside 0..{tree_size - 1}")
    return tree_size, merkle.inclusion_proof(index, tree_size, get_node)


def consistency_proof(old_size: int, new_size: int) -> list[bytes]:
    """Consistency proof between two tree sizes the ledger has reached."""
    _check_size(new_size)
    if not 0 < old_size <= new_size:
        raise LedgerReadError(f"need 0 < old size ({old_size}) <= new size ({new_size})")
    return merkle.consistency_proof(old_size, new_size, get_node)


def entry_bytes(seq: int) -> bytes:
    """The canonical bytes of entry ``seq``."""
    body = LedgerEntry.objects.filter(seq=seq).values_list("body", flat=True).first()
    if body is None:
        raise LedgerReadError(f"no entry {seq}")
    return body.encode("utf-8")


def latest_checkpoint() -> Checkpoint | None:
    """The signed checkpoint with the largest tree size, if any."""
    return Checkpoint.objects.order_by("-size").first()


def list_recent_entries(limit: int = 50) -> list[LedgerEntry]:
    """The newest entries, newest first."""
    return list(LedgerEntry.objects.order_by("-seq")[:limit])


def read_tile(path: str, tree_size: int) -> bytes:
    """The bytes of the tile at ``path`` (C2SP tlog-tiles) for a tree of ``tree_size``.

    Full tiles never change; a partial tile is served only at the width the tree has.
    """
    tile = tiles.parse_tile_path(path)
    base = tile.index * tiles.TILE_WIDTH
    level_size = tree_size >> (tile.level * tiles.TILE_HEIGHT) if tile.kind == "hash" else tree_size
    available = min(level_size - base, tiles.TILE_WIDTH)
    width = tile.width or tiles.TILE_WIDTH
    if available < width:
        raise LedgerReadError(f"tile {path} is not available at tree size {tree_size}")
    if tile.kind == "entries":
        rows = LedgerEntry.objects.filter(seq__gte=base, seq__lt=base + width).order_by("seq")
        bodies = [row.body.encode("utf-8") for row in rows.only("body")]
        if len(bodies) != width:
            raise LedgerReadError(f"entries for {path} are missing")
        return tiles.encode_entry_bundle(bodies)
    level = tile.level * tiles.TILE_HEIGHT
    nodes = LedgerNode.objects.filter(
        level=level, index__gte=base, index__lt=base + width
    ).order_by("index")
    hashes = [bytes.fromhex(n.hash) for n in nodes.only("hash")]
    if len(hashes) != width:
        raise LedgerReadError(f"hashes for {path} are missing")
    return b"".join(hashes)


def object_history(object_type: str, object_id: int | str) -> list[dict[str, Any]]:
    """An object's ledger entries, oldest first, for its page: position, time, event, the
    acting account's username ("system" for the system actor) and the entry's clear data."""
    entries = list(
        LedgerEntry.objects.filter(object_type=object_type, object_id=str(object_id)).order_by(
            "seq"
        )
    )
    names = dict(
        Account.objects.filter(pk__in={e.actor_id for e in entries}).values_list("pk", "username")
    )
    return [
        {
            "seq": e.seq,
            "time": e.recorded_at,
            "event": e.event_name,
            "actor": names.get(e.actor_id, "system" if e.actor_id == 0 else str(e.actor_id)),
            "data": json.loads(e.body)["data"],
        }
        for e in entries
    ]
