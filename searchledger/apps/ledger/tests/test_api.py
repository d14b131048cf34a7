"""The ledger's JSON API: tree head, inclusion and consistency proofs, entries, schema.

Every proof is checked with the pure verifier (``merkle.verify_*``) against roots
recomputed from the stored entry bodies, not against anything the API says.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from searchledger.apps.accounts.actions import do_create_account
from searchledger.apps.accounts.security_actions import do_issue_api_token
from searchledger.apps.ledger.keys import load_signer
from searchledger.apps.ledger.models import LedgerEntry
from searchledger.core.actor import Actor
from searchledger.core.roles import Permission, Role
from searchledger.ledger import merkle
from searchledger.ledger.checkpoint import open_checkpoint
from searchledger.ledger.note import Verifier
from searchledger.ledger.offline import verify_tile_directory
from searchledger.ledger.tiles import tiles_for_tree

pytestmark = pytest.mark.django_db

SIZE = 7  # entries in the ledger built by the ``ledger`` fixture


def _bodies() -> list[bytes]:
    return [e.body.encode("utf-8") for e in LedgerEntry.objects.order_by("seq")]


def _root(size: int) -> bytes:
    """The root of the first ``size`` entries, from the entry bodies alone."""
    return merkle.root_from_leaf_hashes([merkle.leaf_hash(b) for b in _bodies()[:size]])


def _unb64(values: list[str]) -> list[bytes]:
    return [base64.b64decode(v, validate=True) for v in values]


@pytest.fixture
def auditor(make_account) -> Client:
    client = Client()
    client.force_login(make_account("a.auditor", Role.AUDITOR))
    return client


@pytest.fixture
def ledger(auditor, admin_actor) -> int:
    """A ledger of SIZE entries: the administrator, the auditor and five officers."""
    with transaction.atomic():
        for number in range(SIZE - 2):
            do_create_account(
                username=f"officer{number}",
                role=Role.OFFICER,
                password=None,
                actor=admin_actor,
                reason="test",
            )
    assert LedgerEntry.objects.count() == SIZE
    return SIZE


# ---------------------------------------------------------------------------------------
# /api/ledger/head
# ---------------------------------------------------------------------------------------


def test_head_reports_size_root_and_key(auditor, ledger):
    response = auditor.get("/api/ledger/head")
    assert response.status_code == 200
    head = response.json()
    assert head["size"] == ledger
    assert head["root_hex"] == _root(ledger).hex()
    assert head["checkpoint"] is None
    assert head["verifier_key"] == load_signer().verifier_key()


def test_head_carries_the_latest_checkpoint_which_verifies(auditor, ledger):
    note = auditor.get("/ledger/checkpoint").content.decode()
    head = auditor.get("/api/ledger/head").json()
    assert head["checkpoint"] == note
    checkpoint, _ = open_checkpoint(
        head["checkpoint"], Verifier.from_verifier_key(head["verifier_key"])
    )
    assert (checkpoint.size, checkpoint.root_hash.hex()) == (head["size"], head["root_hex"])


def test_head_without_a_signing_key(auditor, ledger, settings, tmp_path):
    settings.SEARCHLEDGER_SIGNING_KEY_FILE = tmp_path / "missing.key"
    head = auditor.get("/api/ledger/head").json()
    assert head["verifier_key"] is None
    assert head["size"] == ledger


# ---------------------------------------------------------------------------------------
# Proofs
# ---------------------------------------------------------------------------------------


def test_every_inclusion_proof_verifies(auditor, ledger):
    bodies = _bodies()
    for size in range(1, ledger + 1):
        root = _root(size)
        for index in range(size):
            response = auditor.get(f"/api/ledger/proof/inclusion?index={index}&size={size}")
            assert response.status_code == 200, response.content
            proof = response.json()
            assert (proof["index"], proof["tree_size"]) == (index, size)
            leaf = base64.b64decode(proof["leaf_hash"])
            assert leaf == merkle.leaf_hash(bodies[index])
            merkle.verify_inclusion(index, size, leaf, _unb64(proof["proof"]), root)


def test_inclusion_defaults_to_the_current_tree(auditor, ledger):
    proof = auditor.get("/api/ledger/proof/inclusion?index=3").json()
    assert proof["tree_size"] == ledger
    leaf = base64.b64decode(proof["leaf_hash"])
    merkle.verify_inclusion(3, ledger, leaf, _unb64(proof["proof"]), _root(ledger))


def test_an_inclusion_proof_does_not_verify_for_another_leaf_or_root(auditor, ledger):
    # The checks above mean something only if the verifier rejects wrong inputs.
    proof = auditor.get("/api/ledger/proof/inclusion?index=3").json()
    hashes = _unb64(proof["proof"])
    leaf = base64.b64decode(proof["leaf_hash"])
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(3, ledger, merkle.leaf_hash(b"forged"), hashes, _root(ledger))
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(3, ledger, leaf, hashes, _root(ledger - 1))


def test_every_consistency_proof_verifies(auditor, ledger):
    roots = {size: _root(size) for size in range(1, ledger + 1)}
    for new in range(1, ledger + 1):
        for old in range(1, new + 1):
            response = auditor.get(f"/api/ledger/proof/consistency?old={old}&new={new}")
            assert response.status_code == 200, response.content
            body = response.json()
            assert (body["old_size"], body["new_size"]) == (old, new)
            merkle.verify_consistency(old, new, _unb64(body["proof"]), roots[old], roots[new])


def test_a_consistency_proof_does_not_verify_against_a_forked_root(auditor, ledger):
    body = auditor.get(f"/api/ledger/proof/consistency?old=3&new={ledger}").json()
    forked = merkle.root_from_leaf_hashes([merkle.leaf_hash(b"x")] * 3)
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(3, ledger, _unb64(body["proof"]), forked, _root(ledger))


def test_proofs_tie_a_checkpoint_to_a_later_one(auditor, ledger, admin_actor):
    verifier = load_signer().verifier()
    old, _ = open_checkpoint(auditor.get("/ledger/checkpoint").content, verifier)
    do_create_account(
        username="late.officer", role=Role.OFFICER, password=None, actor=admin_actor, reason="x"
    )
    new, _ = open_checkpoint(auditor.get("/ledger/checkpoint").content, verifier)
    assert (old.size, new.size) == (ledger, ledger + 1)
    body = auditor.get(f"/api/ledger/proof/consistency?old={old.size}&new={new.size}").json()
    merkle.verify_consistency(
        old.size, new.size, _unb64(body["proof"]), old.root_hash, new.root_hash
    )
    inclusion = auditor.get(f"/api/ledger/proof/inclusion?index={ledger}&size={new.size}").json()
    merkle.verify_inclusion(
        ledger,
        new.size,
        base64.b64decode(inclusion["leaf_hash"]),
        _unb64(inclusion["proof"]),
        new.root_hash,
    )


# ---------------------------------------------------------------------------------------
# /api/ledger/entries/{seq}
# ---------------------------------------------------------------------------------------


def test_entries_are_the_stored_canonical_bodies(auditor, ledger):
    for row in LedgerEntry.objects.order_by("seq"):
        response = auditor.get(f"/api/ledger/entries/{row.seq}")
        assert response.status_code == 200
        entry = response.json()
        assert entry["seq"] == row.seq
        assert entry["body"] == row.body
        assert entry["leaf_hash"] == merkle.leaf_hash(row.body.encode("utf-8")).hex()
        assert json.loads(entry["body"])["seq"] == row.seq
    assert "Avery Admin" not in auditor.get("/api/ledger/entries/0").content.decode()


# ---------------------------------------------------------------------------------------
# Bad input: 400/404/422 naming the problem, never 500
# ---------------------------------------------------------------------------------------

HUGE = "9" * 30


@pytest.mark.parametrize(
    ("query", "status", "names"),
    [
        # inclusion
        (f"proof/inclusion?index={SIZE}", 400, f"entry index {SIZE} is outside 0..{SIZE - 1}"),
        ("proof/inclusion?index=-1", 400, "entry index -1 is outside"),
        (f"proof/inclusion?index={HUGE}", 400, f"entry index {HUGE} is outside"),
        (f"proof/inclusion?index=0&size={SIZE + 1}", 400, f"tree size {SIZE + 1} is outside"),
        (f"proof/inclusion?index=0&size={HUGE}", 400, f"tree size {HUGE} is outside"),
        ("proof/inclusion?index=0&size=-1", 400, "tree size -1 is outside"),
        ("proof/inclusion?index=0&size=0", 400, "entry index 0 is outside"),
        ("proof/inclusion?index=3&size=3", 400, "entry index 3 is outside 0..2"),
        ("proof/inclusion?index=abc", 422, "index"),
        ("proof/inclusion?index=1.5", 422, "index"),
        ("proof/inclusion?index=", 422, "index"),
        ("proof/inclusion", 422, "index"),
        ("proof/inclusion?index=0&size=x", 422, "size"),
        # consistency
        ("proof/consistency?old=3&new=2", 400, "need 0 < old size (3) <= new size (2)"),
        ("proof/consistency?old=0&new=2", 400, "need 0 < old size (0) <= new size (2)"),
        ("proof/consistency?old=-1&new=2", 400, "old size (-1)"),
        (f"proof/consistency?old=1&new={SIZE + 1}", 400, f"tree size {SIZE + 1} is outside"),
        (f"proof/consistency?old={HUGE}&new=2", 400, f"old size ({HUGE})"),
        (f"proof/consistency?old=1&new={HUGE}", 400, f"tree size {HUGE} is outside"),
        ("proof/consistency?old=1&new=-2", 400, "tree size -2 is outside"),
        ("proof/consistency?old=x&new=2", 422, "old"),
        ("proof/consistency?old=1&new=two", 422, "new"),
        ("proof/consistency?old=1", 422, "new"),
        ("proof/consistency?new=2", 422, "old"),
        # entries
        (f"entries/{SIZE}", 404, f"no entry {SIZE}"),
        ("entries/-1", 404, "no entry -1"),
        (f"entries/{HUGE}", 404, f"no entry {HUGE}"),
        ("entries/x", 422, "seq"),
        ("entries/1.5", 422, "seq"),
    ],
)
def test_bad_input_is_refused_with_a_message(auditor, ledger, query, status, names):
    response = auditor.get("/api/ledger/" + query)
    assert response.status_code == status, response.content
    detail = response.json()["detail"]
    if status == 422:
        # ninja's validation errors: a list, each naming where the bad value was.
        assert any(error["loc"][-1] == names for error in detail), detail
    else:
        assert names in detail


def test_unknown_api_paths_and_methods(auditor, ledger):
    assert auditor.get("/api/ledger/nothing").status_code == 404
    assert auditor.get("/api/ledger/entries/").status_code == 404
    assert auditor.post("/api/ledger/head").status_code == 405
    assert auditor.delete("/api/ledger/entries/0").status_code == 405


# ---------------------------------------------------------------------------------------
# OpenAPI schema and docs
# ---------------------------------------------------------------------------------------

LEDGER_PATHS = {
    "/api/ledger/head",
    "/api/ledger/proof/inclusion",
    "/api/ledger/proof/consistency",
    "/api/ledger/entries/{seq}",
}


@pytest.mark.parametrize("role", [Role.OFFICER, Role.AUDITOR])
def test_openapi_schema_lists_the_ledger_paths(role, make_account):
    client = Client()
    client.force_login(make_account("reader", role))
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "searchledger API"
    assert set(schema["paths"]) >= LEDGER_PATHS
    # Deny by default shows in the schema: every operation requires authentication.
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert operation.get("security"), f"{method.upper()} {path} has no security"
    inclusion = schema["paths"]["/api/ledger/proof/inclusion"]["get"]
    params = {p["name"]: p["required"] for p in inclusion["parameters"]}
    assert params == {"index": True, "size": False}


def test_docs_page_points_at_the_schema(auditor):
    response = auditor.get("/api/docs")
    assert response.status_code == 200
    assert b"/api/openapi.json" in response.content


def test_an_auditor_token_fetches_the_tiles_and_they_verify_offline(
    make_account, admin_actor, tmp_path
):
    """The outsider's path: a personal token with the ledger scope fetches the checkpoint
    and every tile from /api/ledger/ (the tlog-tiles layout), and the copy verifies with
    the verifier key alone."""
    person = make_account("outside.auditor", Role.AUDITOR)
    actor = Actor(account_id=person.pk, role=Role.AUDITOR)
    for n in range(300):  # more than one full tile
        do_create_account(username=f"p{n}", role=Role.OFFICER, password=None, actor=admin_actor)
    issued = do_issue_api_token(
        person.pk,
        name="oversight tile sync",
        scopes=[Permission.VIEW_LEDGER],
        expires_at=timezone.now() + timedelta(days=30),
        actor=actor,
    )
    client = Client(headers={"Authorization": f"Bearer {issued.secret}"})
    note = client.get("/api/ledger/checkpoint")
    assert note.status_code == 200
    size = int(note.content.decode().split("\n")[1])
    copy = tmp_path / "copy"
    (copy).mkdir()
    (copy / "checkpoint").write_bytes(note.content)
    for tile in tiles_for_tree(size):
        got = client.get(f"/api/ledger/{tile.path}")
        assert got.status_code == 200, tile.path
        target = copy / tile.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(got.content)
    result = verify_tile_directory(copy, load_signer().verifier())
    assert result.entries == size >= 300
    # A tile beyond the signed checkpoint is not served; a token without the scope is refused.
    assert client.get("/api/ledger/tile/0/999").status_code == 404
    unscoped = do_issue_api_token(
        person.pk,
        name="systems only",
        scopes=[Permission.VIEW_SYSTEMS],
        expires_at=timezone.now() + timedelta(days=30),
        actor=actor,
    )
    refused = Client(headers={"Authorization": f"Bearer {unscoped.secret}"})
    assert refused.get("/api/ledger/checkpoint").status_code == 403
    assert Client().get("/api/ledger/tile/0/000").status_code == 401
