"""Appending to the ledger: the one place where entries are written.

Actions call :func:`append` inside their own transaction; if the append fails the whole
transaction rolls back, so there is never a change without its entry (the ledger fails
closed).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from searchledger.apps.ledger.models import (
    CommitmentSalt,
    LedgerEntry,
    LedgerNode,
    RowState,
    TreeHead,
)
from searchledger.apps.ledger.tracking import take_row_values
from searchledger.core.actor import Actor
from searchledger.ledger import merkle
from searchledger.ledger.canonical import SALT_BYTES, commit
from searchledger.ledger.events import EntryDraft, LedgerEventType, build_entry
from searchledger.ledger.rowstate import STATE_SALT_FIELD, row_commitment, state_digest

__all__ = ["AppendedEntry", "LedgerWriteError", "append", "lock_head"]


class LedgerWriteError(RuntimeError):
    """The ledger refused an append; the surrounding transaction must roll back."""


@dataclass(frozen=True)
class AppendedEntry:
    """What an append produced: the entry's index and leaf hash, and the new tree size."""

    seq: int
    leaf_hash: bytes
    tree_size: int


def lock_head() -> TreeHead:
    """Lock and return the tree head, creating it for an empty ledger.

    A missing head with entries present means someone deleted it: refuse rather than restart
    the tree from zero.
    """
    head = TreeHead.objects.select_for_update().filter(pk=1).first()
    if head is not None:
        return head
    if LedgerEntry.objects.exists():
        raise LedgerWriteError("the tree head row is missing but entries exist; run verify")
    # Two first-ever appends may race here: insert-if-absent, then lock whichever row won.
    TreeHead.objects.bulk_create(
        [
            TreeHead(
                id=1, size=0, root=merkle.EMPTY_ROOT.hex(), frontier="", updated_at=timezone.now()
            )
        ],
        ignore_conflicts=True,
    )
    return TreeHead.objects.select_for_update().get(pk=1)


def append(
    event: LedgerEventType,
    *,
    object_type: str,
    object_id: object,
    actor: Actor,
    data: Mapping[str, Any] | None = None,
    personal: Mapping[str, str] | None = None,
) -> AppendedEntry:
    """Append one entry recording ``event`` on ``object_type``/``object_id`` by ``actor``.

    ``data`` holds non-personal facts, stored in clear. ``personal`` holds names, free text
    and anything else personal: each value enters the entry only as a salted commitment, and
    its salt is stored apart (``CommitmentSalt``) so the agency can later prove what it was.
    Must run inside the transaction of the change being recorded. The entry also commits
    to the current state of every row of a ledger-feeding table the transaction wrote since
    its previous append (``tracking``, ``ledger.rowstate``).
    """
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise LedgerWriteError(
            "ledger entries must be appended inside the transaction of the change they record"
        )
    head = lock_head()
    seq = head.size
    commitments: dict[str, str] = {}
    salts: list[CommitmentSalt] = []
    for field_name, value in sorted((personal or {}).items()):
        commitment, salt = commit(value)
        commitments[field_name] = commitment
        salts.append(CommitmentSalt(seq=seq, field=field_name, salt=salt.hex()))
    # Re-read under the head lock: the values this transaction commits with.
    row_values = take_row_values(connection)
    row_states: dict[str, str | None] = {}
    state: dict[str, Any] | None = None
    if row_values:
        state_salt = secrets.token_bytes(SALT_BYTES)
        row_states = {
            key: None if value is None else row_commitment(key, value, state_salt)
            for key, value in row_values.items()
        }
        state = {"rows": len(row_states), "digest": state_digest(row_states)}
        salts.append(CommitmentSalt(seq=seq, field=STATE_SALT_FIELD, salt=state_salt.hex()))
    draft = EntryDraft(
        event=event,
        object_type=object_type,
        object_id=str(object_id),
        actor_id=actor.account_id,
        request_id=actor.request_id,
        data=dict(data or {}),
        commitments=commitments,
        state=state,
    )
    now = timezone.now()
    body = build_entry(draft, seq=seq, time=now)
    lh = merkle.leaf_hash(body)
    frontier, completed = merkle.append_leaf(head.frontier_hashes, seq, lh)
    LedgerEntry.objects.create(
        seq=seq,
        body=body.decode("utf-8"),
        leaf_hash=lh.hex(),
        event_type=int(event),
        object_type=object_type,
        object_id=str(object_id),
        actor_id=actor.account_id,
        request_id=actor.request_id,
        recorded_at=now,
    )
    LedgerNode.objects.bulk_create(
        [
            LedgerNode(level=level, index=index, hash=h.hex(), completed_by=seq)
            for level, index, h in completed
        ]
    )
    if salts:
        CommitmentSalt.objects.bulk_create(salts)
    if row_states:
        RowState.objects.bulk_create(
            [
                RowState(seq=seq, row=key, commitment=commitment or "")
                for key, commitment in sorted(row_states.items())
            ],
            batch_size=1000,
        )
    head.size = seq + 1
    head.frontier = ",".join(h.hex() for h in frontier)
    head.root = merkle.frontier_root(frontier, seq + 1).hex()
    head.updated_at = now
    head.save(update_fields=["size", "frontier", "root", "updated_at"])
    return AppendedEntry(seq=seq, leaf_hash=lh, tree_size=seq + 1)
