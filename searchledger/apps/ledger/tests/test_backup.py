"""``searchledger backup`` and ``restore``, the checkpoint log and ``verify --checkpoint``.

The round trip runs the real commands in child processes against a second, fresh database
(SQLite file or PostgreSQL database) and a fresh HOME, as a restore on a new machine would.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection

from searchledger.apps.accesslogs.actions import do_import_access_log, do_set_column_mapping
from searchledger.apps.accesslogs.models import AccessLogImport
from searchledger.apps.accounts.actions import do_create_account
from searchledger.apps.ledger.backup import BackupError, create_backup, restore_backup
from searchledger.apps.ledger.checkpoint_log import checkpoint_log_path, read_checkpoint_file
from searchledger.apps.ledger.checkpoints import sign_checkpoint_if_grown
from searchledger.apps.ledger.keys import load_verifier
from searchledger.apps.ledger.selectors import get_tree_head
from searchledger.apps.ledger.tests.processes import database_url, searchledger_command
from searchledger.apps.ledger.verify import verify_ledger
from searchledger.apps.reports.actions import do_publish_transparency_report
from searchledger.apps.systems.actions import SystemDetails, do_create_system
from searchledger.cli import main
from searchledger.core.accesslogs import MappingSpec
from searchledger.core.actor import Actor
from searchledger.core.roles import Role
from searchledger.ledger.checkpoint import Checkpoint as CheckpointBody
from searchledger.ledger.checkpoint import sign_checkpoint
from searchledger.ledger.note import Signer

# Transactional: the backup reads committed data (SQLite's backup API, pg_dump) and the
# restore runs in other processes.
pytestmark = pytest.mark.django_db(transaction=True)

LOG = (
    "user,when,what,query,case\n"
    "alice,2026-03-01T10:00:00Z,search,Q1,C-1\n"
    "bob,2026-03-01T11:00:00Z,view,Q2,\n"
    "alice,2026-03-02T09:30:00Z,search,Q3,C-2\n"
)


@pytest.fixture
def home(tmp_path: Path, settings: Any) -> Path:
    """The deployment's HOME: access-log files and the checkpoint log live here."""
    settings.HOME = tmp_path / "home"
    settings.HOME.mkdir()
    settings.SEARCHLEDGER_CHECKPOINT_LOG = ""
    settings.SEARCHLEDGER_ACCESS_LOG_SYNC = True
    return Path(settings.HOME)


def _officers(admin_actor: Actor, names: list[str]) -> None:
    for name in names:
        do_create_account(
            username=name, role=Role.OFFICER, password=None, actor=admin_actor, reason="test"
        )


