"""Signing checkpoints (C2SP tlog-checkpoint) over the current tree.

A checkpoint is a signature over the ledger, not a change to the records it holds, so
signing one appends no entry (an entry about a checkpoint would itself need a checkpoint).
Every checkpoint is kept: ``verify`` checks each one against the entries.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from searchledger.apps.ledger.checkpoint_log import log_checkpoint_on_commit
from searchledger.apps.ledger.keys import load_signer
from searchledger.apps.ledger.models import Checkpoint, Cosignature, TreeHead
from searchledger.ledger import merkle
from searchledger.ledger.checkpoint import Checkpoint as CheckpointBody
from searchledger.ledger.checkpoint import sign_checkpoint
from searchledger.ledger.note import COSIGNATURE_TYPE, NoteError, Signer, Verifier
from searchledger.ledger.witness import open_cosignature

__all__ = ["CosignatureError", "cosigned_note", "sign_checkpoint_if_grown", "store_cosignature"]


class CosignatureError(ValueError):
    """A cosignature cannot be stored; the message says why."""


def sign_checkpoint_if_grown(signer: Signer | None = None) -> Checkpoint:
    """Return the latest checkpoint, first signing a new one if the tree has grown.

    Runs in its own transaction holding the head lock, so the signed size and root are a
    state the ledger really had. Once committed, the new checkpoint is also appended to the
    checkpoint log outside the database (``checkpoint_log``).
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
        # A copy outside the database, so a restore of an older database is detected.
        log_checkpoint_on_commit(checkpoint)
        return checkpoint


def cosigned_note(checkpoint: Checkpoint) -> str:
    """The checkpoint's note with every stored witness cosignature appended."""
    lines = [c.signature_line for c in checkpoint.cosignatures.order_by("witness_name", "key_id")]
    return checkpoint.note + "".join(lines)


def store_cosignature(size: int, signature_lines: str, witness: Verifier) -> Cosignature:
    """Verify a witness's cosignature of the checkpoint of ``size`` and store it.

    ``signature_lines`` is what the witness answered (its signature line). Raises
    :class:`CosignatureError` if there is no such checkpoint, the key is not a cosignature
    key, or the line is not a valid cosignature of that checkpoint by ``witness``.
    """
    if witness.key_type != COSIGNATURE_TYPE:
        raise CosignatureError(f"{witness.name} is not a witness cosignature key (type 0x04)")
    checkpoint = Checkpoint.objects.filter(size=size).first()
    if checkpoint is None:
        raise CosignatureError(f"the ledger has no checkpoint of size {size}")
    try:
        signature, moment = open_cosignature(checkpoint.note, signature_lines, witness)
    except NoteError as exc:
        raise CosignatureError(f"not a valid cosignature of checkpoint {size}: {exc}") from exc
    try:
        with transaction.atomic():
            cosignature = Cosignature(
                checkpoint=checkpoint,
                witness_name=signature.name,
                key_id=signature.key_id.hex(),
                cosigned_at=moment,
                signature_line=signature.line(),
                received_at=timezone.now(),
            )
            cosignature.save(force_insert=True)
    except IntegrityError as exc:
        raise CosignatureError(f"{signature.name} has already cosigned checkpoint {size}") from exc
    return cosignature
