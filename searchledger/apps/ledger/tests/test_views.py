"""The ledger pages: status page, signed checkpoint and C2SP tlog tiles.

Expected values are recomputed from the stored entry bodies with the pure ledger code
(``merkle``, ``tiles``), never read back from the derived tables the views use.
"""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client
from django.utils.html import escape

from searchledger.apps.accounts.actions import do_create_account
from searchledger.apps.accounts.models import Account
from searchledger.apps.ledger.keys import load_verifier
from searchledger.apps.ledger.models import Checkpoint, LedgerEntry
from searchledger.core.actor import Actor
from searchledger.core.roles import Role
from searchledger.ledger import merkle, tiles
from searchledger.ledger.checkpoint import CheckpointError, open_checkpoint
from searchledger.ledger.note import NoteError, Signer

pytestmark = pytest.mark.django_db

ORIGIN = "test.searchledger.localhost/ledger"


def _bodies() -> list[bytes]:
    return [e.body.encode("utf-8") for e in LedgerEntry.objects.order_by("seq")]


def _tree() -> merkle.MemoryTree:
    """The tree rebuilt in memory from the stored entry bodies alone."""
    tree = merkle.MemoryTree()
    for body in _bodies():
        tree.append(body)
    return tree


@pytest.fixture
def auditor(make_account) -> Client:
    client = Client()
    client.force_login(make_account("a.auditor", Role.AUDITOR))
    return client


def _add_officers(admin_actor, count: int, prefix: str = "officer") -> None:
    with transaction.atomic():
        for number in range(count):
            do_create_account(
                username=f"{prefix}{number}",
                role=Role.OFFICER,
                password=None,
                actor=admin_actor,
                reason="test",
            )


# ---------------------------------------------------------------------------------------
# /ledger/
# ---------------------------------------------------------------------------------------


def test_index_shows_size_root_key_and_newest_entries(auditor):
    tree = _tree()
    assert tree.size == 2  # the administrator and the auditor
    response = auditor.get("/ledger/")
    assert response.status_code == 200
    page = response.content.decode()
    assert f"<dt>Entries</dt><dd>{tree.size}</dd>" in page
    assert tree.root().hex() in page
    assert load_verifier().verifier_key() in page
    assert page.count("<td>ACCOUNT_CREATED</td>") == 2
    assert "No checkpoint has been signed yet." in page
    # Personal data reaches the ledger only as commitments.
    assert "Avery Admin" not in page
    assert "bootstrap" not in page


def test_index_shows_the_latest_checkpoint_once_signed(auditor):
    note = auditor.get("/ledger/checkpoint").content.decode()
    page = auditor.get("/ledger/").content.decode()
    assert "No checkpoint has been signed yet." not in page
    assert f'<pre class="sl-pre">{escape(note)}</pre>' in page


def test_index_lists_only_the_newest_25_entries_newest_first(auditor, admin_actor):
    _add_officers(admin_actor, 28)  # 30 entries in all
    page = auditor.get("/ledger/").content.decode()
    rows = [line for line in page.splitlines() if "<td>ACCOUNT_CREATED</td>" in line]
    assert len(rows) == 25
    assert rows[0].startswith("  <tr><td>29</td>")
    assert rows[-1].startswith("  <tr><td>5</td>")


def test_index_of_an_empty_ledger():
    # An account made without the action (so without an entry) sees the empty ledger.
    reader = Account.objects.create(username="early.auditor", role=Role.AUDITOR.value)
    client = Client()
    client.force_login(reader)
    page = client.get("/ledger/").content.decode()
    assert "The ledger is empty." in page
    assert merkle.EMPTY_ROOT.hex() in page


def test_index_without_a_signing_key_still_renders(auditor, settings, tmp_path):
    settings.SEARCHLEDGER_SIGNING_KEY_FILE = tmp_path / "missing.key"
    response = auditor.get("/ledger/")
    assert response.status_code == 200
    assert b"no signing key configured" in response.content


# ---------------------------------------------------------------------------------------
# /ledger/checkpoint
# ---------------------------------------------------------------------------------------


def test_checkpoint_is_a_signed_note_over_the_current_tree(auditor):
    response = auditor.get("/ledger/checkpoint")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Cache-Control"] == "no-store"
    checkpoint, note = open_checkpoint(response.content, load_verifier(), ORIGIN)
    tree = _tree()
    assert checkpoint.size == tree.size == 2
    assert checkpoint.root_hash == tree.root()
    assert [s.name for s in note.verified] == [ORIGIN]


