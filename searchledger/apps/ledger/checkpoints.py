"""Signing checkpoints (C2SP tlog-checkpoint) over the current tree.

A checkpoint is a signature over the ledger, not a change to the records it holds, so
signing one appends no entry (an entry about a checkpoint would itself need a checkpoint).
Every checkpoint is kept: ``verify`` checks each one against the entries.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from searchledger.apps.ledger.keys import load_signer
from searchledger.apps.ledger.models import Checkpoint, TreeHead
from searchledger.ledger import merkle
from searchledger.ledger.checkpoint import Checkpoint as CheckpointBody
from searchledger.ledger.checkpoint import sign_checkpoint
from searchledger.ledger.note import Signer

__all__ = ["sign_checkpoint_if_grown"]


def sign_checkpoint_if_grown(signer: Signer | None = None) -> Checkpoint:
    """Return the latest checkpoint, first signing a new one if the tree has grown.

    Runs in its own transaction holding the head lock, so the signed size and root are a
    state the ledger really had.
    """
    key = signer or load_signer()
    with transaction.atomic():
        head = TreeHead.objects.select_for_update().filter(pk=1).first()
        size = head.size if head else 0
        root = bytes.fromhex(head.root) if head else merkle.EMPTY_ROOT
        latest = Checkpoint.objects.order_by("-size").first()
        if latest is not None and latest.size == size:
            return latest
        body = CheckpointBody(origin=key.name, size=size, root_hash=root)
        checkpoint = Checkpoint(
            size=size, root=root.hex(), note=sign_checkpoint(body, key), signed_at=timezone.now()
        )
        checkpoint.save(force_insert=True)
        return checkpoint