@pytest.fixture
def deployment(home: Path, admin_actor: Actor, tmp_path: Path) -> AccessLogImport:
    """Accounts, a system, an imported access log (a Parquet file under HOME) and a
    signed checkpoint, all made through the actions."""
    _officers(admin_actor, ["o1", "o2"])
    do_create_system(
        "mirs",
        SystemDetails(name="MIRS", owner="MVA", kind="face_images", access_method="api"),
        actor=admin_actor,
    )
    do_set_column_mapping(
        "mirs",
        MappingSpec(
            account_column="user",
            timestamp_column="when",
            action_column="what",
            reference_column="query",
            case_ref_column="case",
            search_actions=("search",),
        ),
        actor=admin_actor,
    )
    source = tmp_path / "mirs.csv"
    source.write_text(LOG, encoding="utf-8")
    imported = do_import_access_log("mirs", source, original_name="mirs.csv", actor=admin_actor)
    assert imported.status == "completed", imported.failure
    assert Path(imported.parquet_path).is_file()
    sign_checkpoint_if_grown()
    # The ledger is intact before anything is backed up, so a failure below is the backup's.
    verify_ledger(load_verifier())
    return imported


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def fresh_database(tmp_path: Path) -> Iterator[str]:
    """The DATABASE_URL of an empty database of the same vendor as the test database."""
    settings_dict = dict(connection.settings_dict)
    if connection.vendor == "sqlite":
        settings_dict["NAME"] = str(tmp_path / "restored.sqlite3")
        yield database_url(settings_dict)
        return
    name = f"{settings_dict['NAME']}_restored"
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    settings_dict["NAME"] = name
    yield database_url(settings_dict)
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*searchledger_command(), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_round_trip_restores_a_verified_ledger_and_detects_a_rollback(
    deployment: AccessLogImport,
    admin_actor: Actor,
    home: Path,
    tmp_path: Path,
    fresh_database: str,
) -> None:
    parquet = Path(deployment.parquet_path)
    parquet_hash = _sha256(parquet)
    backup = tmp_path / "backup"
    result = create_backup(backup)
    manifest = json.loads((backup / "manifest.json").read_text())
    checkpoint = manifest["ledger"]["checkpoint"]
    assert manifest["ledger"]["size"] == checkpoint["size"] == result.ledger_size
    assert manifest["database"]["vendor"] == connection.vendor
    relative = f"home/access-logs/mirs/{parquet.name}"
    assert manifest["files"][relative]["sha256"] == parquet_hash
    assert {"keys/ledger-signing.key", "keys/probe-master.key", "checkpoints.log"} <= set(
        manifest["files"]
    )
    assert (backup.stat().st_mode & 0o777) == 0o700
    modes = {p.relative_to(backup): p.stat().st_mode & 0o777 for p in backup.rglob("*")}
    assert {path: mode for path, mode in modes.items() if mode not in {0o600, 0o700}} == {}
    assert modes[Path("home")] == 0o700

    # Life goes on after the backup: more entries and a newer checkpoint, recorded in the
    # checkpoint log outside the database.
    _officers(admin_actor, ["o3"])
    newer = sign_checkpoint_if_grown()
    assert newer.size > checkpoint["size"]
    logged = [json.loads(line) for line in checkpoint_log_path().read_text().splitlines()]
    assert [r["size"] for r in logged][-2:] == [checkpoint["size"], newer.size]

    # The machine is lost: a new one has the same configuration, an empty HOME and an
    # empty database.
    old_home = home.rename(tmp_path / "old-home")
    home.mkdir()
    env = dict(
        os.environ,
        DATABASE_URL=fresh_database,
        SEARCHLEDGER_HOME=str(home),
        SEARCHLEDGER_SIGNING_KEY_FILE=str(home / "ledger-signing.key"),
        SEARCHLEDGER_PROBE_KEY_FILE=str(home / "probe-master.key"),
        SEARCHLEDGER_CHECKPOINT_LOG="",
    )
    done = _run(env, "restore", str(backup))
    assert done.returncode == 0, done.stderr
    assert f"restored: ok: {checkpoint['size']} entries" in done.stdout
    assert _sha256(home / "access-logs" / "mirs" / parquet.name) == parquet_hash
    assert (home / "ledger-signing.key").read_bytes() == (
        Path(django_settings.SEARCHLEDGER_SIGNING_KEY_FILE).read_bytes()
    )
    assert ((home / "ledger-signing.key").stat().st_mode & 0o777) == 0o600

    # The restored ledger verifies against the last checkpoint in the manifest...
    note = tmp_path / "backup-checkpoint.txt"
    note.write_text(checkpoint["note"])
    done = _run(env, "verify", "--checkpoint", str(note))
    assert done.returncode == 0, done.stderr
    assert "consistent with 1 checkpoints from outside the database" in done.stdout
    # ...but not against the newer one the old machine's checkpoint log holds.
    done = _run(env, "verify", "--checkpoint", str(old_home / "checkpoints.log"))
    assert done.returncode == 1
    assert (
        f"the database's ledger has {checkpoint['size']} entries but "
        f"{old_home / 'checkpoints.log'} line {len(logged)} is a checkpoint signed at size "
        f"{newer.size}" in done.stderr
    )

    # The restored database is not empty now: no second restore over it without --force.
    done = _run(env, "restore", str(backup))
    assert done.returncode == 2
    assert "the database is not empty: pass --force to replace it" in done.stderr
    # With --force, a newer checkpoint from outside still stops the old backup...
    newer_note = tmp_path / "newer-checkpoint.txt"
    newer_note.write_text(newer.note)
    done = _run(env, "restore", str(backup), "--force", "--checkpoint", str(newer_note))
    assert done.returncode == 2
    assert (
        f"the backup's ledger has {checkpoint['size']} entries but a checkpoint at size "
        f"{newer.size} was signed after it ({newer_note})" in done.stderr
    )
    assert "pass --accept-rollback" in done.stderr
    # ...unless the rollback is accepted, loudly.
    done = _run(
        env, "restore", str(backup), "--force", "--accept-rollback", "--checkpoint", str(newer_note)
    )
    assert done.returncode == 0, done.stderr
    assert "WARNING: ROLLBACK ACCEPTED" in done.stdout


WRITER = """
import os, sys, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "searchledger.config.settings")
django.setup()
from searchledger.apps.accounts.actions import do_create_account
from searchledger.apps.ledger.checkpoints import sign_checkpoint_if_grown
from searchledger.core.actor import Actor
from searchledger.core.roles import Role
count = 0
while not os.path.exists(sys.argv[1]):
    do_create_account(username=f"w{count}", role=Role.OFFICER, password=None,
                      actor=Actor.system(), reason="load")
    count += 1
    if count % 3 == 0:
        sign_checkpoint_if_grown()
    if count == 5:
        print("writing", flush=True)
print(count, flush=True)
"""


