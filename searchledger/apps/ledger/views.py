"""The ledger as served to auditors: a status page, the signed checkpoint and the tiles
(C2SP tlog-tiles), so that standard tlog clients can fetch and verify the log."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from searchledger.apps.ledger import selectors, serving
from searchledger.apps.ledger.checkpoints import cosigned_note
from searchledger.apps.ledger.keys import SigningKeyError, load_signer
from searchledger.apps.web.permissions import requires
from searchledger.core.roles import Permission

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
    """The latest signed checkpoint, with its witnesses' cosignatures."""
    return serving.checkpoint_response()


@requires(Permission.VIEW_LEDGER)
def ledger_tile(request: HttpRequest, tile_path: str) -> HttpResponse:
    """One hash tile or entry bundle of the latest signed checkpoint."""
    return serving.tile_response(tile_path)
