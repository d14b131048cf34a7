"""The only writers of column mappings, access-log imports and external accounts.

An import has three moments, each its own transaction with its own ledger entry:

1. **start** (:func:`do_start_access_log_import`): the file's SHA-256 and size are computed
   (streaming), a file already imported into the same system is refused with the earlier
   import named, and the import is recorded as ``running`` with ``RECON_LOG_IMPORT_STARTED``
   (the hash, size, mapping version and strict flag in clear, the file name as a
   commitment);
2. **run** (:func:`do_run_access_log_import`): DuckDB reads, checks and de-duplicates the
   file outside any transaction (``accesslogs.engine``) while the import's progress is
   updated;
3. **finish**: ``RECON_LOG_IMPORTED`` with every count, the period, and the SHA-256 of the
   event Parquet file and of the rejects report, together with the external accounts seen;
   or ``RECON_LOG_IMPORT_FAILED`` with the reason and the counts.

Only a ``completed`` import counts (selectors return only those), so an import that failed
or was interrupted (the process killed while ``running``) can be run again under the same
id (:func:`do_resume_access_log_import`) without its events ever counting twice.

Progress (phase, percent, heartbeat) is written outside actions and is not ledgered: it
describes a running process, not the agency's records (like a session or ``last_login``).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from searchledger.apps.accesslogs import engine
from searchledger.apps.accesslogs.models import (
    AccessLogImport,
    ColumnMapping,
    ExternalAccount,
    ImportStatus,
    RejectedRow,
)
from searchledger.apps.accesslogs.selectors import access_log_root, current_mapping
from searchledger.apps.accounts.models import Account
from searchledger.apps.authz import require
from searchledger.apps.ledger import tracking, writer
from searchledger.apps.systems.models import ExternalSystem
from searchledger.core.accesslogs import MappingError, MappingSpec, sanitise_filename
from searchledger.core.actor import Actor
from searchledger.core.roles import Permission
from searchledger.ledger.events import LedgerEventType

__all__ = [
    "DEFAULT_STALE_SECONDS",
    "Progress",
    "do_import_access_log",
    "do_map_external_account",
    "do_map_external_accounts",
    "do_reopen_access_log_import",
    "do_resume_access_log_import",
    "do_run_access_log_import",
    "do_set_column_mapping",
    "do_start_access_log_import",
    "do_unmap_external_account",
    "event_file_paths",
    "may_resume",
]

Progress = Callable[[str, float], None]

DEFAULT_STALE_SECONDS = 900
"""A ``running`` import without progress for this long (setting
``SEARCHLEDGER_IMPORT_STALE_SECONDS``) was interrupted and may be resumed."""

_IMPORT = "accesslogs.accesslogimport"
_MAPPING = "accesslogs.columnmapping"
_EXTERNAL = "accesslogs.externalaccount"
_IN_CHUNKS = 500  # rows per IN (...) query: SQLite's variable limit


def _system(code: str) -> ExternalSystem:
    system = ExternalSystem.objects.filter(code=code).first()
    if system is None:
        raise ValidationError({"system": f"no system with code {code!r}"})
    return system


def _account_or_none(actor: Actor) -> int | None:
    """The actor's account id for a foreign key (the system actor has none)."""
    return None if actor.is_system else actor.account_id


# --------------------------------------------------------------------------- mappings


