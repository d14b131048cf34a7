"""The ``searchledger`` console command, in-process through ``main`` and as a real process.

Proofs and exported tiles are checked with the pure ``merkle`` and ``tiles`` functions
against roots recomputed here from the stored entry bodies, never against the command's
own idea of the tree.
"""

from __future__ import annotations

import base64
import io
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection, transaction

from searchledger.apps.accounts.actions import do_create_account, do_deactivate_account
from searchledger.apps.accounts.models import Account
from searchledger.apps.ledger import writer
from searchledger.apps.ledger.checkpoints import sign_checkpoint_if_grown
from searchledger.apps.ledger.models import Checkpoint, Cosignature, LedgerEntry
from searchledger.apps.ledger.tests.processes import child_env, searchledger_command
from searchledger.cli import main
from searchledger.core.actor import Actor
from searchledger.core.roles import Role
from searchledger.ledger import merkle, tiles
from searchledger.ledger.checkpoint import Checkpoint as CheckpointBody
from searchledger.ledger.checkpoint import CheckpointError, open_checkpoint
from searchledger.ledger.events import LedgerEventType
from searchledger.ledger.note import (
    CosignatureSigner,
    NoteError,
    Signer,
    Verifier,
    compute_key_id,
    cosign_note,
)

ORIGIN = "test.searchledger.localhost/ledger"
STRONG_PASSWORD = "correct horse battery staple 42"


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """Run the command in-process; argparse's own errors exit through SystemExit."""
    capsys.readouterr()
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def run_process(
    env: dict[str, str], *argv: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*searchledger_command(), *argv],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def append_entries(count: int, actor: Actor, batch: int = 100) -> None:
    """Append ``count`` entries straight through the writer, ``batch`` per transaction."""
    for start in range(0, count, batch):
        with transaction.atomic():
            for _ in range(min(batch, count - start)):
                writer.append(
                    LedgerEventType.ACCOUNT_PASSWORD_SET,
                    object_type="accounts.account",
                    object_id=actor.account_id,
                    actor=actor,
                    data={"by_self": True},
                )


def stored_bodies() -> list[bytes]:
    return [body.encode("utf-8") for body in LedgerEntry.objects.values_list("body", flat=True)]


def root_of(size: int) -> bytes:
    """The root of the first ``size`` entries, recomputed from the stored bodies."""
    return merkle.root_from_leaf_hashes([merkle.leaf_hash(b) for b in stored_bodies()[:size]])


def proof_lines(out: str) -> list[bytes]:
    return [base64.b64decode(line, validate=True) for line in out.splitlines()]


def public_key(capsys) -> str:
    code, out, err = run(capsys, "public-key")
    assert (code, err) == (0, "")
    return out.strip()


def read_export(directory: Path, verifier: Verifier) -> tuple[CheckpointBody, list[bytes]]:
    """Check an exported tile directory using only its files; return checkpoint and entries.

    Raises NoteError or CheckpointError for a checkpoint not signed by ``verifier`` and
    TileError for tiles or bundles that do not add up to the checkpoint's root.
    """
    body, _ = open_checkpoint(
        (directory / tiles.CHECKPOINT_NAME).read_bytes(), verifier, origin=verifier.name
    )

    def read(tile: tiles.TilePath) -> bytes:
        return (directory / tile.path).read_bytes()

    if tiles.tree_root_from_tiles(body.size, read) != body.root_hash:
        raise tiles.TileError("the hash tiles do not hash to the checkpoint's root")
    leaves = tiles.leaf_hashes_from_tiles(body.size, read)
    entries = tiles.entries_from_tiles(body.size, read)
    if [merkle.leaf_hash(entry) for entry in entries] != leaves:
        raise tiles.TileError("the entry bundles do not hash to the level-0 tiles")
    return body, entries


