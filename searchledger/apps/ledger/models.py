"""Persistence for the ledger. Written only by ``ledger.writer`` and ``ledger.checkpoints``.

Only :class:`LedgerEntry` bodies are authoritative: every other column and table here is
derived from them and is re-derived and compared by ``searchledger verify``.
"""

from __future__ import annotations

from django.db import models
from typing_extensions import override

from searchledger.ledger.events import LedgerEventType

__all__ = [
    "Checkpoint",
    "CommitmentSalt",
    "Cosignature",
    "LedgerEntry",
    "LedgerNode",
    "TreeHead",
]


class LedgerEntry(models.Model):
    """One entry of the log: the RFC 8785 canonical JSON ``body`` is the Merkle leaf.

    ``seq`` is the leaf index, gap-free from 0. The other columns copy facts out of the body
    so they can be queried; ``verify`` checks that they agree with it.
    """

    seq = models.BigIntegerField(primary_key=True)
    body = models.TextField()
    leaf_hash = models.CharField(max_length=64)
    event_type = models.PositiveIntegerField(db_index=True)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    actor_id = models.BigIntegerField(db_index=True)
    request_id = models.CharField(max_length=64)
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="ledger_entry_object")]

    @override
    def __str__(self) -> str:
        return f"entry {self.seq}"

    @property
    def event_name(self) -> str:
        """The event type's name, or its number if this version does not know it."""
        try:
            return LedgerEventType(self.event_type).name
        except ValueError:
            return str(self.event_type)


class LedgerNode(models.Model):
    """The hash of a perfect Merkle subtree: ``level`` 0 are leaf hashes, level k covers
    leaves ``[index * 2**k, (index + 1) * 2**k)``. Kept so that proofs and tiles cost
    O(log n) reads instead of a rebuild. ``completed_by`` is the entry that completed it."""

    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hash = models.CharField(max_length=64)
    completed_by = models.BigIntegerField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["level", "index"], name="ledger_node_level_index")
        ]

    @override
    def __str__(self) -> str:
        return f"node {self.level}/{self.index}"


class TreeHead(models.Model):
    """The single row holding the current tree size, root and compact-range frontier.

    Appenders lock this row (PostgreSQL ``SELECT ... FOR UPDATE``; SQLite's IMMEDIATE
    transactions lock the whole database), which serialises writers so the log never forks
    or leaves a gap.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    size = models.BigIntegerField(default=0)
    root = models.CharField(max_length=64)
    frontier = models.TextField(blank=True, default="")
    updated_at = models.DateTimeField()

    @override
    def __str__(self) -> str:
        return f"tree head size {self.size}"

    @property
    def frontier_hashes(self) -> list[bytes]:
        """The frontier as raw hashes, leftmost (largest subtree) first."""
        return [bytes.fromhex(h) for h in self.frontier.split(",") if h]


class Checkpoint(models.Model):
    """A signed note (C2SP tlog-checkpoint) committing to the tree at ``size``."""

    size = models.BigIntegerField(unique=True)
    root = models.CharField(max_length=64)
    note = models.TextField()
    signed_at = models.DateTimeField()

    class Meta:
        ordering = ["size"]

    @override
    def __str__(self) -> str:
        return f"checkpoint {self.size}"


class Cosignature(models.Model):
    """A witness's cosignature (C2SP tlog-cosignature) of one checkpoint: the signature
    line to append to the checkpoint's note. Verified against the witness's key before it is
    stored; like the checkpoint itself it is a statement about the ledger, not a change to
    the records in it, so storing one appends no entry."""

    checkpoint = models.ForeignKey(
        Checkpoint, on_delete=models.PROTECT, related_name="cosignatures"
    )
    witness_name = models.CharField(max_length=200)
    key_id = models.CharField(max_length=8)
    cosigned_at = models.DateTimeField(help_text="The time the witness states it cosigned.")
    signature_line = models.TextField()
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["checkpoint", "witness_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["checkpoint", "witness_name", "key_id"], name="cosigned_once_per_witness"
            )
        ]

    @override
    def __str__(self) -> str:
        return f"cosignature of checkpoint {self.checkpoint.size} by {self.witness_name}"


class CommitmentSalt(models.Model):
    """The salt that opens one commitment in one entry. Kept apart from the entries so the
    log can be handed out without the means to test guesses of the committed values."""

    seq = models.BigIntegerField()
    field = models.CharField(max_length=64)
    salt = models.CharField(max_length=32)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["seq", "field"], name="commitment_salt_seq_field")
        ]

    @override
    def __str__(self) -> str:
        return f"salt {self.seq}.{self.field}"


class RowState(models.Model):
    """One row's (or one group of bulk rows') committed state, written by the entry ``seq``
    whose action left it so. The entry carries the digest of all its ``RowState`` rows
    (``ledger.rowstate.state_digest``), so these rows are as tamper-evident as the entry;
    ``verify`` checks that the latest commitment of every row of a ledger-feeding table opens
    with the row's current value. ``commitment`` is empty for a row the action deleted."""

    seq = models.BigIntegerField()
    row = models.CharField(max_length=200)
    commitment = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["seq", "row"], name="rowstate_seq_row")]
        indexes = [models.Index(fields=["row", "seq"], name="rowstate_row_seq")]

    @override
    def __str__(self) -> str:
        return f"state of {self.row} at {self.seq}"