@transaction.atomic
def do_set_column_mapping(system_code: str, spec: MappingSpec, *, actor: Actor) -> ColumnMapping:
    """Make ``spec`` the system's column mapping, as a new version with a
    ``RECON_MAPPING_SET`` entry (every setting in clear: column names are not personal).
    A mapping equal to the current one is returned unchanged, with no new version."""
    require(actor, Permission.IMPORT_ACCESS_LOGS)
    system = _system(system_code)
    try:
        spec.validate()
    except MappingError as exc:
        raise ValidationError(exc.errors) from exc
    writer.lock_head()  # serialises version numbers
    latest = current_mapping(system.pk)
    if latest is not None and latest.spec() == spec:
        return latest
    mapping = ColumnMapping(
        system=system,
        version=(latest.version + 1) if latest else 1,
        format=str(spec.format),
        delimiter=spec.delimiter,
        encoding=spec.encoding,
        account_column=spec.account_column,
        timestamp_column=spec.timestamp_column,
        action_column=spec.action_column,
        reference_column=spec.reference_column,
        case_ref_column=spec.case_ref_column,
        timestamp_format=spec.timestamp_format,
        naive_timezone=spec.naive_timezone,
        search_actions=list(spec.search_actions),
        system_column=spec.system_column,
        system_value=spec.system_value,
        created_at=timezone.now(),
        created_by_id=_account_or_none(actor),
    )
    mapping.save(force_insert=True)
    writer.append(
        LedgerEventType.RECON_MAPPING_SET,
        object_type=_MAPPING,
        object_id=mapping.pk,
        actor=actor,
        data={"system": system.code, "version": mapping.version, "mapping": spec.as_json()},
    )
    return mapping


# --------------------------------------------------------------------------- imports


def _stale_after() -> timedelta:
    return timedelta(
        seconds=int(getattr(settings, "SEARCHLEDGER_IMPORT_STALE_SECONDS", DEFAULT_STALE_SECONDS))
    )


def _when(moment: Any) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z") if moment else "?"


def _refuse_duplicate(system: ExternalSystem, sha256: str, exclude: int | None = None) -> None:
    """Refuse a file already imported (or being imported) into the same system."""
    earlier = AccessLogImport.objects.filter(system=system, sha256=sha256).exclude(
        status=ImportStatus.FAILED
    )
    if exclude is not None:
        earlier = earlier.exclude(pk=exclude)
    found = earlier.order_by("started_at").first()
    if found is None:
        return
    if found.status == ImportStatus.COMPLETED:
        raise ValidationError(
            {
                "file": (
                    f"this file (SHA-256 {sha256[:16]}…) was already imported into "
                    f"{system.code} as import {found.pk} on {_when(found.finished_at)}; the "
                    "same file is never imported twice"
                )
            }
        )
    raise ValidationError(
        {
            "file": (
                f"this file (SHA-256 {sha256[:16]}…) is already being imported into "
                f"{system.code} as import {found.pk} (started {_when(found.started_at)}); "
                "resume that import if it was interrupted"
            )
        }
    )


def _refuse_concurrent(system: ExternalSystem, exclude: int | None = None) -> None:
    """One import per system at a time, so that each one's de-duplication against the
    earlier imports sees them all."""
    fresh = timezone.now() - _stale_after()
    running = (
        AccessLogImport.objects.filter(
            system=system, status=ImportStatus.RUNNING, heartbeat_at__gte=fresh
        )
        .exclude(pk=exclude or 0)
        .first()
    )
    if running is not None:
        raise ValidationError(
            {
                "file": (
                    f"import {running.pk} of {system.code} is running (last progress "
                    f"{_when(running.heartbeat_at)}); wait for it to finish"
                )
            }
        )


def do_start_access_log_import(
    system_code: str,
    path: Path,
    *,
    original_name: str,
    strict: bool = False,
    actor: Actor,
) -> AccessLogImport:
    """Record the start of an import of the file at ``path`` into the system (see the
    module docstring); refuse a file already imported into it. The file is hashed before
    the transaction, so the ledger is not held while a large file is read."""
    require(actor, Permission.IMPORT_ACCESS_LOGS)
    system = _system(system_code)
    mapping = current_mapping(system.pk)
    if mapping is None:
        raise ValidationError(
            {
                "mapping": (
                    f"{system.code} has no column mapping yet; set one first (the mapping "
                    "page, or --mapping FILE on the command line)"
                )
            }
        )
    try:
        size = path.stat().st_size
        sha256 = engine.sha256_of(path)
    except OSError as exc:
        raise ValidationError({"file": f"cannot read {path.name}: {exc.strerror}"}) from exc
    with transaction.atomic():
        writer.lock_head()  # two uploads of one file cannot both pass the check below
        _refuse_duplicate(system, sha256)
        _refuse_concurrent(system)
        now = timezone.now()
        log_import = AccessLogImport(
            system=system,
            mapping=mapping,
            original_name=sanitise_filename(original_name),
            source_path=str(path.resolve()),
            size=size,
            sha256=sha256,
            status=ImportStatus.RUNNING,
            strict=strict,
            phase="queued",
            heartbeat_at=now,
            started_at=now,
            started_by_id=_account_or_none(actor),
        )
        log_import.save(force_insert=True)
        _append_started(log_import, actor)
    return log_import