def files_under(directory: Path) -> dict[str, bytes]:
    return {
        path.relative_to(directory).as_posix(): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def ledger(admin_actor) -> int:
    """A ledger of 45 entries: the administrator and 44 accounts made by the action."""
    for i in range(44):
        do_create_account(
            username=f"officer{i}", role=Role.OFFICER, password=None, actor=admin_actor
        )
    assert LedgerEntry.objects.count() == 45
    return 45


@pytest.fixture
def no_stdin(monkeypatch) -> None:
    """An empty, non-terminal stdin, so that create-account never prompts."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))


# --------------------------------------------------------------------------------------
# public-key and checkpoint
# --------------------------------------------------------------------------------------


def test_public_key_is_name_hex8_base64(db, capsys, signing_key):
    key = public_key(capsys)
    match = re.fullmatch(r"([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]+={0,2})", key)
    assert match is not None, key
    name, key_id, encoded = match.groups()
    assert name == ORIGIN
    raw = base64.b64decode(encoded, validate=True)
    assert len(raw) == 33
    assert raw[0] == 0x01  # Ed25519
    assert bytes.fromhex(key_id) == compute_key_id(name, 0x01, raw[1:])
    assert key == signing_key.verifier_key()
    assert Verifier.from_verifier_key(key).key_id.hex() == key_id


def test_checkpoint_is_signed_by_the_public_key_and_signed_again_only_after_growth(
    capsys, ledger, admin_actor
):
    verifier = Verifier.from_verifier_key(public_key(capsys))
    code, first, err = run(capsys, "checkpoint")
    assert (code, err) == (0, "")
    body, note = open_checkpoint(first, verifier, origin=ORIGIN)
    assert (body.size, body.root_hash) == (ledger, root_of(ledger))
    assert len(note.verified) == 1

    code, again, _ = run(capsys, "checkpoint")
    assert code == 0
    assert again == first
    assert Checkpoint.objects.count() == 1

    append_entries(3, admin_actor)
    code, grown, _ = run(capsys, "checkpoint")
    assert code == 0
    new_body, _ = open_checkpoint(grown, verifier, origin=ORIGIN)
    assert (new_body.size, new_body.root_hash) == (ledger + 3, root_of(ledger + 3))
    assert list(Checkpoint.objects.values_list("size", flat=True)) == [ledger, ledger + 3]
    assert Checkpoint.objects.get(size=ledger).note == first
    # Not signed by some other key of the same name.
    with pytest.raises(NoteError, match="no signature by a known key"):
        open_checkpoint(grown, Verifier.from_verifier_key(Signer.generate(ORIGIN).verifier_key()))


def test_checkpoint_of_the_empty_ledger_signs_the_empty_root(db, capsys):
    code, out, _ = run(capsys, "checkpoint")
    assert code == 0
    body, _ = open_checkpoint(out, Verifier.from_verifier_key(public_key(capsys)))
    assert (body.size, body.root_hash) == (0, merkle.EMPTY_ROOT)


# --------------------------------------------------------------------------------------
# proof
# --------------------------------------------------------------------------------------


def test_inclusion_proofs_verify_against_recomputed_roots(capsys, ledger):
    leaves = [merkle.leaf_hash(body) for body in stored_bodies()]
    cases: list[tuple[int, int | None]] = [(i, None) for i in (0, 1, 13, 31, 32, ledger - 1)]
    cases += [(0, 1), (5, 6), (5, 8), (7, 8), (16, 17), (20, 33), (44, 45)]
    for index, size in cases:
        argv = ["proof", "inclusion", str(index)]
        if size is not None:
            argv += ["--size", str(size)]
        code, out, err = run(capsys, *argv)
        assert (code, err) == (0, ""), argv
        tree_size = ledger if size is None else size
        proof = proof_lines(out)
        merkle.verify_inclusion(index, tree_size, leaves[index], proof, root_of(tree_size))
        # The proof is for this leaf only.
        other = leaves[(index + 1) % tree_size] if tree_size > 1 else b"\x00" * 32
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(index, tree_size, other, proof, root_of(tree_size))
    code, out, _ = run(capsys, "proof", "inclusion", "0", "--size", "1")
    assert (code, out) == (0, "")  # a one-leaf tree needs no hashes


def test_consistency_proofs_verify_against_recomputed_roots(capsys, ledger):
    for old, new in [(1, 45), (7, 45), (8, 16), (13, 13), (32, 45), (44, 45), (1, 2), (3, 30)]:
        code, out, err = run(capsys, "proof", "consistency", str(old), str(new))
        assert (code, err) == (0, ""), (old, new)
        proof = proof_lines(out)
        merkle.verify_consistency(old, new, proof, root_of(old), root_of(new))
        if old != new:
            with pytest.raises(merkle.ProofError):
                merkle.verify_consistency(old, new, proof, root_of(old - 1 or 2), root_of(new))
    code, out, _ = run(capsys, "proof", "consistency", "13", "13")
    assert (code, out) == (0, "")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["proof", "inclusion", "45"], "entry index 45 is outside 0..44"),
        (["proof", "inclusion", "99999999999999999999999"], "entry index 99999999999999999999999"),
        (["proof", "inclusion", "5", "--size", "5"], "entry index 5 is outside 0..4"),
        (["proof", "inclusion", "3", "--size", "46"], "tree size 46 is outside 0..45"),
        (["proof", "consistency", "9", "5"], "need 0 < old size (9) <= new size (5)"),
        (["proof", "consistency", "0", "5"], "need 0 < old size (0) <= new size (5)"),
        (["proof", "consistency", "5", "46"], "tree size 46 is outside 0..45"),
        (["proof", "inclusion", "-1"], "argument index: '-1' is negative"),
        (["proof", "inclusion", "3", "--size", "-4"], "argument --size: '-4' is negative"),
        (["proof", "consistency", "-2", "5"], "argument old: '-2' is negative"),
        (["proof", "consistency", "2", "-5"], "argument new: '-5' is negative"),
        (["proof", "inclusion", "abc"], "argument index: 'abc' is not a whole number"),
        (["proof", "inclusion", "1.5"], "argument index: '1.5' is not a whole number"),
        (["proof", "inclusion", "1", "--size", "x"], "argument --size: 'x' is not a whole"),
        (["proof", "consistency", "1", "ten"], "argument new: 'ten' is not a whole number"),
        (["proof", "consistency", "1"], "the following arguments are required: new"),
        (["proof", "sideways", "1"], "invalid choice: 'sideways'"),
    ],
)
def test_bad_proof_arguments_exit_2_naming_the_problem(capsys, ledger, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert message in err
    assert "Traceback" not in err


# --------------------------------------------------------------------------------------
# export-tiles
# --------------------------------------------------------------------------------------


def test_export_tiles_can_be_checked_from_the_files_alone(
    capsys, admin_actor, tmp_path, django_assert_num_queries
):
    append_entries(299, admin_actor)  # with the administrator's: 300, one full tile and 44
    verifier = Verifier.from_verifier_key(public_key(capsys))
    export = tmp_path / "export"
    code, out, err = run(capsys, "export-tiles", str(export))
    assert (code, err) == (0, "")
    assert "tree size 300" in out
    expected = {tiles.CHECKPOINT_NAME} | {t.path for t in tiles.tiles_for_tree(300)}
    assert set(files_under(export)) == expected
    assert {
        "tile/0/000",
        "tile/0/001.p/44",
        "tile/1/000.p/1",
        "tile/entries/000",
        "tile/entries/001.p/44",
    } <= expected

    with django_assert_num_queries(0):
        body, entries = read_export(export, verifier)
    assert (body.size, body.root_hash) == (300, root_of(300))
    assert entries == stored_bodies()
    assert (export / tiles.CHECKPOINT_NAME).read_text() == Checkpoint.objects.get().note

    # One byte changed anywhere, in a bundle, a hash tile or the checkpoint, is detected.
    for name in [*sorted(expected)]:
        target = export / name
        original = target.read_bytes()
        for position in sorted({0, 1, len(original) // 2, len(original) - 2}):
            altered = bytearray(original)
            altered[position] ^= 0x01
            target.write_bytes(bytes(altered))
            with pytest.raises((tiles.TileError, NoteError, CheckpointError)):
                read_export(export, verifier)
        target.write_bytes(original)
    read_export(export, verifier)


def test_verify_tiles_needs_only_the_files_and_the_key(capsys, admin_actor, tmp_path):
    append_entries(299, admin_actor)
    key = public_key(capsys)
    export = tmp_path / "export"
    assert run(capsys, "export-tiles", str(export))[0] == 0
    earlier = tmp_path / "earlier-checkpoint"
    earlier.write_text((export / tiles.CHECKPOINT_NAME).read_text())
    append_entries(20, admin_actor)
    assert run(capsys, "export-tiles", str(export))[0] == 0
    key_file = tmp_path / "log.vkey"
    key_file.write_text(key + "\n")

    # An outsider's machine: an empty state directory and no database at all.
    outsider = dict(os.environ)
    outsider.update(
        SEARCHLEDGER_HOME=str(tmp_path / "outsider"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'no-such-dir' / 'none.db'}",
    )
    done = run_process(
        outsider, "verify", "--tiles", str(export), "--key", str(key_file), "--since", str(earlier)
    )
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    assert done.stdout.startswith("ok: 320 entries")
    assert "extends the earlier checkpoint of size 300" in done.stdout
    assert not (tmp_path / "no-such-dir").exists()

    # The key inline works the same; another log's key is refused with exit status 1.
    assert run_process(outsider, "verify", "--tiles", str(export), "--key", key).returncode == 0
    other = Signer.generate("other.example.org").verifier_key()
    refused = run_process(outsider, "verify", "--tiles", str(export), "--key", other)
    assert refused.returncode == 1
    assert refused.stderr.startswith("FAILED: checkpoint")

    # An entry edited in its bundle is named.
    bundle = export / "tile/entries/001.p/64"
    data = bundle.read_bytes()
    bundle.write_bytes(data.replace(b'"by_self":true', b'"by_self":fals', 1))
    failed = run_process(outsider, "verify", "--tiles", str(export), "--key", key)
    assert failed.returncode == 1
    assert "entry 256" in failed.stderr or "does not hash" in failed.stderr, failed.stderr

    # --tiles without --key is a usage error, and --since alone is refused.
    assert run_process(outsider, "verify", "--tiles", str(export)).returncode == 2
    assert run(capsys, "verify", "--since", str(earlier))[0] == 2


def test_a_witness_cosigns_consistent_checkpoints_and_refuses_an_inconsistent_one(
    capsys, client, admin_actor, tmp_path
):
    append_entries(20, admin_actor)
    log_key = public_key(capsys)
    witness_dir = tmp_path / "witness"
    code, out, err = run(capsys, "witness", "init", str(witness_dir), "--name", "oig.example")
    assert (code, err) == (0, "")
    witness_key = out.strip()
    assert stat.S_IMODE((witness_dir / "witness.key").stat().st_mode) == 0o600
    assert run(capsys, "witness", "follow", str(witness_dir), "--log-key", log_key)[0] == 0

    def round_trip(old: int) -> tuple[int, str, str]:
        code, request, err = run(capsys, "witness-request", "--old", str(old))
        assert (code, err) == (0, "")
        (tmp_path / "request").write_text(request)
        return run(
            capsys,
            "witness",
            "add-checkpoint",
            str(witness_dir),
            "--request",
            str(tmp_path / "request"),
        )

    code, line, err = round_trip(0)
    assert code == 0, err
    assert line.startswith("\u2014 oig.example ")
    (tmp_path / "cosig").write_text(line)
    stored = run(
        capsys,
        "add-cosignature",
        "--size",
        "21",
        "--witness-key",
        witness_key,
        str(tmp_path / "cosig"),
    )
    assert stored[0] == 0, stored[2]
    assert Cosignature.objects.get().witness_name == "oig.example"
    # The checkpoint served and exported now carries the cosignature, which verifies.
    served = client.get("/ledger/checkpoint")
    assert served.status_code in {302, 403}  # anonymous: the page needs VIEW_LEDGER
    _, note = open_checkpoint(
        Checkpoint.objects.get(size=21).note + line,
        Verifier.from_verifier_key(log_key),
        witnesses=[Verifier.from_verifier_key(witness_key)],
    )
    assert {s.name for s in note.verified} >= {"oig.example"}
    export = tmp_path / "export"
    assert run(capsys, "export-tiles", str(export))[0] == 0
    assert (export / tiles.CHECKPOINT_NAME).read_text().endswith(line)
    # A second cosignature of the same checkpoint by the same witness is refused.
    again = run(
        capsys,
        "add-cosignature",
        "--size",
        "21",
        "--witness-key",
        witness_key,
        str(tmp_path / "cosig"),
    )
    assert again[0] == 2
    assert "already cosigned" in again[2]

    # The log grows; the witness cosigns from the size it last saw.
    append_entries(15, admin_actor)
    code, line, err = round_trip(21)
    assert code == 0, err
    # Asking from a stale size is a conflict naming the witness's size.
    code, _, err = round_trip(21)
    assert code == 1
    assert "conflict" in err
    assert "36" in err

    # A consistency proof that does not hold (a log showing another history) is refused
    # loudly, and the request is kept as evidence.
    append_entries(5, admin_actor)
    code, request, _ = run(capsys, "witness-request", "--old", "36")
    lines = request.split("\n")
    forged = base64.b64encode(bytes(32)).decode()
    (tmp_path / "forged").write_text("\n".join([lines[0], forged, *lines[2:]]))
    code, out, err = run(
        capsys, "witness", "add-checkpoint", str(witness_dir), "--request", str(tmp_path / "forged")
    )
    assert code == 1
    assert out == ""
    assert "REFUSED (inconsistent, HTTP 422)" in err
    assert "THE LOG HAS NOT BEEN COSIGNED" in err
    assert len(list((witness_dir / "evidence").iterdir())) == 1
    # An empty request is malformed; the witness still stands at 36 and cosigns the
    # honest request.
    code, _, err = run(
        capsys, "witness", "add-checkpoint", str(witness_dir), "--request", "/dev/null"
    )
    assert code == 1
    assert "malformed" in err
    (tmp_path / "honest").write_text(request)
    code, line, err = run(
        capsys, "witness", "add-checkpoint", str(witness_dir), "--request", str(tmp_path / "honest")
    )
    assert code == 0, err


def test_a_cosignature_by_the_wrong_key_or_for_no_checkpoint_is_refused(
    capsys, admin_actor, tmp_path
):
    append_entries(3, admin_actor)
    assert run(capsys, "checkpoint")[0] == 0
    witness = CosignatureSigner.generate("oig.example")
    impostor = CosignatureSigner.generate("oig.example")
    line = cosign_note(Checkpoint.objects.get().note, impostor, 1_790_000_000).rsplit("\n", 2)[1]
    (tmp_path / "cosig").write_text(line + "\n")
    refused = run(
        capsys,
        "add-cosignature",
        "--size",
        "4",
        "--witness-key",
        witness.verifier_key(),
        str(tmp_path / "cosig"),
    )
    assert refused[0] == 2
    assert "not a valid cosignature" in refused[2]
    missing = run(
        capsys,
        "add-cosignature",
        "--size",
        "99",
        "--witness-key",
        witness.verifier_key(),
        str(tmp_path / "cosig"),
    )
    assert missing[0] == 2
    assert "no checkpoint of size 99" in missing[2]
    log_key_as_witness = run(
        capsys,
        "add-cosignature",
        "--size",
        "4",
        "--witness-key",
        public_key(capsys),
        str(tmp_path / "cosig"),
    )
    assert log_key_as_witness[0] == 2
    assert "not a witness cosignature key" in log_key_as_witness[2]


def test_re_export_keeps_published_tiles_and_stays_consistent(capsys, admin_actor, tmp_path):
    append_entries(299, admin_actor)
    verifier = Verifier.from_verifier_key(public_key(capsys))
    export = tmp_path / "export"
    assert run(capsys, "export-tiles", str(export))[0] == 0
    before = files_under(export)
    old, _ = read_export(export, verifier)

    # Exporting again at the same size signs nothing new and changes nothing.
    assert run(capsys, "export-tiles", str(export))[0] == 0
    assert files_under(export) == before
    assert Checkpoint.objects.count() == 1

    append_entries(30, admin_actor)
    code, out, err = run(capsys, "export-tiles", str(export))
    assert (code, err) == (0, "")
    assert "tree size 330" in out
    after = files_under(export)
    new, entries = read_export(export, verifier)
    assert (new.size, new.root_hash) == (330, root_of(330))
    assert entries == stored_bodies()
    # Every file published before is still there, byte for byte (full tiles never change,
    # and the old partial tiles stay valid for the old checkpoint); only the checkpoint moved.
    for name, content in before.items():
        if name != tiles.CHECKPOINT_NAME:
            assert after[name] == content, name
    assert {"tile/0/000", "tile/entries/000", "tile/0/001.p/74"} <= set(after)
    assert after[tiles.CHECKPOINT_NAME] != before[tiles.CHECKPOINT_NAME]

    code, out, _ = run(capsys, "proof", "consistency", str(old.size), str(new.size))
    assert code == 0
    merkle.verify_consistency(old.size, new.size, proof_lines(out), old.root_hash, new.root_hash)
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(
            old.size, new.size, proof_lines(out), root_of(old.size - 1), new.root_hash
        )


def test_export_into_a_directory_with_altered_tiles_is_refused(capsys, ledger, tmp_path):
    export = tmp_path / "export"
    assert run(capsys, "export-tiles", str(export))[0] == 0
    tile = export / "tile/0/000.p/45"
    altered = bytearray(tile.read_bytes())
    altered[7] ^= 0x80
    tile.write_bytes(bytes(altered))
    code, _, err = run(capsys, "export-tiles", str(export))
    assert code == 2
    assert "already exists with different content" in err
    assert "Traceback" not in err
    assert tile.read_bytes() == bytes(altered)  # a published tile is never overwritten


def test_export_into_a_path_that_is_a_file_exits_2(capsys, ledger, tmp_path):
    target = tmp_path / "not-a-directory"
    target.write_text("x")
    code, _, err = run(capsys, "export-tiles", str(target))
    assert code == 2
    assert "not-a-directory" in err
    assert "Traceback" not in err


# --------------------------------------------------------------------------------------
# verify
# --------------------------------------------------------------------------------------


def test_verify_with_another_key_fails_once_a_checkpoint_exists(capsys, ledger):
    other = Signer.generate(ORIGIN).verifier_key()
    # Nothing is signed yet, so there is nothing the other key could disagree with.
    code, out, _ = run(capsys, "verify", "--key", other)
    assert code == 0
    assert out.startswith(f"ok: {ledger} entries")
    assert run(capsys, "checkpoint")[0] == 0
    code, out, err = run(capsys, "verify", "--key", other)
    assert (code, out) == (1, "")
    assert err.startswith("FAILED: ")
    assert "not validly signed by the ledger key" in err
    code, out, _ = run(capsys, "verify", "--key", public_key(capsys))
    assert code == 0
    assert f"1 checkpoints verified (latest at size {ledger})" in out
    other_name = Signer.generate("elsewhere.example/log").verifier_key()
    assert run(capsys, "verify", "--key", other_name)[0] == 1


@pytest.mark.parametrize("key", ["not-a-key", "name+0000zzzz+AAAA", ORIGIN + "+12345678+AQ=="])
def test_verify_with_a_malformed_key_exits_2(capsys, ledger, key):
    code, out, err = run(capsys, "verify", "--key", key)
    assert (code, out) == (2, "")
    assert "--key" in err
    assert "Traceback" not in err


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_verify_as_a_real_process_against_the_test_database(admin_actor, tmp_path, settings):
    append_entries(40, admin_actor)
    sign_checkpoint_if_grown()
    env = child_env(
        tmp_path / "home", Path(settings.SEARCHLEDGER_SIGNING_KEY_FILE), connection.settings_dict
    )
    done = run_process(env, "verify")
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        f"ok: 41 entries, root {root_of(41).hex()}, 1 checkpoints verified (latest at size 41), "
        "1 rows of ledger-feeding tables match their entries\n"
    )
    other = Signer.generate(ORIGIN).verifier_key()
    done = run_process(env, "verify", "--key", other)
    assert done.returncode == 1
    assert done.stdout == ""
    assert "FAILED: checkpoint at size 41 is not validly signed" in done.stderr
    assert "Traceback" not in done.stderr


# --------------------------------------------------------------------------------------
# create-account
# --------------------------------------------------------------------------------------


def create(capsys, username: str, *extra: str, role: str = "officer") -> tuple[int, str, str]:
    return run(capsys, "create-account", username, "--role", role, "--reason", "testing", *extra)


def test_system_actor_creates_only_the_first_administrator(db, capsys, no_stdin):
    code, out, err = create(capsys, "root", "--actor", "system", role="administrator")
    assert (code, err) == (0, "")
    root = Account.objects.get(username="root")
    assert out == f"created account root (administrator) id {root.pk}\n"
    assert not root.has_usable_password()
    entry = LedgerEntry.objects.get()
    assert (entry.actor_id, entry.object_id) == (0, str(root.pk))

    for role in ("officer", "administrator"):
        code, out, err = create(capsys, "second", "--actor", "system", role=role)
        assert (code, out) == (2, "")
        assert "--actor system is only for the first administrator" in err
    assert not Account.objects.filter(username="second").exists()
    assert LedgerEntry.objects.count() == 1

    code, out, err = create(capsys, "second", "--actor", "root")
    assert (code, err) == (0, "")
    assert LedgerEntry.objects.order_by("-seq").first().actor_id == root.pk  # type: ignore[union-attr]


def test_named_administrator_is_the_actor(admin, capsys, no_stdin):
    code, _, err = create(capsys, "o.new", "--actor", "ADMIN")  # usernames ignore case
    assert (code, err) == (0, "")
    created = Account.objects.get(username="o.new")
    entry = LedgerEntry.objects.order_by("-seq").first()
    assert entry is not None
    assert (entry.actor_id, entry.object_id) == (admin.pk, str(created.pk))


def test_actor_must_be_an_active_administrator(admin, admin_actor, make_account, capsys, no_stdin):
    make_account("officer1", Role.OFFICER)
    other_admin = make_account("admin2", Role.ADMINISTRATOR)
    do_deactivate_account(other_admin.pk, actor=admin_actor, reason="left")
    entries = LedgerEntry.objects.count()
    for actor, message in [
        ("nobody", "--actor 'nobody': no active account with that username"),
        ("admin2", "--actor 'admin2': no active account with that username"),
        ("officer1", "may not manage_accounts"),
    ]:
        code, out, err = create(capsys, "x.new", "--actor", actor)
        assert (code, out) == (2, ""), actor
        assert message in err, err
        assert "Traceback" not in err
    assert not Account.objects.filter(username="x.new").exists()
    assert LedgerEntry.objects.count() == entries


def test_password_from_stdin_and_refusals(admin, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(STRONG_PASSWORD + "\n"))
    code, _, err = create(capsys, "with.password", "--actor", "admin", "--password-stdin")
    assert (code, err) == (0, "")
    assert Account.objects.get(username="with.password").check_password(STRONG_PASSWORD)

    entries = LedgerEntry.objects.count()
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    code, _, err = create(capsys, "weak.password", "--actor", "admin", "--password-stdin")
    assert code == 2
    assert "password:" in err
    assert "too short" in err
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    code, _, err = create(capsys, "WITH.password", "--actor", "admin")
    assert code == 2
    assert "username: the username 'WITH.password' is taken" in err
    code, _, err = create(capsys, "bad.role", "--actor", "admin", role="emperor")
    assert code == 2
    assert "invalid choice: 'emperor'" in err
    assert "Traceback" not in err
    assert not Account.objects.filter(username__in=["weak.password", "bad.role"]).exists()
    assert LedgerEntry.objects.count() == entries


# --------------------------------------------------------------------------------------
# init (a real process in a fresh state directory)
# --------------------------------------------------------------------------------------


def test_init_creates_private_keys_and_never_overwrites_the_signing_key(tmp_path):
    home = tmp_path / "state"
    env = dict(os.environ, SEARCHLEDGER_HOME=str(home))
    for name in ("SEARCHLEDGER_SIGNING_KEY_FILE", "SEARCHLEDGER_SECRET_KEY", "DATABASE_URL"):
        env.pop(name, None)
    secret_file, key_file = home / "secret_key", home / "ledger-signing.key"

    done = run_process(env, "init", "--origin", "agency.example/ledger")
    assert done.returncode == 0, done.stderr
    for path in (secret_file, key_file):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert f"created {secret_file}" in done.stdout
    assert f"created signing key {key_file}" in done.stdout
    verifier_key = done.stdout.splitlines()[-1].removeprefix("verifier key: ")
    assert Verifier.from_verifier_key(verifier_key).name == "agency.example/ledger"
    assert key_file.read_text().startswith("PRIVATE+KEY+agency.example/ledger+")

    shown = run_process(env, "public-key")
    assert (shown.returncode, shown.stdout) == (0, verifier_key + "\n")

    secret, key = secret_file.read_bytes(), key_file.read_bytes()
    again = run_process(env, "init", "--origin", "somewhere.else/ledger")
    assert again.returncode == 0, again.stderr
    assert f"signing key already at {key_file}" in again.stdout
    assert again.stdout.splitlines()[-1] == f"verifier key: {verifier_key}"
    assert (secret_file.read_bytes(), key_file.read_bytes()) == (secret, key)
    assert "Traceback" not in again.stderr


def test_commands_without_a_signing_key_exit_2(db, capsys, settings, tmp_path):
    settings.SEARCHLEDGER_SIGNING_KEY_FILE = tmp_path / "missing.key"
    for argv in (["public-key"], ["checkpoint"], ["verify"]):
        code, out, err = run(capsys, *argv)
        assert (code, out) == (2, ""), argv
        assert "run `searchledger init`" in err
        assert "Traceback" not in err
