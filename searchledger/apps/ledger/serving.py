"""The checkpoint and the tiles as HTTP responses, shared by the ledger's pages (session)
and its API (a personal token with the ledger scope), so an auditor's tlog client can fetch
them either way with the C2SP tlog-tiles layout under ``/ledger/`` or ``/api/ledger/``."""

from __future__ import annotations

from django.http import Http404, HttpResponse

from searchledger.apps.ledger import selectors
from searchledger.apps.ledger.checkpoints import cosigned_note, sign_checkpoint_if_grown
from searchledger.apps.ledger.keys import SigningKeyError
from searchledger.ledger.tiles import TileError

__all__ = ["checkpoint_response", "tile_response"]


def checkpoint_response() -> HttpResponse:
    """The latest signed checkpoint (signing a new one first if the tree has grown), with
    the cosignatures witnesses have returned for it."""
    try:
        checkpoint = sign_checkpoint_if_grown()
    except SigningKeyError as exc:
        # The log cannot vouch for itself without its key: say so rather than fail obscurely.
        return HttpResponse(
            f"no checkpoint can be signed: {exc}\n",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(cosigned_note(checkpoint), content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


def tile_response(tile_path: str) -> HttpResponse:
    """One hash tile or entry bundle (``tile_path`` after ``tile/``) of the latest signed
    checkpoint; 404 for anything else. Full tiles are immutable and may be cached forever."""
    size, _ = selectors.get_tree_head()
    latest = selectors.latest_checkpoint()
    # Serve only what a published checkpoint covers, so clients never see unsigned state.
    signed_size = latest.size if latest else 0
    try:
        data = selectors.read_tile("tile/" + tile_path, min(size, signed_size))
    except (TileError, selectors.LedgerReadError) as exc:
        raise Http404(str(exc)) from exc
    response = HttpResponse(data, content_type="application/octet-stream")
    if ".p/" in tile_path:
        response["Cache-Control"] = "no-store"
    else:
        response["Cache-Control"] = "private, max-age=31536000, immutable"
    return response