def _append_started(log_import: AccessLogImport, actor: Actor) -> None:
    writer.append(
        LedgerEventType.RECON_LOG_IMPORT_STARTED,
        object_type=_IMPORT,
        object_id=log_import.pk,
        actor=actor,
        data={
            "system": log_import.system.code,
            "sha256": log_import.sha256,
            "size": log_import.size,
            "mapping_version": log_import.mapping.version,
            "strict": log_import.strict,
            "attempt": log_import.attempts,
        },
        personal={"filename": log_import.original_name},
    )


@transaction.atomic
def do_reopen_access_log_import(import_id: int, *, actor: Actor) -> AccessLogImport:
    """Make a failed or interrupted import ``running`` again (same id, attempt + 1, earlier
    rejected rows cleared, the system's *current* column mapping: fixing the mapping is the
    usual reason to retry), with a new ``RECON_LOG_IMPORT_STARTED`` entry. A completed
    import, or one still making progress, is refused."""
    require(actor, Permission.IMPORT_ACCESS_LOGS)
    writer.lock_head()
    log_import = (
        # of=("self",): the import only, not its system and mapping rows (a search request
        # checks its foreign key to the system at COMMIT, after taking the ledger head).
        AccessLogImport.objects.select_for_update(of=("self",))
        .select_related("system", "mapping")
        .filter(pk=import_id)
        .first()
    )
    if log_import is None:
        raise ValidationError({"import": f"no access-log import with id {import_id}"})
    if log_import.status == ImportStatus.COMPLETED:
        raise ValidationError({"import": f"import {import_id} is already completed"})
    if (
        log_import.status == ImportStatus.RUNNING
        and log_import.heartbeat_at is not None
        and log_import.heartbeat_at >= timezone.now() - _stale_after()
    ):
        raise ValidationError(
            {
                "import": (
                    f"import {import_id} is running (last progress "
                    f"{_when(log_import.heartbeat_at)}); it can be resumed once it has "
                    "made no progress for "
                    f"{int(_stale_after().total_seconds()) // 60} minutes"
                )
            }
        )
    _refuse_duplicate(log_import.system, log_import.sha256, exclude=log_import.pk)
    _refuse_concurrent(log_import.system, exclude=log_import.pk)
    log_import.rejected_rows.all().delete()
    log_import.mapping = current_mapping(log_import.system_id) or log_import.mapping
    log_import.status = ImportStatus.RUNNING
    log_import.attempts += 1
    log_import.failure = ""
    log_import.phase = "queued"
    log_import.percent = 0.0
    log_import.heartbeat_at = timezone.now()
    log_import.finished_at = None
    log_import.save()
    _append_started(log_import, actor)
    return log_import


def may_resume(log_import: AccessLogImport) -> bool:
    """Whether an import can be resumed now: it failed, or it is ``running`` but has made
    no progress for ``SEARCHLEDGER_IMPORT_STALE_SECONDS`` (it was interrupted)."""
    if log_import.status == ImportStatus.FAILED:
        return True
    if log_import.status != ImportStatus.RUNNING:
        return False
    return (
        log_import.heartbeat_at is None or log_import.heartbeat_at < timezone.now() - _stale_after()
    )


def event_file_paths(log_import: AccessLogImport) -> tuple[Path, Path]:
    """Where an import's event Parquet file and rejects CSV go:
    ``$SEARCHLEDGER_HOME/access-logs/<system>/<import id>-<sha256[:16]>.{parquet,rejects.csv}``."""
    directory = access_log_root() / log_import.system.code
    stem = f"{log_import.pk}-{log_import.sha256[:16]}"
    return directory / f"{stem}.parquet", directory / f"{stem}.rejects.csv"


