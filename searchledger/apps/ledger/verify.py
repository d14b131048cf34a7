"""Full verification of the stored ledger: ``searchledger verify``.

Recomputes every leaf from the stored entry bodies, every Merkle node, the tree head and
the root at every signed checkpoint, and checks each checkpoint's signature. Stops at the
first problem and names the entry index and what is wrong.
"""

from __future__ import annotations

import hmac
from collections.abc import Generator, Iterator
from contextlib import closing
from dataclasses import dataclass

from searchledger.apps.ledger.models import (
    Checkpoint,
    CommitmentSalt,
    LedgerEntry,
    LedgerNode,
    RowState,
    TreeHead,
)
from searchledger.apps.ledger.tracking import TableReader, link_columns, readers
from searchledger.ledger import merkle
from searchledger.ledger.checkpoint import CheckpointError, open_checkpoint
from searchledger.ledger.events import EntrySchemaError, format_time, parse_entry
from searchledger.ledger.note import NoteError, Verifier
from searchledger.ledger.rowstate import STATE_SALT_FIELD, row_commitment, state_digest

__all__ = ["VerificationFailure", "VerificationReport", "verify_ledger"]

_CHUNK = 2000


class VerificationFailure(Exception):
    """The ledger is not intact. ``index`` is the first bad entry, when one can be named."""

    def __init__(self, index: int | None, message: str) -> None:
        self.index = index
        self.message = message
        where = f"entry {index}: " if index is not None else ""
        super().__init__(f"{where}{message}")


@dataclass(frozen=True)
class VerificationReport:
    """What a successful verification covered."""

    entries: int
    root: bytes
    checkpoints: int
    latest_checkpoint_size: int | None
    rows: int = 0

    def summary(self) -> str:
        """One line for the command line."""
        latest = (
            f"latest at size {self.latest_checkpoint_size}"
            if self.latest_checkpoint_size is not None
            else "none signed yet"
        )
        return (
            f"ok: {self.entries} entries, root {self.root.hex()}, "
            f"{self.checkpoints} checkpoints verified ({latest}), "
            f"{self.rows} rows of ledger-feeding tables match their entries"
        )


def _open_checkpoints(verifier: Verifier) -> dict[int, bytes]:
    roots: dict[int, bytes] = {}
    for row in Checkpoint.objects.order_by("size").iterator(chunk_size=_CHUNK):
        try:
            body, _note = open_checkpoint(row.note, verifier, origin=verifier.name)
        except (CheckpointError, NoteError) as exc:
            raise VerificationFailure(
                None,
                f"checkpoint at size {row.size} is not validly signed by the ledger key: {exc}",
            ) from exc
        if body.size != row.size or body.root_hash.hex() != row.root:
            raise VerificationFailure(
                None, f"checkpoint at size {row.size}: stored size/root differ from the signed note"
            )
        roots[body.size] = body.root_hash
    return roots


def _check_columns(row: LedgerEntry, entry: dict[str, object]) -> None:
    expected = {
        "event_type": entry["type"],
        "object_type": entry["object"]["type"],  # type: ignore[index]  # validated by schema
        "object_id": entry["object"]["id"],  # type: ignore[index]  # validated by schema
        "actor_id": entry["actor"],
        "request_id": entry["request_id"],
        "recorded_at": entry["time"],
    }
    actual = {
        "event_type": row.event_type,
        "object_type": row.object_type,
        "object_id": row.object_id,
        "actor_id": row.actor_id,
        "request_id": row.request_id,
        "recorded_at": format_time(row.recorded_at),
    }
    for column, value in expected.items():
        if actual[column] != value:
            raise VerificationFailure(
                row.seq, f"column {column} is {actual[column]!r} but the entry says {value!r}"
            )