def test_a_backup_taken_while_a_writer_appends_restores_a_consistent_ledger(
    deployment: AccessLogImport, home: Path, tmp_path: Path, fresh_database: str
) -> None:
    env = dict(
        os.environ,
        DATABASE_URL=database_url(connection.settings_dict),
        SEARCHLEDGER_HOME=str(home),
        SEARCHLEDGER_SIGNING_KEY_FILE=str(django_settings.SEARCHLEDGER_SIGNING_KEY_FILE),
        SEARCHLEDGER_CHECKPOINT_LOG="",
    )
    stop = tmp_path / "stop"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(stop)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline() == "writing\n"
        backup = tmp_path / "backup"
        size = create_backup(backup).ledger_size
        # Let the writer go on past the snapshot before stopping it.
        deadline = time.monotonic() + 30
        while get_tree_head()[0] <= size + 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.touch()
        out, _ = writer.communicate(timeout=60)
    assert writer.returncode == 0
    written = int(out.split()[-1])
    final = verify_ledger(load_verifier()).entries
    assert size < final  # the writer went on after the snapshot
    home.rename(tmp_path / "old-home")
    home.mkdir()
    restored = dict(
        env,
        DATABASE_URL=fresh_database,
        SEARCHLEDGER_SIGNING_KEY_FILE=str(home / "ledger-signing.key"),
        SEARCHLEDGER_PROBE_KEY_FILE=str(home / "probe-master.key"),
    )
    done = _run(restored, "restore", str(backup))
    assert done.returncode == 0, done.stderr
    assert f"restored: ok: {size} entries" in done.stdout
    assert written >= 5


def test_restore_refuses_a_backup_older_than_the_checkpoint_log_or_a_published_report(
    deployment: AccessLogImport,
    admin_actor: Actor,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    backup = tmp_path / "backup"
    size = create_backup(backup).ledger_size
    _officers(admin_actor, ["o3"])
    # Publishing a transparency report signs a newer checkpoint and gives it out.
    report = do_publish_transparency_report(
        date(2026, 1, 1), date(2026, 12, 31), 5, agency_title="Agency", actor=admin_actor
    )
    published = tmp_path / "report.csv"
    published.write_text(report.csv_text(), encoding="utf-8")
    assert report.checkpoint_size > size
    # The database is lost but HOME (and its checkpoint log) survive: the old backup is
    # refused before anything is touched, even with --force.
    with pytest.raises(BackupError) as refused:
        restore_backup(backup, force=True)
    assert (
        f"the backup's ledger has {size} entries but a checkpoint at size "
        f"{report.checkpoint_size} was signed after it ({checkpoint_log_path()} line"
    ) in str(refused.value)
    # The checkpoint log is lost too, but the published report is still out there.
    checkpoint_log_path().unlink()
    with pytest.raises(BackupError) as refused:
        restore_backup(backup, force=True, checkpoints=read_checkpoint_file(published))
    assert (
        f"a checkpoint at size {report.checkpoint_size} was signed after it "
        f"({published} (published report))"
    ) in str(refused.value)
    assert verify_ledger(load_verifier()).entries == report.checkpoint_size + 1
    # The live ledger extends the report's checkpoint.
    assert main(["verify", "--checkpoint", str(published)]) == 0
    assert "consistent with 1 checkpoints from outside" in capsys.readouterr().out


def test_a_corrupted_backup_is_refused_naming_the_file(
    deployment: AccessLogImport, tmp_path: Path
) -> None:
    backup = tmp_path / "backup"
    create_backup(backup)
    entries = verify_ledger(load_verifier()).entries
    damaged = backup / "home" / "access-logs" / "mirs" / Path(deployment.parquet_path).name
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0x01
    damaged.write_bytes(bytes(data))
    with pytest.raises(BackupError) as refused:
        restore_backup(backup, force=True)
    assert str(refused.value) == (
        f"{damaged} does not match its SHA-256 in the manifest: the backup is corrupted or was "
        "altered; nothing was restored"
    )
    damaged.unlink()
    with pytest.raises(BackupError, match=re.escape(f"{damaged} is listed in the manifest but")):
        restore_backup(backup, force=True)
    (backup / "extra.txt").write_text("x")
    with pytest.raises(BackupError, match=r"extra\.txt is in the backup but not in its manifest"):
        restore_backup(backup, force=True)
    # Nothing was touched.
    assert verify_ledger(load_verifier()).entries == entries
    assert Path(deployment.parquet_path).is_file()


def test_backup_refuses_a_non_empty_destination_and_can_leave_the_keys_out(
    deployment: AccessLogImport, tmp_path: Path
) -> None:
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "something").write_text("x")
    assert main(["backup", str(taken)]) == 2
    backup = tmp_path / "backup"
    assert main(["backup", str(backup), "--without-keys"]) == 0
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["keys_included"] is False
    assert not [name for name in manifest["files"] if name.startswith("keys/")]
    assert not (backup / "keys").exists()