def test_checkpoint_does_not_verify_under_another_key(auditor):
    text = auditor.get("/ledger/checkpoint").content
    stranger = Signer.generate(ORIGIN)
    with pytest.raises((NoteError, CheckpointError)):
        open_checkpoint(text, stranger.verifier())


def test_checkpoint_is_signed_again_only_when_the_tree_grew(auditor, admin_actor):
    first = auditor.get("/ledger/checkpoint").content
    again = auditor.get("/ledger/checkpoint").content
    assert again == first
    assert Checkpoint.objects.count() == 1

    _add_officers(admin_actor, 3)
    grown = auditor.get("/ledger/checkpoint").content
    assert grown != first
    assert Checkpoint.objects.count() == 2
    old, _ = open_checkpoint(first, load_verifier(), ORIGIN)
    new, _ = open_checkpoint(grown, load_verifier(), ORIGIN)
    tree = _tree()
    assert (old.size, new.size) == (2, 5)
    assert old.root_hash == tree.root(2)
    assert new.root_hash == tree.root(5)
    assert auditor.get("/ledger/checkpoint").content == grown
    assert Checkpoint.objects.count() == 2


def test_checkpoint_of_the_empty_tree():
    reader = Account.objects.create(username="early.auditor", role=Role.AUDITOR.value)
    client = Client()
    client.force_login(reader)
    checkpoint, _ = open_checkpoint(client.get("/ledger/checkpoint").content, load_verifier())
    assert (checkpoint.size, checkpoint.root_hash) == (0, merkle.EMPTY_ROOT)


# ---------------------------------------------------------------------------------------
# /ledger/tile/...
# ---------------------------------------------------------------------------------------


def _get_tile(client: Client, path: str) -> bytes:
    response = client.get("/ledger/" + path)
    assert response.status_code == 200, (path, response.content[:200])
    assert response["Content-Type"] == "application/octet-stream"
    if ".p/" in path:
        assert response["Cache-Control"] == "no-store"
    else:
        assert response["Cache-Control"] == "private, max-age=31536000, immutable"
    return response.content


def test_small_tree_tiles_match_the_entries(auditor):
    checkpoint, _ = open_checkpoint(
        auditor.get("/ledger/checkpoint").content, load_verifier(), ORIGIN
    )
    bodies = _bodies()
    tree = _tree()
    width = len(bodies)
    assert checkpoint.size == width == 2

    hashes = _get_tile(auditor, f"tile/0/000.p/{width}")
    assert hashes == b"".join(merkle.leaf_hash(body) for body in bodies)
    assert hashes == tiles.hash_tile(0, 0, width, tree.node)

    bundle = _get_tile(auditor, f"tile/entries/000.p/{width}")
    assert tiles.decode_entry_bundle(bundle) == bodies
    assert bundle == tiles.encode_entry_bundle(bodies)

    # A narrower partial tile is what a client holding an older checkpoint asks for.
    assert _get_tile(auditor, "tile/0/000.p/1") == merkle.leaf_hash(bodies[0])
    assert tiles.decode_entry_bundle(_get_tile(auditor, "tile/entries/000.p/1")) == bodies[:1]


def test_large_tree_full_and_partial_tiles(auditor, admin_actor):
    _add_officers(admin_actor, 258)  # 260 entries: one full level-0 tile and 4 over
    checkpoint, _ = open_checkpoint(
        auditor.get("/ledger/checkpoint").content, load_verifier(), ORIGIN
    )
    bodies = _bodies()
    tree = _tree()
    assert checkpoint.size == len(bodies) == 260
    leaves = [merkle.leaf_hash(body) for body in bodies]

    full = _get_tile(auditor, "tile/0/000")
    assert full == b"".join(leaves[:256])
    assert full == tiles.hash_tile(0, 0, 256, tree.node)
    assert _get_tile(auditor, "tile/0/001.p/4") == b"".join(leaves[256:])
    assert _get_tile(auditor, "tile/1/000.p/1") == merkle.root_from_leaf_hashes(leaves[:256])

    assert tiles.decode_entry_bundle(_get_tile(auditor, "tile/entries/000")) == bodies[:256]
    assert tiles.decode_entry_bundle(_get_tile(auditor, "tile/entries/001.p/4")) == bodies[256:]

    # A standard tlog client reading only tiles gets the signed root and every entry.
    def read(tile: tiles.TilePath) -> bytes:
        return _get_tile(auditor, tile.path)

    assert tiles.tree_root_from_tiles(checkpoint.size, read) == checkpoint.root_hash
    assert tiles.entries_from_tiles(checkpoint.size, read) == bodies

    for missing in ("tile/0/001", "tile/0/001.p/5", "tile/entries/001.p/5", "tile/1/000"):
        assert auditor.get("/ledger/" + missing).status_code == 404, missing