class _ConcurrentImport(Exception):
    """Another import of the same system completed while this one ran."""


class _Tracker:
    """Writes an import's progress (at most once a second, and at each new phase) and
    passes it on to the caller's callback."""

    def __init__(self, import_id: int, callback: Progress | None) -> None:
        self.import_id = import_id
        self.callback = callback
        self.phase = ""
        self.written = 0.0

    def __call__(self, phase: str, percent: float) -> None:
        now = time.monotonic()
        if phase != self.phase or now - self.written >= 1.0:
            AccessLogImport.objects.filter(pk=self.import_id).update(
                phase=phase[:60], percent=round(percent, 1), heartbeat_at=timezone.now()
            )
            self.phase = phase
            self.written = now
        if self.callback is not None:
            self.callback(phase, percent)


def do_run_access_log_import(
    import_id: int, *, actor: Actor, progress: Progress | None = None
) -> AccessLogImport:
    """Read a ``running`` import's file and finish the import: ``completed`` with
    ``RECON_LOG_IMPORTED``, or ``failed`` with ``RECON_LOG_IMPORT_FAILED`` and the reason
    (returned on the import, not raised). An unexpected error also fails the import and is
    then raised; an interruption (KeyboardInterrupt, the process killed) leaves it
    ``running``, to be resumed."""
    require(actor, Permission.IMPORT_ACCESS_LOGS)
    log_import = (
        AccessLogImport.objects.select_related("system", "mapping").filter(pk=import_id).first()
    )
    if log_import is None:
        raise ValidationError({"import": f"no access-log import with id {import_id}"})
    if log_import.status != ImportStatus.RUNNING:
        raise ValidationError({"import": f"import {import_id} is {log_import.status}"})
    tracker = _Tracker(log_import.pk, progress)
    spec = log_import.mapping.spec()
    source = Path(log_import.source_path)
    parquet_path, rejects_path = event_file_paths(log_import)
    work = access_log_root() / "work" / str(log_import.pk)
    earlier = list(
        AccessLogImport.objects.filter(system=log_import.system, status=ImportStatus.COMPLETED)
        .exclude(parquet_path="")
        .order_by("pk")
        .values_list("pk", "parquet_path")
    )
    try:
        tracker("checking the file", 0.0)
        try:
            check = engine.check_file(source, spec, system=log_import.system.code, progress=tracker)
        except FileNotFoundError:
            raise engine.LogFileError(
                "missing",
                f"the file is no longer at {source}; import it again from a copy",
            ) from None
        if check.sha256 != log_import.sha256:
            raise engine.LogFileError(
                "changed",
                "the file has changed since the import began (its SHA-256 differs); import "
                "the new file as a new import",
            )
        parquet_path.parent.mkdir(parents=True, exist_ok=True)
        result = engine.run(
            source,
            spec,
            check,
            parquet_path=parquet_path,
            rejects_path=rejects_path,
            earlier=[Path(p) for _, p in earlier],
            strict=log_import.strict,
            work_dir=work,
            progress=tracker,
            threads=getattr(settings, "SEARCHLEDGER_IMPORT_THREADS", None),
            memory_limit=str(getattr(settings, "SEARCHLEDGER_IMPORT_MEMORY_LIMIT", "2GB")),
        )
    except engine.LogFileError as exc:
        _discard_files(log_import)
        return _fail(log_import.pk, exc.code, str(exc), None, actor)
    except Exception as exc:
        _discard_files(log_import)
        _fail(log_import.pk, "error", f"the import stopped on an error: {exc}", None, actor)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if log_import.strict and result.rejected:
        _discard_files(log_import, keep_rejects=True)  # the failure records the report
        n = result.rejected
        return _fail(
            log_import.pk,
            "strict",
            f"strict mode: {n} row{'' if n == 1 else 's'} rejected, so nothing was imported; "
            "fix the rows listed in the report or import without strict mode",
            result,
            actor,
        )
    tracker("recording", 95.0)
    try:
        completed = _complete(log_import.pk, result, [pk for pk, _ in earlier], actor)
    except _ConcurrentImport:
        _discard_files(log_import)
        return _fail(
            log_import.pk,
            "concurrent",
            "another import of this system completed while this one ran, so its events were "
            "not compared with this file's; resume this import",
            None,
            actor,
        )
    if completed.status == ImportStatus.COMPLETED and source.parent == _spool():
        # The web upload's copy: everything read from it is in the event file and the
        # rejects report, and its SHA-256 is on the ledger; the agency keeps its original.
        source.unlink(missing_ok=True)
    if progress is not None:
        progress("completed", 100.0)
    return completed


