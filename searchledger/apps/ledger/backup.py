"""Backups of a deployment and their restore: ``searchledger backup`` and ``restore``.

A backup is one directory (mode 0700, every file 0600)::

    manifest.json          what is inside: SHA-256 and size of every other file, the
                           ledger's size and root and its latest signed checkpoint at
                           backup time, the database vendor, the tool's version
    database.sqlite3       SQLite: a copy made with SQLite's online backup API
    database.pgdump        PostgreSQL: ``pg_dump --format=custom`` of one snapshot
    home/access-logs/...   the Parquet event files, rejects reports and the upload spool
                           (not ``work/``: DuckDB's scratch files of a running import)
    checkpoints.log        the checkpoint log (every checkpoint signed so far)
    keys/...               secret_key, ledger-signing.key, probe-master.key (unless
                           ``--without-keys``): whoever holds these can sign checkpoints
                           and read probe images, so a backup is stored encrypted/offline

Both dumps are consistent while the app runs: SQLite's backup API copies the database
under one read transaction, and on PostgreSQL the ledger's size, root and the list of
imported files are read in the very snapshot ``pg_dump --snapshot`` dumps. Files under
HOME are copied after the database; an import still running then is not completed in the
copy, so a file it writes is never counted.

``restore`` checks every file against the manifest before touching anything, refuses to
overwrite a non-empty database or HOME without ``force`` (replaced files are moved aside,
never deleted), refuses a backup older than a checkpoint recorded outside the database
(``checkpoint_log``) without ``accept_rollback``, restores, then verifies the restored
ledger against the backup's checkpoint and every checkpoint from outside. Restoring into
another database vendor (SQLite to PostgreSQL or back) is not supported.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings
from django.db import connections, transaction

from searchledger.apps.accesslogs.models import AccessLogImport, ImportStatus
from searchledger.apps.accesslogs.selectors import access_log_root
from searchledger.apps.accounts.models import Account
from searchledger.apps.ledger.checkpoint_log import (
    ExternalCheckpoint,
    check_against,
    checkpoint_log_path,
    open_external,
    read_checkpoint_file,
)
from searchledger.apps.ledger.keys import load_verifier
from searchledger.apps.ledger.models import Checkpoint, LedgerEntry, TreeHead
from searchledger.apps.ledger.verify import (
    VerificationFailure,
    VerificationReport,
    verify_ledger,
)
from searchledger.ledger import merkle
from searchledger.ledger.note import Verifier

__all__ = [
    "BACKUP_FORMAT",
    "MANIFEST",
    "BackupError",
    "BackupResult",
    "RestoreResult",
    "check_backup",
    "create_backup",
    "restore_backup",
]

BACKUP_FORMAT = "searchledger-backup/1"
MANIFEST = "manifest.json"
_SQLITE_FILE = "database.sqlite3"
_PG_FILE = "database.pgdump"
_CHECKPOINT_LOG = "checkpoints.log"
_ACCESS_LOGS = "home/access-logs"
_CHUNK = 1 << 20
# DuckDB's spill files of running imports (access-logs/work/<id>/): scratch, removed after.
_SCRATCH = "work"


class BackupError(Exception):
    """A backup cannot be made or restored; the message says why and names the file."""


# --------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)


def _copy_private(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` (mode 0600), creating private parent directories."""
    _private_dir(target.parent)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with source.open("rb") as reader, os.fdopen(fd, "wb") as writer:
        shutil.copyfileobj(reader, writer, _CHUNK)
        writer.flush()
        os.fsync(writer.fileno())


def _files_under(root: Path) -> Iterator[Path]:
    if root.is_dir():
        yield from sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def _key_files() -> dict[str, Path]:
    """The key files this deployment uses, by their name in the backup."""
    return {
        "keys/secret_key": Path(settings.HOME) / "secret_key",
        "keys/ledger-signing.key": Path(settings.SEARCHLEDGER_SIGNING_KEY_FILE),
        "keys/probe-master.key": Path(settings.SEARCHLEDGER_PROBE_KEY_FILE),
    }


def _tool_version() -> str:
    try:
        return metadata.version("searchledger")
    except metadata.PackageNotFoundError:
        return "unknown"


