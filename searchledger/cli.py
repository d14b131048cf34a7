"""The ``searchledger`` console command.

Every command that changes state calls the same actions as the web app, as a named actor.
Exit status: 0 success, 1 verification failed, 2 usage or input error.
"""

from __future__ import annotations

import argparse
import base64
import getpass
import os
import secrets
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from searchledger.apps.ledger.verify import VerificationReport
    from searchledger.core.actor import Actor
    from searchledger.core.published import ReportMeta
    from searchledger.ledger.note import CosignatureSigner, Verifier
    from searchledger.ledger.witness import WitnessState

__all__ = ["main"]

EXIT_OK = 0
EXIT_VERIFY_FAILED = 1
EXIT_USAGE = 2


class CommandError(Exception):
    """A command cannot do what was asked; the message says why."""


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "searchledger.config.settings")
    import django
    from django.apps import apps

    # Set up once per process: run in-process again (tests), setting up would reconfigure
    # logging onto whatever stderr is current, which a test runner later closes.
    if not apps.ready:
        django.setup()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# --------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    """Create the local state directory, the Django secret key, the signing key and the
    probe images' master key."""
    from django.conf import settings

    from searchledger.apps.ledger.keys import create_signing_key, load_signer
    from searchledger.apps.searches.probes import create_probe_master_key

    home = Path(settings.HOME)
    home.mkdir(parents=True, exist_ok=True)
    secret_file = home / "secret_key"
    if not os.environ.get("SEARCHLEDGER_SECRET_KEY") and not secret_file.exists():
        fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50) + "\n")
        print(f"created {secret_file}")
    key_file = Path(settings.SEARCHLEDGER_SIGNING_KEY_FILE)
    if key_file.exists():
        signer = load_signer()
        print(f"signing key already at {key_file}")
    else:
        signer = create_signing_key(args.origin)
        print(f"created signing key {key_file}")
    probe_key = Path(settings.SEARCHLEDGER_PROBE_KEY_FILE)
    if probe_key.exists():
        print(f"probe master key already at {probe_key}")
    else:
        print(f"created probe master key {create_probe_master_key()}")
    print(f"verifier key: {signer.verifier_key()}")
    return EXIT_OK


def cmd_manage(args: argparse.Namespace) -> int:
    """Run a Django management command (migrate, check, ...)."""
    from django.core.management import execute_from_command_line

    execute_from_command_line(["searchledger manage", *args.rest])
    return EXIT_OK


def _verifier_key_arg(text: str, what: str) -> str:
    """A verifier key given inline or as the path of a file holding it."""
    candidate = Path(text)
    if "+" not in text or candidate.is_file():
        try:
            return candidate.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise CommandError(
                f"{what}: {text!r} is neither a verifier key nor a file: {exc}"
            ) from exc
    return text


def cmd_verify_tiles(args: argparse.Namespace) -> int:
    """Verify a published checkpoint and its tiles with the log's verifier key only."""
    from searchledger.ledger.note import NoteError, Verifier
    from searchledger.ledger.offline import OfflineVerificationError, verify_tile_directory

    if not args.key:
        raise CommandError("--tiles needs --key: the log's verifier key (or a file holding it)")
    try:
        verifier = Verifier.from_verifier_key(_verifier_key_arg(args.key, "--key"))
        witnesses = [
            Verifier.from_verifier_key(_verifier_key_arg(k, "--witness")) for k in args.witness
        ]
    except NoteError as exc:
        raise CommandError(f"--key/--witness: {exc}") from exc
    previous = None
    if args.since:
        try:
            previous = Path(args.since).read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"--since: {exc}") from exc
    try:
        result = verify_tile_directory(
            Path(args.tiles), verifier, witnesses=witnesses, previous_checkpoint=previous
        )
    except OfflineVerificationError as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return EXIT_VERIFY_FAILED
    print(result.summary())
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    """Verify every entry, node, the tree head and every checkpoint; with ``--tiles``, a
    published copy instead, without the database."""
    if args.tiles and args.checkpoint:
        raise CommandError("--checkpoint applies to the database; with --tiles use --since")
    if args.tiles:
        return cmd_verify_tiles(args)
    if args.witness or args.since:
        raise CommandError("--witness and --since apply to --tiles only")
    from searchledger.apps.ledger.keys import load_verifier
    from searchledger.apps.ledger.verify import VerificationFailure, verify_ledger
    from searchledger.ledger.note import NoteError, Verifier

    try:
        verifier = Verifier.from_verifier_key(args.key) if args.key else load_verifier()
    except NoteError as exc:
        raise CommandError(f"--key: {exc}") from exc
    try:
        report = verify_ledger(verifier)
        outside = _check_outside_checkpoints(report, args.checkpoint, verifier)
    except VerificationFailure as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return EXIT_VERIFY_FAILED
    print(report.summary())
    if outside:
        print(f"ok: consistent with {outside} checkpoints from outside the database")
    return EXIT_OK


def _check_outside_checkpoints(
    report: VerificationReport, files: list[str], verifier: Verifier
) -> int:
    """``verify --checkpoint FILE``: the ledger must extend each checkpoint in FILE."""
    from searchledger.apps.ledger.checkpoint_log import (
        CheckpointFileError,
        check_against,
        read_checkpoint_file,
    )

    try:
        found = [c for name in files for c in read_checkpoint_file(Path(name))]
    except CheckpointFileError as exc:
        raise CommandError(f"--checkpoint: {exc}") from exc
    return check_against(report, found, verifier)