def verify_ledger(verifier: Verifier) -> VerificationReport:
    """Verify everything the database holds for the ledger; raise VerificationFailure."""
    checkpoint_roots = _open_checkpoints(verifier)
    if checkpoint_roots.get(0, merkle.EMPTY_ROOT) != merkle.EMPTY_ROOT:
        raise VerificationFailure(None, "the checkpoint at size 0 does not sign the empty root")
    # Server-side cursors on PostgreSQL: close them explicitly when verification stops early,
    # rather than leaving it to the garbage collector in the middle of a later query.
    entries: Generator[LedgerEntry] = LedgerEntry.objects.order_by("seq").iterator(
        chunk_size=_CHUNK
    )  # type: ignore[assignment]  # QuerySet.iterator() returns a generator at run time
    nodes: Generator[LedgerNode] = LedgerNode.objects.order_by("completed_by", "level").iterator(
        chunk_size=_CHUNK
    )  # type: ignore[assignment]  # as above
    states: Generator[RowState] = RowState.objects.order_by("seq", "row").iterator(
        chunk_size=_CHUNK
    )  # type: ignore[assignment]  # as above
    latest: dict[str, tuple[int, str]] = {}
    with closing(entries), closing(nodes), closing(states):
        size, frontier = _replay(entries, nodes, checkpoint_roots, _StateReplay(states, latest))
    beyond = [s for s in checkpoint_roots if s > size]
    if beyond:
        raise VerificationFailure(
            size, f"a checkpoint was signed at size {min(beyond)} but only {size} entries exist"
        )
    root = merkle.frontier_root(frontier, size)
    head = TreeHead.objects.filter(pk=1).first()
    head_size = head.size if head else 0
    if head_size != size:
        raise VerificationFailure(
            min(head_size, size), f"tree head says {head_size} entries but {size} are stored"
        )
    if head is not None and (
        head.root != root.hex() or head.frontier != ",".join(h.hex() for h in frontier)
    ):
        raise VerificationFailure(None, "tree head root or frontier does not match the entries")
    rows = _check_rows(latest)
    latest_size = max(checkpoint_roots) if checkpoint_roots else None
    return VerificationReport(
        entries=size,
        root=root,
        checkpoints=len(checkpoint_roots),
        latest_checkpoint_size=latest_size,
        rows=rows,
    )


def _replay(
    entries: Iterator[LedgerEntry],
    stored_nodes: Iterator[LedgerNode],
    checkpoint_roots: dict[int, bytes],
    states: _StateReplay,
) -> tuple[int, list[bytes]]:
    """Rebuild the tree from the entry bodies, comparing every stored derived value."""
    frontier: list[bytes] = []
    size = 0
    for row in entries:
        if row.seq != size:
            raise VerificationFailure(
                size, f"entry is missing (the next stored entry is {row.seq})"
            )
        body = row.body.encode("utf-8")
        try:
            entry = parse_entry(body)
        except EntrySchemaError as exc:
            raise VerificationFailure(size, f"body is not a valid entry: {exc}") from exc
        if entry["seq"] != size:
            raise VerificationFailure(
                size, f"body belongs at index {entry['seq']}: entries were moved or reordered"
            )
        _check_columns(row, entry)
        states.check(size, entry.get("state"))
        leaf = merkle.leaf_hash(body)
        if leaf.hex() != row.leaf_hash:
            raise VerificationFailure(size, "stored leaf hash does not match the entry body")
        frontier, completed = merkle.append_leaf(frontier, size, leaf)
        for level, index, node_hash in completed:
            stored = next(stored_nodes, None)
            if (
                stored is None
                or (stored.level, stored.index, stored.completed_by) != (level, index, size)
                or stored.hash != node_hash.hex()
            ):
                raise VerificationFailure(
                    size, f"stored Merkle node (level {level}, index {index}) is missing or wrong"
                )
        size += 1
        signed_root = checkpoint_roots.get(size)
        if signed_root is not None and merkle.frontier_root(frontier, size) != signed_root:
            raise VerificationFailure(
                size - 1,
                f"the entries up to here do not match the checkpoint signed at size {size}: "
                "an entry at or before this index was altered",
            )
    extra = next(stored_nodes, None)
    if extra is not None:
        raise VerificationFailure(
            extra.completed_by, f"unexpected stored Merkle node (level {extra.level})"
        )
    states.finish()
    return size, frontier


