"""Direct database edits of the ledger are detected by ``searchledger verify``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from searchledger.apps.accounts.actions import do_create_account
from searchledger.apps.ledger.checkpoints import sign_checkpoint_if_grown
from searchledger.apps.ledger.keys import load_verifier
from searchledger.apps.ledger.models import Checkpoint, LedgerEntry
from searchledger.apps.ledger.verify import VerificationFailure, verify_ledger
from searchledger.cli import main
from searchledger.core.roles import Role
from searchledger.ledger import merkle
from searchledger.ledger.canonical import canonical_bytes
from searchledger.ledger.checkpoint import Checkpoint as CheckpointBody
from searchledger.ledger.checkpoint import sign_checkpoint
from searchledger.ledger.note import Signer

pytestmark = pytest.mark.django_db

TABLES = ["ledger_ledgerentry", "ledger_ledgernode", "ledger_checkpoint", "ledger_commitmentsalt"]


@pytest.fixture
def ledger(admin_actor):
    """A ledger of 12 entries with checkpoints at sizes 5 and 12."""
    for i in range(4):
        do_create_account(
            username=f"a{i}", role=Role.OFFICER, password=None, actor=admin_actor, reason=""
        )
    sign_checkpoint_if_grown()
    for i in range(4, 11):
        do_create_account(
            username=f"a{i}", role=Role.OFFICER, password=None, actor=admin_actor, reason=""
        )
    sign_checkpoint_if_grown()
    assert LedgerEntry.objects.count() == 12
    return verify_ledger(load_verifier())


def raw(sql: str, params: list[Any] | None = None) -> None:
    """Run SQL as someone with direct database access would, bypassing the triggers."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in TABLES:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
        cursor.execute(sql, params or [])


def body(seq: int) -> dict:
    return json.loads(LedgerEntry.objects.get(seq=seq).body)


def failure() -> VerificationFailure:
    with pytest.raises(VerificationFailure) as info:
        verify_ledger(load_verifier())
    return info.value


def test_intact_ledger_verifies(ledger):
    assert ledger.entries == 12
    assert ledger.checkpoints == 2
    assert ledger.latest_checkpoint_size == 12


def test_edited_body_is_named(ledger):
    changed = body(3)
    changed["data"]["role"] = "administrator"
    raw(
        "UPDATE ledger_ledgerentry SET body = %s WHERE seq = 3", [canonical_bytes(changed).decode()]
    )
    found = failure()
    assert found.index == 3
    assert "leaf hash" in found.message


def test_edited_body_and_leaf_hash_is_named(ledger):
    changed = body(3)
    changed["data"]["role"] = "administrator"
    data = canonical_bytes(changed)
    raw(
        "UPDATE ledger_ledgerentry SET body = %s, leaf_hash = %s WHERE seq = 3",
        [data.decode(), merkle.leaf_hash(data).hex()],
    )
    found = failure()
    assert found.index == 3
    assert "Merkle node" in found.message


def test_full_recomputation_is_caught_by_the_signed_checkpoint(ledger):
    """An attacker who rewrites an entry and every derived column and node still cannot
    forge the signed checkpoint."""
    changed = body(3)
    changed["data"]["role"] = "administrator"
    data = canonical_bytes(changed)
    raw(
        "UPDATE ledger_ledgerentry SET body = %s, leaf_hash = %s WHERE seq = 3",
        [data.decode(), merkle.leaf_hash(data).hex()],
    )
    frontier: list[bytes] = []
    raw("DELETE FROM ledger_ledgernode")
    for entry in LedgerEntry.objects.order_by("seq"):
        frontier, completed = merkle.append_leaf(
            frontier, entry.seq, merkle.leaf_hash(entry.body.encode())
        )
        for level, index, node in completed:
            raw(
                'INSERT INTO ledger_ledgernode (level, "index", hash, completed_by) '
                "VALUES (%s, %s, %s, %s)",
                [level, index, node.hex(), entry.seq],
            )
    raw(
        "UPDATE ledger_treehead SET root = %s, frontier = %s WHERE id = 1",
        [merkle.frontier_root(frontier, 12).hex(), ",".join(h.hex() for h in frontier)],
    )
    found = failure()
    assert found.index == 4
    assert "checkpoint signed at size 5" in found.message