# --------------------------------------------------------------------------------------
# The database
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Snapshot:
    """What the dumped database held for the ledger and the access logs."""

    size: int
    root: str
    checkpoint: dict[str, Any] | None
    event_files: dict[str, str]  # path -> SHA-256 of each completed import's Parquet file


def _vendor() -> str:
    return str(connections["default"].vendor)


def _sqlite_name() -> Path:
    return Path(str(connections["default"].settings_dict["NAME"]))


def _table(model: Any) -> str:
    return str(model._meta.db_table)


def _snapshot_from_sqlite(path: Path) -> _Snapshot:
    """Read the ledger head, latest checkpoint and completed imports from a backup copy."""
    # Table names come from the models, never from input.
    head_sql = f"SELECT size, root FROM {_table(TreeHead)} WHERE id = 1"  # noqa: S608
    latest_sql = f"SELECT size, root, note FROM {_table(Checkpoint)} ORDER BY size DESC LIMIT 1"  # noqa: S608
    files_sql = (
        f"SELECT parquet_path, parquet_sha256 FROM {_table(AccessLogImport)} "  # noqa: S608
        "WHERE status = ? AND parquet_path != ''"
    )
    con = sqlite3.connect(path)
    try:
        head = con.execute(head_sql).fetchone()
        latest = con.execute(latest_sql).fetchone()
        files = con.execute(files_sql, [ImportStatus.COMPLETED.value]).fetchall()
    finally:
        con.close()
    return _Snapshot(
        size=head[0] if head else 0,
        root=head[1] if head else merkle.EMPTY_ROOT.hex(),
        checkpoint=dict(zip(("size", "root", "note"), latest, strict=True)) if latest else None,
        event_files=dict(files),
    )


def _snapshot_from_orm() -> _Snapshot:
    head = TreeHead.objects.filter(pk=1).first()
    latest = Checkpoint.objects.order_by("-size").first()
    files = (
        AccessLogImport.objects.filter(status=ImportStatus.COMPLETED)
        .exclude(parquet_path="")
        .values_list("parquet_path", "parquet_sha256")
    )
    return _Snapshot(
        size=head.size if head else 0,
        root=head.root if head else merkle.EMPTY_ROOT.hex(),
        checkpoint=(
            {"size": latest.size, "root": latest.root, "note": latest.note} if latest else None
        ),
        event_files=dict(files),
    )


def _dump_sqlite(target: Path) -> tuple[_Snapshot, dict[str, str]]:
    source = _sqlite_name()
    if not source.is_file():
        raise BackupError(f"the SQLite database {source} does not exist")
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    reader = sqlite3.connect(source, timeout=30)
    writer = sqlite3.connect(target)
    try:
        # pages=-1 (the default): the whole database in one step, under one read
        # transaction, so writers running meanwhile cannot make the copy inconsistent.
        reader.backup(writer)
        # One self-contained file: no -wal beside it.
        writer.execute("PRAGMA journal_mode=DELETE")
    finally:
        writer.close()
        reader.close()
    version = sqlite3.sqlite_version
    return _snapshot_from_sqlite(target), {"server_version": version, "dump_tool": "sqlite3"}


def _pg_env() -> dict[str, str]:
    """libpq's environment for the configured database (the password never on argv)."""
    params = connections["default"].settings_dict
    env = dict(os.environ)
    for variable, key in (
        ("PGHOST", "HOST"),
        ("PGPORT", "PORT"),
        ("PGUSER", "USER"),
        ("PGPASSWORD", "PASSWORD"),
        ("PGDATABASE", "NAME"),
    ):
        if params.get(key):
            env[variable] = str(params[key])
    return env


def _pg_tool(name: str) -> tuple[str, int]:
    """The path of ``pg_dump``/``pg_restore`` and its major version."""
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} is not installed: install the PostgreSQL client tools of the server's "
            "version (Debian: apt-get install postgresql-client)"
        )
    output = subprocess.run(  # noqa: S603  # a fixed argument list, no shell
        [path, "--version"], capture_output=True, text=True, check=False
    ).stdout
    found = re.search(r"(\d+)(?:\.\d+)?", output)
    if found is None:
        raise BackupError(f"cannot tell the version of {path} from {output!r}")
    return path, int(found.group(1))