def cmd_checkpoint(args: argparse.Namespace) -> int:
    """Print the latest checkpoint, signing a new one if the tree grew."""
    from searchledger.apps.ledger.checkpoints import sign_checkpoint_if_grown

    sys.stdout.write(sign_checkpoint_if_grown().note)
    return EXIT_OK


def cmd_public_key(args: argparse.Namespace) -> int:
    """Print the verifier key."""
    from searchledger.apps.ledger.keys import load_signer

    print(load_signer().verifier_key())
    return EXIT_OK


def cmd_proof_inclusion(args: argparse.Namespace) -> int:
    """Print an inclusion proof as base64 lines."""
    from searchledger.apps.ledger import selectors

    _, proof = selectors.inclusion_proof(args.index, args.size)
    for node in proof:
        print(_b64(node))
    return EXIT_OK


def cmd_proof_consistency(args: argparse.Namespace) -> int:
    """Print a consistency proof as base64 lines."""
    from searchledger.apps.ledger import selectors

    for node in selectors.consistency_proof(args.old, args.new):
        print(_b64(node))
    return EXIT_OK


def cmd_export_tiles(args: argparse.Namespace) -> int:
    """Write the checkpoint and every tile for it into a directory."""
    from searchledger.apps.ledger import selectors
    from searchledger.apps.ledger.checkpoints import cosigned_note, sign_checkpoint_if_grown
    from searchledger.ledger.tiles import write_tiles

    checkpoint = sign_checkpoint_if_grown()
    write_tiles(
        Path(args.directory),
        checkpoint.size,
        selectors.get_node,
        selectors.entry_bytes,
        cosigned_note(checkpoint),
    )
    print(f"wrote checkpoint and tiles for tree size {checkpoint.size} to {args.directory}")
    return EXIT_OK


# --------------------------------------------------------------------------------------
# The witness (run by an oversight body) and the log's side of it
# --------------------------------------------------------------------------------------

_WITNESS_KEY = "witness.key"
_WITNESS_STATE = "state.json"


def _write_private(path: Path, data: str, *, exclusive: bool = False) -> None:
    """Write ``data`` to ``path`` (mode 0600) through a temporary file and a rename."""
    if exclusive and path.exists():
        raise CommandError(f"{path} already exists")
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)