def test_tiles_beyond_the_signed_checkpoint_are_not_served(auditor, admin_actor):
    auditor.get("/ledger/checkpoint")  # signs size 2
    _add_officers(admin_actor, 2)  # the tree is now 4, unsigned
    assert auditor.get("/ledger/tile/0/000.p/2").status_code == 200
    for path in ("tile/0/000.p/3", "tile/0/000.p/4", "tile/entries/000.p/4"):
        assert auditor.get("/ledger/" + path).status_code == 404, path
    auditor.get("/ledger/checkpoint")  # signs size 4
    hashes = _get_tile(auditor, "tile/0/000.p/4")
    assert hashes == b"".join(merkle.leaf_hash(body) for body in _bodies())


def test_no_tiles_before_any_checkpoint(auditor):
    assert LedgerEntry.objects.count() == 2
    assert auditor.get("/ledger/tile/0/000.p/1").status_code == 404
    assert auditor.get("/ledger/tile/entries/000.p/1").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "../etc",
        "../../etc/passwd",
        "0/../../etc",
        "%2e%2e/etc",
        "0/x1",
        "0/000.p/0",
        "0/000.p/256",
        "0/000.p/",
        "0/000.p/01",
        "0/000.p/-1",
        "0/000.p/x",
        "0/0000",
        "0/00",
        "0/001",
        "0/x000/000",
        "0/x001/000",
        "0/000/",
        "/0/000",
        "0//000",
        "0/000.p/1/extra",
        "1/000",
        "01/000",
        "64/000",
        "99/000",
        "-1/000",
        "x/000",
        "entries",
        "entries/",
        "entries/x1",
        "entries/000.p/0",
        "entries/000.p/256",
        "entries/000.p/3",
        "entries/x999/x999/x999/x999/x999/x999/999",
        "0/x999/x999/x999/x999/x999/x999/999",
        "0/x999/x999/x999/x999/x999/x999/x999/999",
        "63/x999/x999/x999/x999/x999/x999/999.p/255",
        "0/000\x00",
        "0/" + "x001/" * 50 + "000",
        "0/é",
        "",
    ],
)
def test_malformed_or_unavailable_tile_paths_are_404(auditor, path):
    auditor.get("/ledger/checkpoint")  # size 2, so valid paths exist beside these
    response = auditor.get("/ledger/tile/" + path)
    assert response.status_code == 404, (path, response.status_code)


def test_tile_root_ledger_path_without_tile_is_404(auditor):
    assert auditor.get("/ledger/tile/").status_code == 404
    assert auditor.get("/ledger/tiles/0/000.p/1").status_code == 404


def test_tiles_are_served_without_the_signing_key(auditor, settings, tmp_path):
    # Tiles are static data under a published checkpoint: serving them needs no key.
    auditor.get("/ledger/checkpoint")
    settings.SEARCHLEDGER_SIGNING_KEY_FILE = tmp_path / "gone.key"
    assert _get_tile(auditor, "tile/0/000.p/2") == b"".join(
        merkle.leaf_hash(body) for body in _bodies()
    )


def test_checkpoint_without_a_signing_key_is_503_not_500(settings, tmp_path):
    auditor = do_create_account(
        username="keyless.auditor",
        role=Role.AUDITOR,
        password=None,
        actor=Actor.system(),
        reason="test",
    )
    settings.SEARCHLEDGER_SIGNING_KEY_FILE = tmp_path / "missing.key"
    client = Client()
    client.force_login(auditor)
    response = client.get("/ledger/checkpoint")
    assert response.status_code == 503
    assert "searchledger init" in response.content.decode()