def _server_major() -> int:
    connection = connections["default"]
    connection.ensure_connection()
    return int(connection.pg_version) // 10000  # type: ignore[attr-defined]  # psycopg backend


def _run_pg(command: Sequence[str], what: str) -> None:
    done = subprocess.run(  # noqa: S603  # a fixed argument list, no shell
        list(command), env=_pg_env(), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        message = done.stderr.strip() or f"exit status {done.returncode}"
        hint = ""
        if "version mismatch" in message or "unsupported version" in message:
            hint = (
                " (the client tools must be at least the server's major version, and "
                "pg_restore at least that of the pg_dump that made the file)"
            )
        raise BackupError(f"{what} failed: {message}{hint}")


def _dump_postgresql(target: Path) -> tuple[_Snapshot, dict[str, str]]:
    pg_dump, client = _pg_tool("pg_dump")
    server = _server_major()
    if client < server:
        raise BackupError(
            f"pg_dump is version {client} but the server is version {server}: install "
            f"the PostgreSQL {server} client tools"
        )
    connection = connections["default"]
    if connection.in_atomic_block:
        raise BackupError("a backup runs its own snapshot transaction; call it outside one")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            (snapshot_id,) = cursor.fetchone()
        # Read in the snapshot pg_dump dumps, so the manifest describes the dump exactly.
        snapshot = _snapshot_from_orm()
        _run_pg(
            [
                pg_dump,
                "--format=custom",
                f"--snapshot={snapshot_id}",
                "--no-owner",
                "--no-privileges",
                f"--file={target}",
            ],
            "pg_dump",
        )
    target.chmod(0o600)
    return snapshot, {"server_version": str(server), "dump_tool": f"pg_dump {client}"}


# --------------------------------------------------------------------------------------
# Backup
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BackupResult:
    """What a backup holds."""

    directory: Path
    files: int
    total_bytes: int
    ledger_size: int
    checkpoint_size: int | None
    keys_included: bool

    def summary(self) -> str:
        """A few lines for the command line."""
        checkpoint = (
            f"checkpoint at size {self.checkpoint_size}"
            if self.checkpoint_size is not None
            else "no checkpoint signed yet"
        )
        keys = (
            "keys INCLUDED: store this backup encrypted and offline"
            if self.keys_included
            else "keys not included (--without-keys): keep them backed up separately"
        )
        return (
            f"backed up to {self.directory}: {self.files} files, {self.total_bytes} bytes; "
            f"ledger of {self.ledger_size} entries, {checkpoint}\n{keys}"
        )


def create_backup(destination: Path, *, include_keys: bool = True) -> BackupResult:
    """Back the deployment up into ``destination`` (new, or an empty directory). A backup
    that fails is removed, so no directory without its manifest is left to be mistaken
    for one."""
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise BackupError(f"{destination} exists and is not an empty directory")
    _private_dir(destination)
    try:
        return _write_backup(destination, include_keys)
    except BaseException:
        shutil.rmtree(destination, ignore_errors=True)
        raise


def _write_backup(destination: Path, include_keys: bool) -> BackupResult:
    copied: dict[str, Path] = {}
    # The checkpoint log first: a record is appended only after its checkpoint commits, so
    # every record copied now is in the database dumped next. (Copied after the dump, it
    # could hold a checkpoint the dump lacks, and the restored ledger would look rolled back.)
    log = checkpoint_log_path()
    if log.is_file():
        _copy_private(log, destination / _CHECKPOINT_LOG)
        copied[_CHECKPOINT_LOG] = destination / _CHECKPOINT_LOG
    vendor = _vendor()
    if vendor == "sqlite":
        database_file = _SQLITE_FILE
        snapshot, database = _dump_sqlite(destination / database_file)
    elif vendor == "postgresql":
        database_file = _PG_FILE
        snapshot, database = _dump_postgresql(destination / database_file)
    else:
        raise BackupError(f"backups of a {vendor} database are not supported")

    root = access_log_root()
    for path in _files_under(root):
        if path.relative_to(root).parts[0] == _SCRATCH:
            continue
        name = f"{_ACCESS_LOGS}/{path.relative_to(root).as_posix()}"
        _copy_private(path, destination / name)
        copied[name] = destination / name
    if include_keys:
        for name, path in _key_files().items():
            if path.is_file():
                _copy_private(path, destination / name)
                copied[name] = destination / name

    for directory in (p for p in destination.rglob("*") if p.is_dir()):
        directory.chmod(0o700)  # mkdir(parents=True) leaves intermediate ones to the umask
    files = {database_file: destination / database_file, **copied}
    hashes: dict[str, dict[str, Any]] = {
        name: {"sha256": _sha256(path), "bytes": path.stat().st_size}
        for name, path in sorted(files.items())
    }
    for original, expected in sorted(snapshot.event_files.items()):
        _check_event_file(original, expected, root, hashes)
    manifest = {
        "format": BACKUP_FORMAT,
        "created_at": datetime.now(UTC).isoformat(),
        "tool_version": _tool_version(),
        "database": {"vendor": vendor, "file": database_file, **database},
        "ledger": {"size": snapshot.size, "root": snapshot.root, "checkpoint": snapshot.checkpoint},
        "home": str(Path(settings.HOME)),
        "access_log_root": str(root),
        "keys_included": include_keys,
        "files": hashes,
    }
    fd = os.open(destination / MANIFEST, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=2, sort_keys=True)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    checkpoint = snapshot.checkpoint
    return BackupResult(
        directory=destination,
        files=len(hashes) + 1,
        total_bytes=sum(int(h["bytes"]) for h in hashes.values())
        + (destination / MANIFEST).stat().st_size,
        ledger_size=snapshot.size,
        checkpoint_size=int(checkpoint["size"]) if checkpoint else None,
        keys_included=include_keys,
    )


def _check_event_file(
    original: str, expected: str, root: Path, hashes: dict[str, dict[str, Any]]
) -> None:
    """A completed import's Parquet file must be in the backup with the hash the database
    (and the ledger) recorded for it."""
    try:
        relative = Path(original).relative_to(root).as_posix()
    except ValueError as exc:
        raise BackupError(
            f"the event file {original} of a completed import is outside {root}"
        ) from exc
    found = hashes.get(f"{_ACCESS_LOGS}/{relative}")
    if found is None:
        raise BackupError(f"the event file {original} of a completed import is missing")
    if found["sha256"] != expected:
        raise BackupError(
            f"the event file {original} has SHA-256 {found['sha256']} but its import "
            f"recorded {expected}: the file was changed after the import"
        )


# --------------------------------------------------------------------------------------
# Checking a backup
# --------------------------------------------------------------------------------------


def _safe_name(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return bool(parts) and not PurePosixPath(name).is_absolute() and ".." not in parts


def check_backup(source: Path) -> dict[str, Any]:
    """Read the manifest and check every file against it; return the manifest. Raises
    :class:`BackupError` naming the first file that is missing, extra or changed."""
    try:
        manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BackupError(f"{source} is not a backup: it has no {MANIFEST}") from exc
    except (OSError, ValueError) as exc:
        raise BackupError(f"{source / MANIFEST} cannot be read: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != BACKUP_FORMAT:
        raise BackupError(f"{source / MANIFEST} is not a {BACKUP_FORMAT} manifest")
    listed: dict[str, dict[str, Any]] = manifest["files"]
    for name in listed:
        if not _safe_name(name):
            raise BackupError(f"{source / MANIFEST} names an unsafe path {name!r}")
    present = {p.relative_to(source).as_posix() for p in _files_under(source)} - {MANIFEST}
    for name in sorted(present - set(listed)):
        raise BackupError(f"{source / name} is in the backup but not in its manifest")
    for name, expected in sorted(listed.items()):
        path = source / name
        if not path.is_file():
            raise BackupError(f"{path} is listed in the manifest but missing")
        if path.stat().st_size != expected["bytes"] or _sha256(path) != expected["sha256"]:
            raise BackupError(
                f"{path} does not match its SHA-256 in the manifest: the backup is "
                "corrupted or was altered; nothing was restored"
            )
    return dict(manifest)


# --------------------------------------------------------------------------------------
# Restore
# --------------------------------------------------------------------------------------


@dataclass
class RestoreResult:
    """What a restore did and what verification found."""

    ledger: VerificationReport
    external_checked: int
    moved_aside: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """Lines for the command line."""
        lines = [
            f"restored: {self.ledger.summary()}",
            f"consistent with {self.external_checked} checkpoints from the backup and from "
            "outside the database",
        ]
        lines += [f"moved aside: {path}" for path in self.moved_aside]
        lines += [f"WARNING: {warning}" for warning in self.warnings]
        lines.append("next: `searchledger manage migrate` if this version is newer than the backup")
        return "\n".join(lines)


def _database_has_data() -> bool:
    connection = connections["default"]
    if _table(LedgerEntry) not in connection.introspection.table_names():
        return False
    return LedgerEntry.objects.exists() or Account.objects.exists()


def _home_conflicts(manifest: dict[str, Any]) -> list[Path]:
    """Files of the target that the restore would replace."""
    conflicts = list(_files_under(access_log_root()))
    for name, path in _key_files().items():
        replaced = name in manifest["files"] and path.is_file()
        if replaced and _sha256(path) != manifest["files"][name]["sha256"]:
            conflicts.append(path)
    return conflicts


def _move_aside(path: Path, stamp: str) -> Path:
    aside = path.with_name(f"{path.name}.replaced-{stamp}")
    path.rename(aside)
    return aside


def _verifier(source: Path, manifest: dict[str, Any]) -> Verifier:
    name = "keys/ledger-signing.key"
    if name in manifest["files"]:
        return load_verifier(source / name)
    return load_verifier()


def _outside_checkpoints(extra: Sequence[ExternalCheckpoint]) -> list[ExternalCheckpoint]:
    log = checkpoint_log_path()
    found = read_checkpoint_file(log) if log.is_file() and log.stat().st_size else []
    return [*found, *extra]


def _refuse_rollback(
    manifest: dict[str, Any],
    outside: Sequence[ExternalCheckpoint],
    verifier: Verifier,
    accept_rollback: bool,
) -> tuple[list[ExternalCheckpoint], list[str]]:
    """Split the outside checkpoints into those the backup must agree with and warnings;
    refuse a backup older than one of them unless ``accept_rollback``."""
    size = int(manifest["ledger"]["size"])
    root = str(manifest["ledger"]["root"])
    newer: list[tuple[int, str]] = []
    within = []
    for checkpoint in outside:
        try:
            body = open_external(checkpoint, verifier)
        except VerificationFailure as exc:
            raise BackupError(f"{exc.message}; nothing was restored") from exc
        if body.size > size:
            newer.append((body.size, checkpoint.source))
        elif body.size == size and body.root_hash.hex() != root:
            raise BackupError(
                f"the backup's ledger ({size} entries, root {root}) differs from the checkpoint "
                f"of the same size in {checkpoint.source}: it is not this deployment's ledger"
            )
        else:
            within.append(checkpoint)
    if not newer:
        return within, []
    largest, where = max(newer)
    message = (
        f"the backup's ledger has {size} entries but a checkpoint at size {largest} was "
        f"signed after it ({where}): restoring it loses entries {size} to {largest - 1}, "
        "which witnesses and published reports may already hold"
    )
    if not accept_rollback:
        raise BackupError(
            f"{message}. Restore a newer backup; only if none exists, pass --accept-rollback"
        )
    return within, [f"ROLLBACK ACCEPTED: {message}"]


def _restore_sqlite(path: Path) -> None:
    target = _sqlite_name()
    connections["default"].close()
    target.parent.mkdir(parents=True, exist_ok=True)
    reader = sqlite3.connect(path)
    writer = sqlite3.connect(target, timeout=30)
    try:
        # Through SQLite, not a file copy: a -wal file beside the target stays consistent.
        reader.backup(writer)
    finally:
        writer.close()
        reader.close()


def _restore_postgresql(path: Path) -> None:
    pg_restore, _ = _pg_tool("pg_restore")
    connection = connections["default"]
    name = str(connection.settings_dict["NAME"])
    connection.close()
    _run_pg(
        [
            pg_restore,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={name}",
            str(path),
        ],
        "pg_restore",
    )


def _restore_home(source: Path, manifest: dict[str, Any], stamp: str) -> list[Path]:
    moved: list[Path] = []
    root = access_log_root()
    if any(_files_under(root)):
        moved.append(_move_aside(root, stamp))
    keys = _key_files()
    for name in sorted(manifest["files"]):
        if name.startswith(_ACCESS_LOGS + "/"):
            _copy_private(source / name, root / name[len(_ACCESS_LOGS) + 1 :])
        elif name in keys:
            target = keys[name]
            if target.is_file():
                if _sha256(target) == manifest["files"][name]["sha256"]:
                    continue
                moved.append(_move_aside(target, stamp))
            _copy_private(source / name, target)
    _merge_checkpoint_log(source / _CHECKPOINT_LOG)
    return moved


def _merge_checkpoint_log(backup_log: Path) -> None:
    """Add the backup's checkpoint records the target's log lacks; never drop a record
    (the target's log may hold checkpoints newer than the backup)."""
    if not backup_log.is_file():
        return
    log = checkpoint_log_path()
    have = set(log.read_text(encoding="utf-8").splitlines()) if log.is_file() else set()
    missing = [
        line for line in backup_log.read_text(encoding="utf-8").splitlines() if line not in have
    ]
    if missing:
        log.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            handle.write("".join(line + "\n" for line in missing))
            handle.flush()
            os.fsync(handle.fileno())


def _refuse_moved_home(manifest: dict[str, Any]) -> None:
    """The database names the imports' files by absolute path, and those paths are
    committed in the ledger (``verify`` checks them), so the files must come back where
    they were: refuse to restore them under another HOME."""
    old, new = str(manifest["access_log_root"]), str(access_log_root())
    has_files = any(name.startswith(_ACCESS_LOGS + "/") for name in manifest["files"])
    if has_files and old != new:
        raise BackupError(
            f"the backup's access-log files were in {old} and the database names them there, "
            f"but this deployment keeps them in {new}: set SEARCHLEDGER_HOME to "
            f"{manifest['home']} (on the new machine too) and restore again"
        )


def restore_backup(
    source: Path,
    *,
    force: bool = False,
    accept_rollback: bool = False,
    checkpoints: Sequence[ExternalCheckpoint] = (),
) -> RestoreResult:
    """Restore the backup in ``source`` into the configured database and HOME, then verify.

    Raises :class:`BackupError` before changing anything when the backup is damaged, of
    another database vendor, older than a checkpoint recorded outside the database
    (unless ``accept_rollback``), or the target is not empty (unless ``force``); raises
    :class:`VerificationFailure` when the restored ledger does not verify.
    """
    manifest = check_backup(source)
    vendor = manifest["database"]["vendor"]
    if vendor != _vendor():
        raise BackupError(
            f"the backup is of a {vendor} database and this deployment uses {_vendor()}: "
            "restoring across database vendors is not supported"
        )
    _refuse_moved_home(manifest)
    verifier = _verifier(source, manifest)
    within, warnings = _refuse_rollback(
        manifest, _outside_checkpoints(checkpoints), verifier, accept_rollback
    )
    if not force:
        if _database_has_data():
            raise BackupError("the database is not empty: pass --force to replace it")
        conflicts = _home_conflicts(manifest)
        if conflicts:
            raise BackupError(
                f"{conflicts[0]} would be replaced ({len(conflicts)} files in HOME): pass "
                "--force to move them aside and restore"
            )
    if not manifest["keys_included"]:
        warnings.append(
            "the backup holds no keys (--without-keys): the existing key files are kept"
        )
    database = source / manifest["database"]["file"]
    if vendor == "sqlite":
        _restore_sqlite(database)
    else:
        _restore_postgresql(database)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    moved = _restore_home(source, manifest, stamp)

    report = verify_ledger(verifier)
    own = manifest["ledger"]["checkpoint"]
    from_backup = (
        [ExternalCheckpoint(note=own["note"], source=f"{source / MANIFEST} (backup checkpoint)")]
        if own
        else []
    )
    own_log = source / _CHECKPOINT_LOG
    if own_log.is_file() and own_log.stat().st_size:
        from_backup += read_checkpoint_file(own_log)
    checked = check_against(report, [*from_backup, *within], verifier)
    if report.entries != int(manifest["ledger"]["size"]):
        raise VerificationFailure(
            None,
            f"the restored ledger has {report.entries} entries but the manifest says "
            f"{manifest['ledger']['size']}",
        )
    return RestoreResult(
        ledger=report, external_checked=checked, moved_aside=moved, warnings=warnings
    )