def _discard_files(log_import: AccessLogImport, *, keep_rejects: bool = False) -> None:
    """Remove the event file, the rejects report (unless the failure records it) and the
    temporary files of an attempt that will not complete, this one's or those an
    interrupted earlier attempt left (a process killed after writing the event file but
    before recording the import). Nobody reads them (only completed imports count), but
    left behind they would lie in the event store belonging to no import."""
    parquet_path, rejects_path = event_file_paths(log_import)
    doomed = [parquet_path, engine.temporary_path(parquet_path)]
    doomed.append(engine.temporary_path(rejects_path))
    if not keep_rejects:
        doomed.append(rejects_path)
    for path in doomed:
        path.unlink(missing_ok=True)


def _spool() -> Path:
    """Where the web app keeps uploads until they are imported."""
    return access_log_root() / "spool"


def _counts(result: engine.RunResult) -> dict[str, Any]:
    return {
        "records_read": result.records_read,
        "valid_events": result.valid_events,
        "searches": result.searches,
        "rejected": result.rejected,
        "duplicates_in_file": result.duplicates_in_file,
        "duplicates_earlier": result.duplicates_earlier,
        "formula_cells": result.formula_cells,
    }


def _store_result(log_import: AccessLogImport, result: engine.RunResult) -> None:
    for name, value in _counts(result).items():
        setattr(log_import, name, value)
    log_import.first_event_at = result.first_event_at
    log_import.last_event_at = result.last_event_at
    log_import.reject_reasons = result.reject_reasons
    log_import.rejects_path = str(result.rejects_path or "")
    log_import.rejects_sha256 = result.rejects_sha256
    RejectedRow.objects.bulk_create(
        [
            RejectedRow(log_import=log_import, record=record, line=line, reason=reason[:300])
            for record, line, reason in result.sample
        ]
    )
    # bulk_create sends no signals: the entry that follows commits to the sample.
    tracking.mark_pks(RejectedRow, [log_import.pk])


def _locked_running(import_id: int) -> AccessLogImport:
    log_import = (
        # of=("self",): the import only, not its system and mapping rows (a search request
        # checks its foreign key to the system at COMMIT, after taking the ledger head).
        AccessLogImport.objects.select_for_update(of=("self",))
        .select_related("system", "mapping")
        .get(pk=import_id)
    )
    if log_import.status != ImportStatus.RUNNING:
        raise ValidationError({"import": f"import {import_id} is no longer running"})
    return log_import


@transaction.atomic
def _fail(
    import_id: int,
    code: str,
    message: str,
    result: engine.RunResult | None,
    actor: Actor,
) -> AccessLogImport:
    """Record a failed import with ``RECON_LOG_IMPORT_FAILED``."""
    writer.lock_head()
    log_import = _locked_running(import_id)
    log_import.status = ImportStatus.FAILED
    log_import.failure = message
    log_import.phase = "failed"
    log_import.finished_at = timezone.now()
    log_import.parquet_path = ""
    log_import.parquet_sha256 = ""
    data: dict[str, Any] = {
        "system": log_import.system.code,
        "sha256": log_import.sha256,
        "reason": code,
        "attempt": log_import.attempts,
    }
    if result is not None:
        _store_result(log_import, result)
        data.update(
            _counts(result),
            reject_reasons=result.reject_reasons,
            rejects_sha256=result.rejects_sha256,
        )
    log_import.save()
    writer.append(
        LedgerEventType.RECON_LOG_IMPORT_FAILED,
        object_type=_IMPORT,
        object_id=log_import.pk,
        actor=actor,
        data=data,
        personal={"failure": message},
    )
    return log_import