class _StateReplay:
    """Walks the stored row commitments beside the entries: each entry's ``state`` digest
    must be the digest of exactly its stored rows. Keeps each row's latest commitment."""

    def __init__(self, stored: Iterator[RowState], latest: dict[str, tuple[int, str]]) -> None:
        self.stored = stored
        self.latest = latest
        self.next: RowState | None = next(stored, None)

    def check(self, seq: int, state: object) -> None:
        """Consume the stored rows of entry ``seq`` and compare them with its ``state``."""
        if self.next is not None and self.next.seq < seq:
            raise VerificationFailure(
                self.next.seq,
                f"ledger_rowstate: the commitment for {self.next.row} belongs to no entry",
            )
        rows: dict[str, str | None] = {}
        while self.next is not None and self.next.seq == seq:
            rows[self.next.row] = self.next.commitment or None
            self.next = next(self.stored, None)
        if state is None:
            if rows:
                raise VerificationFailure(
                    seq,
                    f"ledger_rowstate holds {len(rows)} row commitments for an entry that has none",
                )
            return
        assert isinstance(state, dict)  # validated by the entry schema
        if len(rows) != state["rows"] or state_digest(rows) != state["digest"]:
            raise VerificationFailure(
                seq,
                f"the stored row commitments ({len(rows)}) do not match the entry's state "
                f"digest over {state['rows']} rows: ledger_rowstate was altered",
            )
        for key, commitment in rows.items():
            self.latest[key] = (seq, commitment or "")

    def finish(self) -> None:
        """Nothing may be stored beyond the last entry."""
        if self.next is not None:
            raise VerificationFailure(
                self.next.seq,
                f"ledger_rowstate: the commitment for {self.next.row} belongs to no entry",
            )


def _check_rows(latest: dict[str, tuple[int, str]]) -> int:
    """Every row of every ledger-feeding table must open its latest commitment; every row
    committed as present must exist. Names the table, the row and the entry, never the
    value. Returns how many rows (or groups) were checked."""
    salts = {
        row.seq: bytes.fromhex(row.salt)
        for row in CommitmentSalt.objects.filter(field=STATE_SALT_FIELD).iterator(chunk_size=_CHUNK)
    }
    checked = 0
    for reader in readers().values():
        prefix = f"{reader.label}/"
        expected = {key for key, (_, c) in latest.items() if c and key.startswith(prefix)}
        for ident, value in reader.values():
            key = reader.key(ident)
            recorded = latest.get(key)
            where = f"table {reader.table} row {key.removeprefix(prefix)}"
            if recorded is None:
                raise VerificationFailure(
                    None, f"{where} was written without a ledger entry (no recorded state)"
                )
            seq, commitment = recorded
            if not commitment:
                raise VerificationFailure(
                    seq, f"{where} exists but the entry at {seq} recorded it as deleted"
                )
            salt = salts.get(seq)
            if salt is None:
                raise VerificationFailure(seq, f"the state salt of entry {seq} is missing")
            opened = row_commitment(key, value, salt)
            if not hmac.compare_digest(opened, commitment):
                raise VerificationFailure(
                    seq,
                    f"{where} does not match its state recorded by entry {seq}: "
                    "it was changed outside the actions",
                )
            expected.discard(key)
            checked += 1
        _check_orphan_links(reader)
        if expected:
            key = min(expected)
            seq = latest[key][0]
            raise VerificationFailure(
                seq,
                f"table {reader.table} row {key.removeprefix(prefix)} recorded by entry {seq} "
                "is missing",
            )
    return checked


def _check_orphan_links(reader: TableReader) -> None:
    """A link row whose owner does not exist is committed nowhere: refuse it."""
    for link in reader.links:
        through, owner, _target = link_columns(link)
        orphan = (
            through._base_manager.exclude(
                **{f"{owner}__in": reader.model._base_manager.values("pk")}
            )
            .values_list("pk", flat=True)
            .first()
        )
        if orphan is not None:
            raise VerificationFailure(
                None,
                f"table {through._meta.db_table} row {orphan} links a row of "
                f"{reader.table} that does not exist",
            )
