"""The ledger as served to auditors: a status page, the signed checkpoint and the tiles
(C2SP tlog-tiles), so that standard tlog clients can fetch and verify the log."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from searchledger.apps.ledger import selectors
from searchledger.apps.ledger.checkpoints import cosigned_note, sign_checkpoint_if_grown
from searchledger.apps.ledger.keys import SigningKeyError, load_signer
from searchledger.apps.web.permissions import requires
from searchledger.core.roles import Permission
from searchledger.ledger.tiles import TileError

__all__ = ["ledger_checkpoint", "ledger_index", "ledger_tile"]


@requires(Permission.VIEW_LEDGER)
def ledger_index(request: HttpRequest) -> HttpResponse:
    """Tree size, root, the latest checkpoint, the verifier key and the newest entries."""
    size, root = selectors.get_tree_head()
    checkpoint = selectors.latest_checkpoint()
    try:
        verifier_key: str | None = load_signer().verifier_key()
    except SigningKeyError:
        verifier_key = None
    return render(
        request,
        "ledger/index.html",
        {
            "size": size,
            "root": root.hex(),
            "checkpoint": checkpoint,
            "checkpoint_note": cosigned_note(checkpoint) if checkpoint else "",
            "cosignatures": list(checkpoint.cosignatures.all()) if checkpoint else [],
            "verifier_key": verifier_key,
            "entries": selectors.list_recent_entries(25),
        },
    )


@requires(Permission.VIEW_LEDGER)
def ledger_checkpoint(request: HttpRequest) -> HttpResponse:
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


@requires(Permission.VIEW_LEDGER)
def ledger_tile(request: HttpRequest, tile_path: str) -> HttpResponse:
    """One hash tile or entry bundle. Full tiles are immutable and may be cached forever."""
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
