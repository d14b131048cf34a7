"""The write path: entries, nodes, head, commitments; fail closed."""

from __future__ import annotations

import json

import pytest
from django.db import transaction

from searchledger.apps.accounts.actions import do_create_account, do_deactivate_account
from searchledger.apps.accounts.models import Account
from searchledger.apps.ledger import selectors, writer
from searchledger.apps.ledger.models import CommitmentSalt, LedgerEntry, LedgerNode, TreeHead
from searchledger.core.roles import Role
from searchledger.ledger import merkle
from searchledger.ledger.canonical import verify_commitment
from searchledger.ledger.events import LedgerEventType

pytestmark = pytest.mark.django_db


def _events() -> list[str]:
    return [json.loads(e.body)["event"] for e in LedgerEntry.objects.order_by("seq")]


def test_action_appends_exactly_its_entry(admin, admin_actor):
    account = do_create_account(
        username="o.one", role=Role.OFFICER, password=None, actor=admin_actor, reason="new hire"
    )
    do_deactivate_account(account.pk, actor=admin_actor, reason="left the unit")
    assert _events() == ["ACCOUNT_CREATED", "ACCOUNT_CREATED", "ACCOUNT_DEACTIVATED"]
    last = json.loads(LedgerEntry.objects.get(seq=2).body)
    assert last["object"] == {"type": "accounts.account", "id": str(account.pk)}
    assert last["actor"] == admin.pk
    assert last["seq"] == 2


def test_personal_data_only_as_salted_commitments(admin_actor):
    do_create_account(
        username="jane.doe",
        role=Role.OFFICER,
        password=None,
        full_name="Jane Doe",
        email="jane@example.gov",
        actor=admin_actor,
        reason="assigned to the violent crimes task force",
    )
    entry = LedgerEntry.objects.order_by("-seq").first()
    assert entry is not None
    for secret in ("jane", "Jane", "Doe", "example.gov", "task force"):
        assert secret not in entry.body
    body = json.loads(entry.body)
    salt = CommitmentSalt.objects.get(seq=entry.seq, field="full_name")
    assert verify_commitment(body["commitments"]["full_name"], "Jane Doe", bytes.fromhex(salt.salt))
    assert not verify_commitment(
        body["commitments"]["full_name"], "John Doe", bytes.fromhex(salt.salt)
    )
    # Two commitments to the same value differ: salts are fresh per entry and field.
    do_create_account(
        username="jane.doe2",
        role=Role.OFFICER,
        password=None,
        full_name="Jane Doe",
        actor=admin_actor,
        reason="x",
    )
    again = json.loads(LedgerEntry.objects.order_by("-seq")[0].body)
    assert again["commitments"]["full_name"] != body["commitments"]["full_name"]


def test_head_nodes_and_root_match_a_rebuild(admin_actor):
    for i in range(20):
        do_create_account(
            username=f"u{i}", role=Role.OFFICER, password=None, actor=admin_actor, reason=""
        )
    entries = list(LedgerEntry.objects.order_by("seq"))
    leaves = [merkle.leaf_hash(e.body.encode()) for e in entries]
    head = TreeHead.objects.get(pk=1)
    assert head.size == len(entries) == 21
    assert head.root == merkle.root_from_leaf_hashes(leaves).hex()
    assert [e.seq for e in entries] == list(range(21))
    # Every perfect subtree is stored exactly once: 2n - popcount(n) nodes.
    assert LedgerNode.objects.count() == 2 * 21 - bin(21).count("1")
    size, proof = selectors.inclusion_proof(13)
    merkle.verify_inclusion(13, size, leaves[13], proof, bytes.fromhex(head.root))
    old_root = merkle.root_from_leaf_hashes(leaves[:7])
    merkle.verify_consistency(
        7, 21, selectors.consistency_proof(7, 21), old_root, bytes.fromhex(head.root)
    )


@pytest.mark.django_db(transaction=True)
def test_append_outside_a_transaction_is_refused(admin_actor):
    with pytest.raises(writer.LedgerWriteError, match="inside the transaction"):
        writer.append(
            LedgerEventType.ACCOUNT_CREATED,
            object_type="accounts.account",
            object_id=1,
            actor=admin_actor,
        )
    assert LedgerEntry.objects.count() == 1  # only the admin's creation


def test_ledger_fails_closed_no_entry_no_change(admin_actor):
    """If the entry cannot be written, the change it records is rolled back with it."""
    before_accounts = Account.objects.count()
    before_entries = LedgerEntry.objects.count()

    def change_then_append() -> None:
        with transaction.atomic():
            Account(username="should-vanish").save()
            writer.append(
                LedgerEventType.ACCOUNT_CREATED,
                object_type="accounts.account",
                object_id=999,
                actor=admin_actor,
                data={"padding": "x" * 70000},
            )

    with pytest.raises(ValueError, match="65535"):
        change_then_append()
    assert Account.objects.count() == before_accounts
    assert LedgerEntry.objects.count() == before_entries
    assert TreeHead.objects.get(pk=1).size == before_entries


def test_missing_head_with_entries_is_refused(admin_actor):
    TreeHead.objects.filter(pk=1).delete()
    with pytest.raises(writer.LedgerWriteError, match="head row is missing"):
        do_create_account(
            username="x1", role=Role.OFFICER, password=None, actor=admin_actor, reason=""
        )