@transaction.atomic
def _complete(
    import_id: int, result: engine.RunResult, earlier: list[int], actor: Actor
) -> AccessLogImport:
    """Record a completed import, its external accounts and ``RECON_LOG_IMPORTED``."""
    writer.lock_head()
    log_import = _locked_running(import_id)
    now_completed = list(
        AccessLogImport.objects.filter(system=log_import.system, status=ImportStatus.COMPLETED)
        .exclude(parquet_path="")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if now_completed != earlier:
        # Another import of the system completed while this one ran: its events were not
        # compared with this file's. Nothing is written; the caller fails the import.
        raise _ConcurrentImport
    _store_result(log_import, result)
    log_import.status = ImportStatus.COMPLETED
    log_import.phase = "completed"
    log_import.percent = 100.0
    log_import.finished_at = timezone.now()
    log_import.parquet_path = str(result.parquet_path or "")
    log_import.parquet_sha256 = result.parquet_sha256
    log_import.save()
    _record_accounts(log_import.system, result.accounts)
    writer.append(
        LedgerEventType.RECON_LOG_IMPORTED,
        object_type=_IMPORT,
        object_id=log_import.pk,
        actor=actor,
        data={
            "system": log_import.system.code,
            "sha256": log_import.sha256,
            "attempt": log_import.attempts,
            **_counts(result),
            "reject_reasons": result.reject_reasons,
            "first_event_at": _iso(result.first_event_at),
            "last_event_at": _iso(result.last_event_at),
            "accounts": len(result.accounts),
            "parquet_sha256": result.parquet_sha256,
            "rejects_sha256": result.rejects_sha256,
        },
    )
    return log_import


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None


def _record_accounts(system: ExternalSystem, seen: list[engine.AccountSummary]) -> None:
    """Add an import's new events to the system's external accounts (creating those seen
    for the first time)."""
    for start in range(0, len(seen), _IN_CHUNKS):
        chunk = seen[start : start + _IN_CHUNKS]
        existing = {
            a.external_id: a
            for a in ExternalAccount.objects.select_for_update().filter(
                system=system, external_id__in=[s.external_id for s in chunk]
            )
        }
        new: list[ExternalAccount] = []
        changed: list[ExternalAccount] = []
        for summary in chunk:
            found = existing.get(summary.external_id)
            if found is None:
                new.append(
                    ExternalAccount(
                        system=system,
                        external_id=summary.external_id,
                        first_seen=summary.first_seen,
                        last_seen=summary.last_seen,
                        events=summary.events,
                        searches=summary.searches,
                    )
                )
                continue
            found.first_seen = min(found.first_seen, summary.first_seen)
            found.last_seen = max(found.last_seen, summary.last_seen)
            found.events += summary.events
            found.searches += summary.searches
            changed.append(found)
        ExternalAccount.objects.bulk_create(new)
        ExternalAccount.objects.bulk_update(
            changed, ["first_seen", "last_seen", "events", "searches"]
        )
        # Bulk writes send no signals: the entry that follows commits to these rows.
        tracking.mark([*new, *changed])


def do_import_access_log(
    system_code: str,
    path: Path,
    *,
    original_name: str,
    strict: bool = False,
    actor: Actor,
    progress: Progress | None = None,
) -> AccessLogImport:
    """Start and run an import of the file at ``path`` (CLI, tests, the web app's
    synchronous mode). Returns the import, ``completed`` or ``failed`` (see ``failure``);
    a file already imported, or a system without a mapping, raises ValidationError and
    writes nothing."""
    started = do_start_access_log_import(
        system_code, path, original_name=original_name, strict=strict, actor=actor
    )
    return do_run_access_log_import(started.pk, actor=actor, progress=progress)


def do_resume_access_log_import(
    import_id: int, *, actor: Actor, progress: Progress | None = None
) -> AccessLogImport:
    """Run a failed or interrupted import again under the same id (see
    :func:`do_reopen_access_log_import`); events count only once it completes."""
    do_reopen_access_log_import(import_id, actor=actor)
    return do_run_access_log_import(import_id, actor=actor, progress=progress)


# --------------------------------------------------------------------------- accounts


@transaction.atomic
def do_map_external_account(
    external_account_id: int, account_id: int, *, actor: Actor
) -> ExternalAccount:
    """Record that an external account belongs to a person (``RECON_ACCOUNT_MAPPED``; the
    external id enters the ledger only as a commitment)."""
    require(actor, Permission.IMPORT_ACCESS_LOGS)
    external = (
        ExternalAccount.objects.select_for_update(of=("self",))  # not the system row
        .select_related("system")
        .filter(pk=external_account_id)
        .first()
    )
    if external is None:
        raise ValidationError({"external_account": "no such external account"})
    person = Account.objects.filter(pk=account_id).first()
    if person is None:
        raise ValidationError({"account": f"no person with id {account_id}"})
    if external.account_id == person.pk:
        raise ValidationError({"account": f"already mapped to {person.username}"})
    previous = external.account_id
    external.account = person
    external.mapped_at = timezone.now()
    external.save(update_fields=["account", "mapped_at"])
    writer.append(
        LedgerEventType.RECON_ACCOUNT_MAPPED,
        object_type=_EXTERNAL,
        object_id=external.pk,
        actor=actor,
        data={"system": external.system.code, "account": person.pk, "previous": previous},
        personal={"external_id": external.external_id},
    )
    return external


@transaction.atomic
def do_unmap_external_account(external_account_id: int, *, actor: Actor) -> ExternalAccount:
    """Remove the link between an external account and a person
    (``RECON_ACCOUNT_UNMAPPED``)."""
    require(actor, Permission.IMPORT_ACCESS_LOGS)
    external = (
        ExternalAccount.objects.select_for_update(of=("self",))  # not the system row
        .select_related("system")
        .filter(pk=external_account_id)
        .first()
    )
    if external is None:
        raise ValidationError({"external_account": "no such external account"})
    if external.account_id is None:
        raise ValidationError({"account": "this external account is not mapped"})
    previous = external.account_id
    external.account = None
    external.mapped_at = None
    external.save(update_fields=["account", "mapped_at"])
    writer.append(
        LedgerEventType.RECON_ACCOUNT_UNMAPPED,
        object_type=_EXTERNAL,
        object_id=external.pk,
        actor=actor,
        data={"system": external.system.code, "previous": previous},
        personal={"external_id": external.external_id},
    )
    return external


@transaction.atomic
def do_map_external_accounts(
    system_code: str, rows: list[tuple[int, str, str]], *, actor: Actor
) -> int:
    """Map many external accounts of a system at once, from (line, external id, username)
    rows (``core.accesslogs.parse_account_mappings``): all or nothing. Every problem is
    reported with its line in one ValidationError and nothing is written; otherwise each
    account not already mapped to that person gets its own ``RECON_ACCOUNT_MAPPED``.
    Returns how many accounts were mapped."""
    require(actor, Permission.IMPORT_ACCESS_LOGS)
    system = _system(system_code)
    externals = {
        a.external_id: a
        for a in ExternalAccount.objects.filter(
            system=system, external_id__in=[external for _, external, _ in rows]
        )
    }
    people = {
        a.username: a
        for a in Account.objects.filter(username__in=[username for _, _, username in rows])
    }
    problems: list[str] = []
    for line, external_id, username in rows:
        if external_id not in externals:
            problems.append(f"line {line}: no account {external_id!r} in {system.code}'s logs")
        if username not in people:
            problems.append(f"line {line}: no person with username {username!r}")
    if problems:
        raise ValidationError({"file": problems})
    mapped = 0
    for _, external_id, username in rows:
        if externals[external_id].account_id == people[username].pk:
            continue
        do_map_external_account(externals[external_id].pk, people[username].pk, actor=actor)
        mapped += 1
    return mapped
