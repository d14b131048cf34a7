"""Request and response schemas of the JSON API."""

from __future__ import annotations

from ninja import Schema

__all__ = ["ConsistencyProofOut", "EntryOut", "InclusionProofOut", "TreeHeadOut"]


class TreeHeadOut(Schema):
    """The current tree and the latest signed checkpoint."""

    size: int
    root_hex: str
    checkpoint: str | None
    verifier_key: str | None


class InclusionProofOut(Schema):
    """RFC 9162 inclusion proof; hashes are base64 as in C2SP and transparency-dev."""

    index: int
    tree_size: int
    leaf_hash: str
    proof: list[str]


class ConsistencyProofOut(Schema):
    """RFC 9162 consistency proof between two tree sizes."""

    old_size: int
    new_size: int
    proof: list[str]


class EntryOut(Schema):
    """One ledger entry: its canonical JSON body and leaf hash."""

    seq: int
    body: str
    leaf_hash: str