def test_deleted_entry_is_named(ledger):
    raw("DELETE FROM ledger_ledgerentry WHERE seq = 6")
    found = failure()
    assert found.index == 6
    assert "missing" in found.message


def test_deleted_last_entry_is_detected(ledger):
    raw("DELETE FROM ledger_ledgerentry WHERE seq = 11")
    found = failure()
    assert found.index == 11


def test_reordered_entries_are_named(ledger):
    two, three = LedgerEntry.objects.get(seq=2).body, LedgerEntry.objects.get(seq=3).body
    raw("UPDATE ledger_ledgerentry SET body = %s WHERE seq = 2", [three])
    raw("UPDATE ledger_ledgerentry SET body = %s WHERE seq = 3", [two])
    found = failure()
    assert found.index == 2
    assert "moved or reordered" in found.message


def test_inserted_entry_in_the_middle_is_named(ledger):
    """Shift entries 5.. up by one and insert a well-formed forged entry at 5."""
    for seq in range(11, 4, -1):
        raw("UPDATE ledger_ledgerentry SET seq = seq + 1 WHERE seq = %s", [seq])
    forged = body(4)
    forged["seq"] = 5
    data = canonical_bytes(forged).decode()
    raw(
        "INSERT INTO ledger_ledgerentry (seq, body, leaf_hash, event_type, object_type, "
        "object_id, actor_id, request_id, recorded_at) SELECT 5, %s, %s, event_type, "
        "object_type, object_id, actor_id, request_id, recorded_at FROM ledger_ledgerentry "
        "WHERE seq = 4",
        [data, merkle.leaf_hash(data.encode()).hex()],
    )
    found = failure()
    assert found.index == 5


def test_appended_row_outside_the_write_path_is_detected(ledger):
    forged = body(11)
    forged["seq"] = 12
    data = canonical_bytes(forged).decode()
    raw(
        "INSERT INTO ledger_ledgerentry (seq, body, leaf_hash, event_type, object_type, "
        "object_id, actor_id, request_id, recorded_at) SELECT 12, %s, %s, event_type, "
        "object_type, object_id, actor_id, request_id, recorded_at FROM ledger_ledgerentry "
        "WHERE seq = 11",
        [data, merkle.leaf_hash(data.encode()).hex()],
    )
    found = failure()
    assert found.index == 12


def test_non_canonical_body_is_named(ledger):
    pretty = json.dumps(body(7), indent=2)
    raw("UPDATE ledger_ledgerentry SET body = %s WHERE seq = 7", [pretty])
    found = failure()
    assert found.index == 7
    assert "canonical" in found.message


def test_edited_query_column_is_named(ledger):
    raw("UPDATE ledger_ledgerentry SET actor_id = 77 WHERE seq = 8")
    found = failure()
    assert found.index == 8
    assert "actor_id" in found.message


def test_checkpoint_signed_by_another_key_is_rejected(ledger):
    head = Checkpoint.objects.get(size=12)
    impostor = Signer.generate("test.searchledger.localhost/ledger")
    forged = sign_checkpoint(
        CheckpointBody(
            origin="test.searchledger.localhost/ledger",
            size=12,
            root_hash=bytes.fromhex(head.root),
        ),
        impostor,
    )
    raw("UPDATE ledger_checkpoint SET note = %s WHERE size = 12", [forged])
    found = failure()
    assert "not validly signed" in found.message


def test_verify_command_exit_codes(ledger, capsys):
    assert main(["verify"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ok: 12 entries")
    raw("DELETE FROM ledger_ledgerentry WHERE seq = 6")
    assert main(["verify"]) == 1
    err = capsys.readouterr().err
    assert "entry 6" in err


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_postgresql_trigger_refuses_update_and_delete(ledger):
    for sql in (
        "UPDATE ledger_ledgerentry SET actor_id = 5 WHERE seq = 1",
        "DELETE FROM ledger_ledgerentry WHERE seq = 1",
        "UPDATE ledger_checkpoint SET root = 'x'",
        "DELETE FROM ledger_ledgernode",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
    assert verify_ledger(load_verifier()).entries == 12
