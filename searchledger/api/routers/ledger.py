"""Ledger endpoints: tree head, proofs and entries, for auditors and oversight."""

from __future__ import annotations

import base64

from django.http import Http404, HttpRequest, HttpResponse
from ninja import Router
from ninja.errors import HttpError

from searchledger.api.auth import allow
from searchledger.api.schemas import (
    ConsistencyProofOut,
    EntryOut,
    InclusionProofOut,
    TreeHeadOut,
    answers,
)
from searchledger.apps.ledger import selectors, serving
from searchledger.apps.ledger.keys import SigningKeyError, load_signer
from searchledger.core.roles import Permission
from searchledger.ledger import merkle

__all__ = ["router"]

router = Router(tags=["ledger"])


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@router.get("/head", response=answers({200: TreeHeadOut}), auth=allow(Permission.VIEW_LEDGER))
def tree_head(request: HttpRequest) -> TreeHeadOut:
    """Current tree size and root, with the latest signed checkpoint."""
    size, root = selectors.get_tree_head()
    checkpoint = selectors.latest_checkpoint()
    try:
        verifier_key: str | None = load_signer().verifier_key()
    except SigningKeyError:
        verifier_key = None
    return TreeHeadOut(
        size=size,
        root_hex=root.hex(),
        checkpoint=checkpoint.note if checkpoint else None,
        verifier_key=verifier_key,
    )


@router.get(
    "/proof/inclusion",
    response=answers({200: InclusionProofOut}, 400, 422),
    auth=allow(Permission.VIEW_LEDGER),
)
def inclusion(request: HttpRequest, index: int, size: int | None = None) -> InclusionProofOut:
    """Inclusion proof of entry ``index`` in the tree of ``size`` (default: current)."""
    try:
        tree_size, proof = selectors.inclusion_proof(index, size)
        leaf = merkle.leaf_hash(selectors.entry_bytes(index))
    except selectors.LedgerReadError as exc:
        raise HttpError(400, str(exc)) from exc
    return InclusionProofOut(
        index=index, tree_size=tree_size, leaf_hash=_b64(leaf), proof=[_b64(p) for p in proof]
    )


@router.get(
    "/proof/consistency",
    response=answers({200: ConsistencyProofOut}, 400, 422),
    auth=allow(Permission.VIEW_LEDGER),
)
def consistency(request: HttpRequest, old: int, new: int) -> ConsistencyProofOut:
    """Consistency proof between tree sizes ``old`` and ``new``."""
    try:
        proof = selectors.consistency_proof(old, new)
    except selectors.LedgerReadError as exc:
        raise HttpError(400, str(exc)) from exc
    return ConsistencyProofOut(old_size=old, new_size=new, proof=[_b64(p) for p in proof])


@router.get(
    "/entries/{seq}",
    response=answers({200: EntryOut}, 404, 422),
    auth=allow(Permission.VIEW_LEDGER),
)
def entry(request: HttpRequest, seq: int) -> EntryOut:
    """One entry's canonical body (salted commitments only; no personal data in clear)."""
    try:
        body = selectors.entry_bytes(seq)
    except selectors.LedgerReadError as exc:
        raise HttpError(404, str(exc)) from exc
    return EntryOut(seq=seq, body=body.decode("utf-8"), leaf_hash=merkle.leaf_hash(body).hex())


_TEXT = {
    "200": {"description": "The signed note", "content": {"text/plain": {}}},
    "503": {
        "description": "No checkpoint can be signed: the signing key is missing",
        "content": {"text/plain": {}},
    },
}
_BYTES = {
    "200": {"description": "The tile's bytes", "content": {"application/octet-stream": {}}},
}


@router.get(
    "/checkpoint",
    response=answers({}),
    auth=allow(Permission.VIEW_LEDGER),
    openapi_extra={"responses": _TEXT},
)
def checkpoint(request: HttpRequest) -> HttpResponse:
    """The latest signed checkpoint with its witnesses' cosignatures (C2SP tlog-tiles
    layout: with ``tile/...`` below, a tlog client can use ``/api/ledger/`` as its prefix)."""
    return serving.checkpoint_response()


@router.get(
    "/tile/{path:tile_path}",
    response=answers({}, 404),
    auth=allow(Permission.VIEW_LEDGER),
    openapi_extra={"responses": _BYTES},
)
def tile(request: HttpRequest, tile_path: str) -> HttpResponse:
    """One hash tile or entry bundle of the latest signed checkpoint."""
    try:
        return serving.tile_response(tile_path)
    except Http404 as exc:
        raise HttpError(404, str(exc)) from exc
