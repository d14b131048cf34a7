"""Request and response schemas of the JSON API."""

from __future__ import annotations

from typing import Any

from ninja import Schema

__all__ = [
    "ConsistencyProofOut",
    "EntryOut",
    "ErrorOut",
    "InclusionProofOut",
    "InvalidInputOut",
    "TreeHeadOut",
    "answers",
]


class ErrorOut(Schema):
    """A refusal: what was wrong, in words (``400`` names each field; ``401``: no valid
    token or session; ``403``: this role or token may not; ``404``: nothing of that id
    among what you may see; ``409``: the record's state forbids it)."""

    detail: str


class InvalidInputOut(Schema):
    """``422``: the input does not have the schema's shape (django-ninja's answer: one
    item per problem, each with its location, e.g. ``["query", "limit"]``, and message)."""

    detail: list[dict[str, Any]]


def answers(ok: dict[int, Any], *errors: int) -> dict[int, Any]:
    """An operation's documented responses: ``ok`` (status to schema), ``401`` and ``403``
    (every operation authenticates), and each code in ``errors``, with its error schema.
    Declaring them lets a client (and schemathesis) check every answer against the
    schema, not only the successes."""
    documented = dict(ok)
    for code in (401, 403, *errors):
        documented.setdefault(code, InvalidInputOut if code == 422 else ErrorOut)
    return documented


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