def test_restore_into_the_same_non_empty_deployment_needs_force(
    deployment: AccessLogImport, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backup = tmp_path / "backup"
    create_backup(backup)
    capsys.readouterr()
    assert main(["restore", str(backup)]) == 2
    assert "the database is not empty: pass --force to replace it" in capsys.readouterr().err
    # A checkpoint from outside that the ledger's key did not sign stops the restore.
    stranger = Signer.generate("test.searchledger.localhost/ledger")
    foreign = tmp_path / "foreign.txt"
    foreign.write_text(
        sign_checkpoint(
            CheckpointBody(origin=stranger.name, size=1, root_hash=b"\x02" * 32), stranger
        )
    )
    assert main(["restore", str(backup), "--force", "--checkpoint", str(foreign)]) == 2
    err = capsys.readouterr().err
    assert f"{foreign} is not a checkpoint signed by the ledger key" in err
    assert err.endswith("; nothing was restored\n")
    # Same ledger, same checkpoint log: --force replaces the database with its own copy.
    assert main(["restore", str(backup), "--force"]) == 0
    out = capsys.readouterr().out
    assert "restored: ok:" in out
    assert "moved aside:" in out  # the access-log directory, kept rather than deleted


@pytest.mark.django_db(transaction=False)  # no backup, nothing read from another connection
def test_verify_checkpoint_accepts_a_note_and_refuses_a_fork_or_a_stranger(
    home: Path, admin_actor: Actor, signing_key: Signer, tmp_path: Path, capsys: Any
) -> None:
    _officers(admin_actor, ["o1"])
    signed = sign_checkpoint_if_grown()
    note = tmp_path / "checkpoint.txt"
    note.write_text(signed.note)
    assert main(["verify", "--checkpoint", str(note)]) == 0
    assert "consistent with 1 checkpoints" in capsys.readouterr().out
    # A checkpoint of the same size with another root, signed by the ledger's own key: the
    # ledger was rewritten after that checkpoint was given out.
    fork = tmp_path / "fork.txt"
    fork.write_text(
        sign_checkpoint(
            CheckpointBody(origin=signing_key.name, size=signed.size, root_hash=b"\x01" * 32),
            signing_key,
        )
    )
    assert main(["verify", "--checkpoint", str(fork)]) == 1
    assert (
        f"the database's first {signed.size} entries do not have the root signed in {fork}"
        in capsys.readouterr().err
    )
    stranger = Signer.generate(signing_key.name)
    other = tmp_path / "other.txt"
    other.write_text(
        sign_checkpoint(
            CheckpointBody(origin=signing_key.name, size=1, root_hash=b"\x02" * 32), stranger
        )
    )
    assert main(["verify", "--checkpoint", str(other)]) == 1
    assert f"{other} is not a checkpoint signed by the ledger key" in capsys.readouterr().err
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    assert main(["verify", "--checkpoint", str(empty)]) == 2
    assert f"{empty} is empty: it holds no checkpoint" in capsys.readouterr().err


@pytest.mark.django_db(transaction=False)  # refused before anything is read
def test_missing_or_old_pg_tools_are_a_clear_error(
    home: Path, admin_actor: Actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("pg_dump is used on PostgreSQL only")
    tools = tmp_path / "bin"
    tools.mkdir()
    # A PATH without the PostgreSQL client tools.
    monkeypatch.setenv("PATH", str(tools))
    assert shutil.which("pg_dump") is None
    with pytest.raises(BackupError, match="pg_dump is not installed"):
        create_backup(tmp_path / "backup")
    assert not (tmp_path / "backup").exists()  # no half-made backup left behind
    # Client tools older than the server (an old pg_dump left on the PATH).
    old = tools / "pg_dump"
    old.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n")
    old.chmod(0o755)
    server = connection.pg_version // 10000  # type: ignore[attr-defined]  # psycopg backend
    with pytest.raises(BackupError) as refused:
        create_backup(tmp_path / "backup2")
    assert str(refused.value) == (
        f"pg_dump is version 9 but the server is version {server}: install the PostgreSQL "
        f"{server} client tools"
    )