def _witness(directory: Path) -> tuple[CosignatureSigner, WitnessState]:
    """The witness's key and state from its directory."""
    from searchledger.ledger.note import CosignatureSigner, NoteError
    from searchledger.ledger.witness import WitnessState

    try:
        name, seed = (directory / _WITNESS_KEY).read_text(encoding="utf-8").split()
        signer = CosignatureSigner.from_seed(name, base64.b64decode(seed))
        state = WitnessState.from_json((directory / _WITNESS_STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, NoteError) as exc:
        raise CommandError(
            f"{directory} is not a witness directory (run `searchledger witness init`): {exc}"
        ) from exc
    return signer, state


def cmd_witness_init(args: argparse.Namespace) -> int:
    """Create a witness: its cosigning key and an empty state."""
    from searchledger.ledger.note import CosignatureSigner
    from searchledger.ledger.witness import WitnessState

    directory = Path(args.directory)
    directory.mkdir(parents=True, exist_ok=True)
    seed = secrets.token_bytes(32)
    _write_private(directory / _WITNESS_KEY, f"{args.name} {_b64(seed)}\n", exclusive=True)
    _write_private(directory / _WITNESS_STATE, WitnessState({}).to_json())
    print(CosignatureSigner.from_seed(args.name, seed).verifier_key())
    return EXIT_OK


def cmd_witness_follow(args: argparse.Namespace) -> int:
    """Start following a log, identified by its verifier key."""
    from searchledger.ledger.note import NoteError
    from searchledger.ledger.witness import WitnessRefused

    directory = Path(args.directory)
    _, state = _witness(directory)
    try:
        new_state = state.follow(_verifier_key_arg(args.log_key, "--log-key"))
    except (NoteError, WitnessRefused) as exc:
        raise CommandError(str(exc)) from exc
    _write_private(directory / _WITNESS_STATE, new_state.to_json())
    print(f"following {', '.join(sorted(new_state.logs))}")
    return EXIT_OK


def cmd_witness_add_checkpoint(args: argparse.Namespace) -> int:
    """Check an add-checkpoint request (stdin or FILE); print the cosignature, or refuse
    loudly and keep the request as evidence."""
    import time

    from searchledger.ledger.witness import Refusal, WitnessRefused, add_checkpoint

    directory = Path(args.directory)
    signer, state = _witness(directory)
    body = Path(args.request).read_text(encoding="utf-8") if args.request else sys.stdin.read()
    try:
        new_state, line, checkpoint = add_checkpoint(state, body, signer, int(time.time()))
    except WitnessRefused as refused:
        if refused.refusal in {Refusal.INCONSISTENT, Refusal.BAD_SIGNATURE}:
            evidence = directory / "evidence"
            evidence.mkdir(exist_ok=True)
            stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
            kept = evidence / f"{stamp}-{refused.refusal.name.lower()}.txt"
            kept.write_text(body, encoding="utf-8")
            print(
                f"REFUSED ({refused.refusal.value}, HTTP {refused.refusal.http_status}): "
                f"{refused}\nTHE LOG HAS NOT BEEN COSIGNED. The request is kept as evidence in "
                f"{kept}; report it to the log's operator and to your oversight body.",
                file=sys.stderr,
            )
        else:
            print(
                f"REFUSED ({refused.refusal.value}, HTTP {refused.refusal.http_status}): {refused}",
                file=sys.stderr,
            )
        return EXIT_VERIFY_FAILED
    # The new state is on disk before the cosignature is given out.
    _write_private(directory / _WITNESS_STATE, new_state.to_json())
    sys.stdout.write(line)
    print(f"cosigned {checkpoint.origin} at size {checkpoint.size}", file=sys.stderr)
    return EXIT_OK


def cmd_witness_request(args: argparse.Namespace) -> int:
    """Print the add-checkpoint request for the latest checkpoint, from ``--old`` size."""
    from searchledger.apps.ledger import selectors
    from searchledger.apps.ledger.checkpoints import sign_checkpoint_if_grown
    from searchledger.ledger.witness import format_add_checkpoint

    checkpoint = sign_checkpoint_if_grown()
    if args.old > checkpoint.size:
        raise CommandError(f"--old {args.old} is beyond the checkpoint size {checkpoint.size}")
    proof = (
        selectors.consistency_proof(args.old, checkpoint.size)
        if 0 < args.old < checkpoint.size
        else []
    )
    sys.stdout.write(format_add_checkpoint(args.old, proof, checkpoint.note))
    return EXIT_OK


def cmd_add_cosignature(args: argparse.Namespace) -> int:
    """Store a witness's cosignature (its answer, on stdin or FILE) of checkpoint ``--size``."""
    from searchledger.apps.ledger.checkpoints import CosignatureError, store_cosignature
    from searchledger.ledger.note import NoteError, Verifier

    try:
        witness = Verifier.from_verifier_key(_verifier_key_arg(args.witness_key, "--witness-key"))
    except NoteError as exc:
        raise CommandError(f"--witness-key: {exc}") from exc
    lines = Path(args.file).read_text(encoding="utf-8") if args.file else sys.stdin.read()
    try:
        stored = store_cosignature(args.size, lines, witness)
    except CosignatureError as exc:
        raise CommandError(str(exc)) from exc
    print(f"stored {stored}")
    return EXIT_OK


def cmd_export_audit(args: argparse.Namespace) -> int:
    """Export the audit trail to a file (or stdout), or send it to a syslog collector."""
    from searchledger.apps.reports.audit import (
        AuditFormat,
        AuditRange,
        SendError,
        export_file,
        send_syslog,
        write_audit,
    )

    fmt = AuditFormat(args.format)
    window = AuditRange(args.since, args.until)
    if args.send:
        if fmt is not AuditFormat.SYSLOG:
            raise CommandError("--send sends syslog messages: use --format syslog")
        try:
            count = send_syslog(args.send, window)
        except SendError as exc:
            print(
                f"searchledger export-audit: {exc}; resume with --since {args.since + exc.sent}",
                file=sys.stderr,
            )
            return EXIT_USAGE
        print(f"sent {count} entries to {args.send}; next time use --since {args.since + count}")
        return EXIT_OK
    if args.output:
        count = export_file(fmt, window, Path(args.output))
        print(f"wrote {count} entries to {args.output}; next time use --since {args.since + count}")
        return EXIT_OK
    if fmt is AuditFormat.XLSX:
        raise CommandError("an XLSX export needs --output FILE")
    write_audit(fmt, window, sys.stdout.buffer)
    return EXIT_OK


def cmd_deliver_webhooks(args: argparse.Namespace) -> int:
    """POST the pending finding entries to every configured webhook URL (run from cron)."""
    from searchledger.apps.findings.webhooks import configured_urls, deliver_webhooks

    if not configured_urls():
        print("no webhook URLs are configured (SEARCHLEDGER_WEBHOOK_URLS)")
        return EXIT_OK
    try:
        results = deliver_webhooks(timeout=args.timeout)
    except RuntimeError as exc:
        raise CommandError(str(exc)) from exc
    failed = False
    for result in results:
        line = f"{result.url}: delivered {result.delivered}, pending {result.pending}"
        if result.error:
            failed = True
            line += f"; failed at {result.error} (retried on the next run)"
        print(line)
    return EXIT_USAGE if failed else EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the web app with gunicorn (pre-forked worker processes), or with Django's
    development server when ``--dev`` is given. Behind a TLS-terminating proxy either way."""
    if args.dev:
        from django.core.management import call_command

        call_command("runserver", f"{args.host}:{args.port}", use_reloader=False)
        return EXIT_OK
    from searchledger.config.server import default_web_workers, serve_with_gunicorn

    serve_with_gunicorn(
        bind=f"{args.host}:{args.port}",
        workers=args.workers or default_web_workers(),
        threads=args.threads,
        timeout=args.timeout,
        access_log=args.access_log,
    )
    return EXIT_OK


def _actor_named(username: str) -> Actor:
    from searchledger.apps.accounts.selectors import get_account_by_username
    from searchledger.core.actor import Actor
    from searchledger.core.roles import Role

    account = get_account_by_username(username)
    if account is None or not account.is_active:
        raise CommandError(f"--actor {username!r}: no active account with that username")
    return Actor(account_id=account.pk, role=Role(account.role))


def cmd_create_account(args: argparse.Namespace) -> int:
    """Create an account; the bootstrap administrator may be created by ``--actor system``."""
    from django.core.exceptions import PermissionDenied, ValidationError

    from searchledger.apps.accounts.actions import do_create_account
    from searchledger.apps.accounts.models import Account
    from searchledger.core.actor import Actor
    from searchledger.core.roles import Role

    if args.actor == "system":
        if args.role != Role.ADMINISTRATOR.value:
            raise CommandError(
                "--actor system is only for the first administrator, not a " + args.role
            )
        if Account.objects.filter(role=Role.ADMINISTRATOR.value, is_active=True).exists():
            raise CommandError(
                "--actor system is only for the first administrator; name an administrator"
            )
        actor = Actor.system()
    else:
        actor = _actor_named(args.actor)
    password: str | None = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif sys.stdin.isatty():
        password = getpass.getpass(f"password for {args.username}: ")
    try:
        account = do_create_account(
            username=args.username,
            role=Role(args.role),
            password=password,
            full_name=args.full_name,
            email=args.email,
            actor=actor,
            reason=args.reason,
        )
    except PermissionDenied as exc:
        raise CommandError(f"--actor {args.actor!r}: {exc}") from exc
    except ValidationError as exc:
        raise CommandError(
            "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        ) from exc
    print(f"created account {account.username} ({account.role}) id {account.pk}")
    return EXIT_OK


def cmd_import_csv(args: argparse.Namespace) -> int:
    """Bulk-import people, grants or completions from a CSV file (a dry run unless --apply)."""
    from searchledger.apps.bulk.actions import do_bulk_import

    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from exc
    report = do_bulk_import(
        args.kind,
        data,
        dry_run=not args.apply,
        actor=_actor_named(args.actor),
        filename=path.name,
    )
    sys.stdout.write(report.render_text())
    return EXIT_OK if report.clean else EXIT_USAGE


def _validation_text(exc: Exception) -> str:
    """A ValidationError's messages on one line."""
    messages = getattr(exc, "messages", None) or [str(exc)]
    return "; ".join(str(m) for m in messages)


def cmd_import_log(args: argparse.Namespace) -> int:
    """Import a system's own access log (CSV or JSON lines), streaming it from disk, with a
    progress bar on stderr and a summary; exit 2 if the import fails."""
    import json

    from django.core.exceptions import PermissionDenied, ValidationError
    from tqdm import tqdm  # type: ignore[import-untyped]  # tqdm ships no type information

    from searchledger.apps.accesslogs.actions import (
        do_import_access_log,
        do_resume_access_log_import,
        do_set_column_mapping,
    )
    from searchledger.core.accesslogs import MappingError, mapping_from_json

    actor = _actor_named(args.actor)
    bar = tqdm(total=100.0, unit="%", file=sys.stderr, bar_format="{l_bar}{bar}| {elapsed}")

    def progress(phase: str, percent: float) -> None:
        bar.set_description_str(phase, refresh=False)
        bar.update(max(0.0, percent - bar.n))
        bar.refresh()

    try:
        if args.mapping:
            try:
                spec = mapping_from_json(json.loads(Path(args.mapping).read_text("utf-8")))
            except (ValueError, MappingError) as exc:
                raise CommandError(f"--mapping {args.mapping}: {exc}") from exc
            mapping = do_set_column_mapping(args.system, spec, actor=actor)
            print(f"column mapping for {args.system}: version {mapping.version}")
        if args.resume is not None:
            log = do_resume_access_log_import(args.resume, actor=actor, progress=progress)
        else:
            path = Path(args.file)
            if not path.is_file():
                raise CommandError(f"{path}: no such file")
            log = do_import_access_log(
                args.system,
                path,
                original_name=path.name,
                strict=args.strict,
                actor=actor,
                progress=progress,
            )
    except (ValidationError, PermissionDenied) as exc:
        raise CommandError(_validation_text(exc)) from exc
    finally:
        bar.close()
    print(f"import {log.pk} of {log.original_name} into {log.system.code}: {log.status}")
    print(f"  file SHA-256      {log.sha256} ({log.size:,} bytes)")
    print(f"  records read      {log.records_read:,}")
    print(f"  valid events      {log.valid_events:,} (searches {log.searches:,})")
    print(f"  rejected rows     {log.rejected:,}")
    print(
        f"  duplicates        {log.duplicates_in_file:,} within the file, "
        f"{log.duplicates_earlier:,} already imported"
    )
    print(f"  formula cells     {log.formula_cells:,} (kept as text, neutralised in CSV)")
    if log.first_event_at is not None:
        period = f"{log.first_event_at:%Y-%m-%d %H:%M} to {log.last_event_at:%Y-%m-%d %H:%M}"
        print(f"  period            {period} UTC")
    for reason, count in log.reject_reasons.items():
        print(f"    {count:,} rejected: {reason}")
    if log.rejects_path:
        print(f"  rejects report    {log.rejects_path}")
    if log.parquet_path:
        print(f"  events            {log.parquet_path} (SHA-256 {log.parquet_sha256})")
    if log.status != "completed":
        print(f"searchledger import-log: {log.failure}", file=sys.stderr)
        print(
            f"  resume with: searchledger import-log {log.system.code} --resume {log.pk} "
            f"--actor {args.actor}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    return EXIT_OK


def cmd_purge_probe_images(args: argparse.Namespace) -> int:
    """Destroy every probe image whose retention period has ended (run daily)."""
    from django.core.exceptions import PermissionDenied

    from searchledger.apps.searches.probes import do_destroy_expired_probe_images
    from searchledger.core.actor import Actor

    actor = Actor.system() if args.actor == "system" else _actor_named(args.actor)
    try:
        destroyed = do_destroy_expired_probe_images(actor=actor, today=args.today)
    except PermissionDenied as exc:
        raise CommandError(f"--actor {args.actor!r}: {exc}") from exc
    print(f"destroyed {len(destroyed)} probe image(s)")
    for search_id in destroyed:
        print(f"  search {search_id}")
    return EXIT_OK


def cmd_reconcile(args: argparse.Namespace) -> int:
    """Reconcile a system's imported access logs against its search records for a period,
    then print the run's summary (counts by kind, digest, imports read)."""
    from django.core.exceptions import PermissionDenied, ValidationError

    from searchledger.apps.reconciliation.actions import default_params, do_reconcile
    from searchledger.core.actor import Actor

    actor = Actor.system() if args.actor == "system" else _actor_named(args.actor)
    try:
        run = do_reconcile(
            args.system,
            start=args.start,
            end=args.end,
            params=default_params(args.tolerance),
            actor=actor,
            progress=lambda phase: print(f"  {phase}...", file=sys.stderr, flush=True),
        )
    except (ValidationError, PermissionDenied) as exc:
        raise CommandError(_validation_text(exc)) from exc
    seconds = (run.finished_at - run.started_at).total_seconds()
    print(
        f"reconciliation {run.pk} of {run.system.code}, {run.period_from} to {run.period_to} "
        f"(tolerance {run.parameters['tolerance_minutes']} min, {seconds:.1f} s)"
    )
    print(f"  {'kind':<24} {'found':>9}")
    for kind, count in run.counts.items():
        print(f"  {kind:<24} {count:>9,}")
    print(f"  {'total':<24} {run.total:>9,}")
    for read in run.imports:
        print(f"  import {read['id']}  SHA-256 {read['sha256']}")
    print(f"  digest {run.digest}")
    return EXIT_OK


def cmd_escalate_findings(args: argparse.Namespace) -> int:
    """Escalate every overdue finding to its owner's own supervisor (run daily; a finding is
    escalated once, so running it again escalates nothing new)."""
    from django.core.exceptions import PermissionDenied
    from django.utils import timezone

    from searchledger.apps.findings.actions import do_escalate_overdue_findings
    from searchledger.core.actor import Actor

    actor = Actor.system() if args.actor == "system" else _actor_named(args.actor)
    try:
        escalated = do_escalate_overdue_findings(
            actor=actor, today=args.today or timezone.localdate()
        )
    except PermissionDenied as exc:
        raise CommandError(f"--actor {args.actor!r}: {exc}") from exc
    print(f"escalated {len(escalated)} overdue finding(s)")
    for finding in escalated:
        to = finding.escalated_to.username if finding.escalated_to else "nobody (the queue)"
        print(f"  finding {finding.pk} (due {finding.due}) to {to}")
    return EXIT_OK


def _tile_entries(directory: str, key: str | None, size: int | None) -> tuple[list[bytes], int]:
    """The entries of a published tile export, verified first, and the size to read."""
    from searchledger.ledger.note import NoteError, Verifier
    from searchledger.ledger.offline import OfflineVerificationError, verify_tile_directory
    from searchledger.ledger.tiles import TilePath, entries_from_tiles

    if not key:
        raise CommandError("--tiles needs --key: the log's verifier key (or a file holding it)")
    try:
        verifier = Verifier.from_verifier_key(_verifier_key_arg(key, "--key"))
    except NoteError as exc:
        raise CommandError(f"--key: {exc}") from exc
    root_dir = Path(directory).resolve()
    try:
        verified = verify_tile_directory(root_dir, verifier)
    except OfflineVerificationError as failure:
        raise CommandError(f"the tiles in {directory} do not verify: {failure}") from failure
    available = verified.checkpoint.size
    if size is not None and size > available:
        raise CommandError(f"the tiles hold {available} entries, fewer than the {size} asked for")

    def read_tile(tile: TilePath) -> bytes:
        target = (root_dir / tile.path).resolve()
        if root_dir not in target.parents:
            raise CommandError(f"{tile.path} resolves outside {root_dir}")
        return target.read_bytes()

    return entries_from_tiles(available, read_tile), available if size is None else size


def _write_report(
    fmt: str, meta: ReportMeta, rows: list[tuple[str, str, str, str]], source: str
) -> None:
    """Print a recomputed report as text, CSV or JSON."""
    import json

    from searchledger.core.published import report_csv

    if fmt == "csv":
        sys.stdout.write(report_csv(meta, rows))
    elif fmt == "json":
        document = {"report": {r[1] + " " + r[2]: r[3] for r in meta.rows()}, "cells": rows}
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        print(
            f"Transparency report {meta.first_day} to {meta.last_day} ({meta.time_zone}), "
            f"threshold {meta.threshold}, from {source}: checkpoint {meta.checkpoint_size}, "
            f"root {meta.checkpoint_root}"
        )
        for table, row, column, value in rows:
            print(f"  {table} / {row} / {column}: {value}")


def cmd_transparency(args: argparse.Namespace) -> int:
    """Recompute the transparency report for a period from the database or, with
    ``--tiles``, from a verified tile export alone; with ``--check``, compare it with a
    published CSV cell by cell (exit 1 on any difference)."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from django.conf import settings

    from searchledger.core.published import ReportMeta, differences, parse_report_csv
    from searchledger.core.transparency import build_report
    from searchledger.ledger import merkle
    from searchledger.ledger.events import parse_entry

    if args.end < args.start:
        raise CommandError(f"--to {args.end} is before --from {args.start}")
    published = None
    if args.check:
        try:
            published = parse_report_csv(Path(args.check).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CommandError(f"--check {args.check}: {exc}") from exc
    threshold = (
        args.threshold
        if args.threshold is not None
        else (published.meta.threshold if published else 5)
    )
    if threshold < 1:
        raise CommandError("--threshold must be 1 or more")
    size = (
        args.size
        if args.size is not None
        else (published.meta.checkpoint_size if published else None)
    )
    zone = args.zone or (published.meta.time_zone if published else str(settings.TIME_ZONE))
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CommandError(f"--zone {zone!r} is not a time zone") from exc
    if args.tiles:
        raw, size = _tile_entries(args.tiles, args.key, size)
        raw = raw[:size]
        source = f"the tiles in {args.tiles}"
    else:
        from searchledger.apps.reports.transparency import database_entries

        raw, size = database_entries(size)
        source = "the database"
    if len(raw) < size:
        raise CommandError(f"the ledger holds {len(raw)} entries, fewer than the {size} asked for")
    root = merkle.root_from_leaf_hashes([merkle.leaf_hash(body) for body in raw]).hex()
    report = build_report(
        (parse_entry(body) for body in raw),
        start=args.start,
        end=args.end + timedelta(days=1),
        threshold=threshold,
        zone=tz,
    )
    meta = ReportMeta(args.start, args.end, zone, threshold, size, root)
    rows = report.rows()
    if published is not None:
        problems = [
            f"Report / {row} / {column}: published {theirs}, recomputed {mine}"
            for (_, row, column, theirs), (_, _, _, mine) in zip(
                published.meta.rows(), meta.rows(), strict=True
            )
            if theirs != mine
        ] + differences(published.rows, rows)
        if problems:
            print(f"FAILED: the published report differs from {source}:", file=sys.stderr)
            for problem in problems:
                print(f"  {problem}", file=sys.stderr)
            return EXIT_VERIFY_FAILED
        print(
            f"ok: the published report matches its recomputation from {source} "
            f"(checkpoint {size}, root {root}, {len(rows)} cells)"
        )
        return EXIT_OK
    _write_report(args.format, meta, rows, source)
    return EXIT_OK


def cmd_backup(args: argparse.Namespace) -> int:
    """Back up the database, the access-log files, the checkpoint log and the keys."""
    from searchledger.apps.ledger.backup import BackupError, create_backup

    try:
        result = create_backup(Path(args.destination), include_keys=not args.without_keys)
    except BackupError as exc:
        raise CommandError(str(exc)) from exc
    print(result.summary())
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    """Check a backup against its manifest, restore it, and verify the restored ledger."""
    from searchledger.apps.ledger.backup import BackupError, restore_backup
    from searchledger.apps.ledger.checkpoint_log import CheckpointFileError, read_checkpoint_file
    from searchledger.apps.ledger.verify import VerificationFailure

    try:
        outside = [c for name in args.checkpoint for c in read_checkpoint_file(Path(name))]
        result = restore_backup(
            Path(args.source),
            force=args.force,
            accept_rollback=args.accept_rollback,
            checkpoints=outside,
        )
    except (BackupError, CheckpointFileError) as exc:
        raise CommandError(str(exc)) from exc
    except VerificationFailure as failure:
        print(f"FAILED: the restored ledger does not verify: {failure}", file=sys.stderr)
        return EXIT_VERIFY_FAILED
    print(result.summary())
    return EXIT_OK


def _add_backup_commands(
    add: Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser],
) -> None:
    """``backup`` and ``restore``."""
    p = add(
        "backup",
        cmd_backup,
        "back up the database, access-log files, checkpoint log and keys into a new DIR",
    )
    p.add_argument("destination", metavar="DIR")
    p.add_argument(
        "--without-keys",
        action="store_true",
        help="leave out the secret, signing and probe keys (back them up separately)",
    )
    p = add("restore", cmd_restore, "check, restore and verify a backup made by `backup`")
    p.add_argument("source", metavar="DIR")
    p.add_argument(
        "--force", action="store_true", help="replace a non-empty database and HOME files"
    )
    p.add_argument(
        "--accept-rollback",
        action="store_true",
        help="restore even though a newer checkpoint was signed (entries after it are lost)",
    )
    p.add_argument(
        "--checkpoint",
        action="append",
        default=[],
        metavar="FILE",
        help="a checkpoint note, checkpoint log or published report's CSV the backup must "
        "not be older than (repeatable; the configured checkpoint log is always read)",
    )


def cmd_load_demo(args: argparse.Namespace) -> int:
    """Load the demo scenario (idempotent)."""
    from searchledger.demo import load_demo

    for line in load_demo():
        print(line)
    return EXIT_OK


# --------------------------------------------------------------------------------------
# Argument parsing
# --------------------------------------------------------------------------------------


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from exc
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative")
    return value


def _positive(text: str) -> int:
    value = _non_negative(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not positive")
    return value


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from exc


def _add_witness_commands(
    add: Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser],
) -> None:
    """The witness's commands and the log's side of them."""
    p = add("witness", lambda a: EXIT_USAGE, "run a witness that cosigns consistent checkpoints")
    witness_sub = p.add_subparsers(dest="witness_command", required=True, metavar="ACTION")
    p = witness_sub.add_parser("init", help="create a witness key and state in DIR")
    p.add_argument("directory", metavar="DIR")
    p.add_argument("--name", required=True, help="the witness's name, e.g. oversight.example.org")
    p.set_defaults(func=cmd_witness_init)
    p = witness_sub.add_parser("follow", help="follow a log, given its verifier key")
    p.add_argument("directory", metavar="DIR")
    p.add_argument("--log-key", required=True, help="the log's verifier key (or a file)")
    p.set_defaults(func=cmd_witness_follow)
    p = witness_sub.add_parser(
        "add-checkpoint", help="check an add-checkpoint request and print the cosignature"
    )
    p.add_argument("directory", metavar="DIR")
    p.add_argument("--request", metavar="FILE", help="the request (default: stdin)")
    p.set_defaults(func=cmd_witness_add_checkpoint)
    p = add(
        "witness-request",
        cmd_witness_request,
        "print the add-checkpoint request for the latest checkpoint, for a witness",
    )
    p.add_argument(
        "--old", type=_non_negative, required=True, help="the size the witness last cosigned"
    )
    p = add("add-cosignature", cmd_add_cosignature, "store a witness's cosignature")
    p.add_argument("--size", type=_non_negative, required=True, help="the checkpoint's size")
    p.add_argument("--witness-key", required=True, help="the witness's verifier key (or a file)")
    p.add_argument("file", nargs="?", metavar="FILE", help="the cosignature (default: stdin)")


def _add_report_commands(
    add: Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser],
) -> None:
    """The transparency report's command."""
    p = add(
        "transparency",
        cmd_transparency,
        "recompute the transparency report from the ledger or its published tiles, and "
        "check a published CSV against it",
    )
    p.add_argument("--from", dest="start", type=_iso_date, required=True, help="first day")
    p.add_argument("--to", dest="end", type=_iso_date, required=True, help="last day (included)")
    p.add_argument("--threshold", type=_non_negative, help="suppress counts below this (default 5)")
    p.add_argument("--tiles", metavar="DIR", help="read a verified tile export, not the database")
    p.add_argument("--key", metavar="VERIFIER_KEY", help="with --tiles: the log's verifier key")
    p.add_argument(
        "--size", type=_non_negative, help="entries to count (default: the checkpoint's)"
    )
    p.add_argument("--zone", help="time zone of the days (default: the server's)")
    p.add_argument("--format", choices=["text", "csv", "json"], default="text")
    p.add_argument(
        "--check",
        metavar="PUBLISHED.csv",
        help="compare with a published CSV; exit 1 if it differs",
    )


def _import_log_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of ``import-log``."""
    p.add_argument("system", metavar="SYSTEM", help="the system's code")
    p.add_argument("file", metavar="FILE", nargs="?", help="the log file (not with --resume)")
    p.add_argument("--mapping", metavar="FILE", help="set this JSON column mapping first")
    p.add_argument("--strict", action="store_true", help="any rejected row fails the import")
    p.add_argument("--resume", metavar="ID", type=int, help="resume a failed/interrupted import")
    p.add_argument("--actor", required=True, help="username of the administrator importing")


def build_parser() -> argparse.ArgumentParser:  # noqa: PLR0915  # a few lines per sub-command
    """The argument parser for every sub-command."""
    parser = argparse.ArgumentParser(prog="searchledger", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(
        name: str, func: Callable[[argparse.Namespace], int], help_text: str
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=func)
        return p

    p = add("init", cmd_init, "create the state directory, secret key and signing key")
    p.add_argument("--origin", help="log origin name for a new signing key")
    p = add("manage", cmd_manage, "run a Django management command, e.g. `manage migrate`")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p = add("verify", cmd_verify, "verify the whole ledger; exit 1 naming the first bad entry")
    p.add_argument(
        "--key",
        help="verifier key (or a file holding it) to check checkpoints against "
        "(default: own key; required with --tiles)",
    )
    p.add_argument(
        "--tiles",
        metavar="DIR",
        help="verify a published checkpoint and its tlog-tiles in DIR, without the database",
    )
    p.add_argument(
        "--witness",
        action="append",
        default=[],
        metavar="KEY",
        help="with --tiles: a witness verifier key whose cosignature to check (repeatable)",
    )
    p.add_argument(
        "--since",
        metavar="CHECKPOINT",
        help="with --tiles: an earlier checkpoint file the tree must extend (no fork, no rollback)",
    )
    p.add_argument(
        "--checkpoint",
        action="append",
        default=[],
        metavar="FILE",
        help="a checkpoint note, checkpoint log or published report's CSV from outside the "
        "database: fail if the ledger is older than it or inconsistent with it (repeatable)",
    )
    add("checkpoint", cmd_checkpoint, "print the latest signed checkpoint")
    add("public-key", cmd_public_key, "print the ledger's verifier key")
    proof = add("proof", lambda a: EXIT_USAGE, "print a Merkle proof as base64 lines")
    proof_sub = proof.add_subparsers(dest="kind", required=True, metavar="KIND")
    p = proof_sub.add_parser("inclusion", help="inclusion proof of entry INDEX")
    p.add_argument("index", type=_non_negative)
    p.add_argument("--size", type=_non_negative, help="tree size (default: current)")
    p.set_defaults(func=cmd_proof_inclusion)
    p = proof_sub.add_parser("consistency", help="consistency proof between two sizes")
    p.add_argument("old", type=_non_negative)
    p.add_argument("new", type=_non_negative)
    p.set_defaults(func=cmd_proof_consistency)
    p = add("export-tiles", cmd_export_tiles, "write checkpoint and tlog-tiles to DIR")
    p.add_argument("directory", metavar="DIR")
    _add_witness_commands(add)
    p = add(
        "export-audit",
        cmd_export_audit,
        "export the audit trail as CSV, XLSX, OCSF or syslog, or send it to a SIEM",
    )
    p.add_argument("--format", required=True, choices=["csv", "xlsx", "ocsf", "syslog"])
    p.add_argument("--since", type=_non_negative, default=0, help="first entry (default 0)")
    p.add_argument("--until", type=_non_negative, help="stop before this entry")
    target = p.add_mutually_exclusive_group()
    target.add_argument("--output", metavar="FILE", help="write to FILE (default: stdout)")
    target.add_argument(
        "--send", metavar="URL", help="send syslog to tcp://, tls:// or udp://HOST:PORT"
    )
    p = add(
        "deliver-webhooks", cmd_deliver_webhooks, "POST pending finding entries to the webhooks"
    )
    p.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    p = add("serve", cmd_serve, "serve the web app (gunicorn; --dev: Django's dev server)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument(
        "--workers",
        type=_positive,
        help="worker processes (default: 2 per core plus 1, at most 9)",
    )
    p.add_argument("--threads", type=_positive, default=1, help="threads per worker (default 1)")
    p.add_argument(
        "--timeout",
        type=_positive,
        default=300,
        help="seconds a request may run before its worker is replaced (default 300: "
        "reconciling a large period from the web page runs in the request)",
    )
    p.add_argument("--access-log", action="store_true", help="log every request to stderr")
    p.add_argument(
        "--dev", action="store_true", help="Django's development server instead (the demo)"
    )
    p = add("create-account", cmd_create_account, "create an account")
    p.add_argument("username")
    p.add_argument(
        "--role",
        required=True,
        choices=["officer", "supervisor", "auditor", "administrator", "oversight"],
    )
    p.add_argument("--actor", required=True, help="username of the administrator acting")
    p.add_argument("--reason", required=True, help="why the account is needed")
    p.add_argument("--full-name", default="")
    p.add_argument("--email", default="")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p = add("import-csv", cmd_import_csv, "bulk-import a CSV file (dry run unless --apply)")
    p.add_argument("kind", choices=["people", "grants", "completions"])
    p.add_argument("file", metavar="FILE")
    p.add_argument("--actor", required=True, help="username of the administrator importing")
    p.add_argument("--apply", action="store_true", help="import the file if every row is clean")
    p = add(
        "purge-probe-images",
        cmd_purge_probe_images,
        "destroy the probe images whose retention period has ended",
    )
    p.add_argument("--actor", required=True, help="`system` (cron) or an administrator")
    p.add_argument("--today", type=_iso_date, help="the date to purge as of (default: today)")
    p = add(
        "escalate-findings",
        cmd_escalate_findings,
        "escalate overdue findings to their owners' supervisors",
    )
    p.add_argument("--actor", required=True, help="`system` (cron) or an administrator")
    p.add_argument("--today", type=_iso_date, help="the date to judge overdue by (default: today)")
    _import_log_arguments(
        add("import-log", cmd_import_log, "import a system's own access log with a progress bar")
    )
    p = add("reconcile", cmd_reconcile, "reconcile a system's access logs against its searches")
    p.add_argument("system", metavar="SYSTEM", help="the system's code")
    p.add_argument("--from", dest="start", type=_iso_date, required=True, help="first date")
    p.add_argument("--to", dest="end", type=_iso_date, required=True, help="last date")
    p.add_argument("--tolerance", type=_non_negative, help="minutes either side (default 30)")
    p.add_argument(
        "--actor", default="system", help="an auditor or administrator (default: `system`)"
    )
    _add_report_commands(add)
    _add_backup_commands(add)
    add("load-demo", cmd_load_demo, "load the demo scenario")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_django()
    from searchledger.apps.ledger.keys import SigningKeyError
    from searchledger.apps.ledger.selectors import LedgerReadError
    from searchledger.ledger.tiles import TileError

    try:
        return int(args.func(args))
    # TileError: export-tiles found different tiles already published in DIR; OSError: a
    # path given (DIR, the state directory) cannot be written.
    except (CommandError, SigningKeyError, LedgerReadError, TileError, OSError) as exc:
        print(f"searchledger {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
