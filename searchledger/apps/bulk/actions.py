"""Bulk CSV import of people, access grants and training completions.

:func:`do_bulk_import` is the only entry point. It reads the file (``bulk.parsing``), then
runs the real actions (``do_create_account``, ``do_assign_account``, ``do_request_grant``,
``do_approve_grant``, ``do_record_completion``) for every row inside one transaction, each
row in its own savepoint, and collects every error with its line and column. If there is any
error, or the call is a dry run, the transaction is rolled back and nothing is written; so a
dry run applies exactly the rules of the real run. A clean real run commits everything
together with one ``IMPORT_APPLIED`` ledger entry that names the kind, the row count, the
file's SHA-256 and what was created; the same file (same SHA-256 and kind) is never applied
twice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DataError, IntegrityError, transaction

from searchledger.apps.accounts.actions import do_assign_account, do_create_account
from searchledger.apps.accounts.models import Account, OrgUnit
from searchledger.apps.authz import require
from searchledger.apps.bulk.parsing import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_ROWS,
    KINDS,
    CsvFileError,
    Issue,
    ParsedFile,
    Row,
    parse_csv,
)
from searchledger.apps.grants.actions import do_approve_grant, do_request_grant
from searchledger.apps.ledger import writer
from searchledger.apps.ledger.models import LedgerEntry
from searchledger.apps.training.actions import do_record_completion
from searchledger.core.actor import SYSTEM_ACCOUNT_ID, Actor
from searchledger.core.roles import Permission, Role
from searchledger.ledger.events import LedgerEventType

__all__ = ["CREATED_COUNTS", "OBJECT_TYPE", "ImportReport", "do_bulk_import", "find_applied"]

OBJECT_TYPE = "bulk.import"
"""The ledger object type of an ``IMPORT_APPLIED`` entry; its object id is the SHA-256."""

CREATED_COUNTS: Mapping[str, tuple[str, ...]] = {
    "people": ("accounts", "assignments"),
    "grants": ("grants", "approvals"),
    "completions": ("completions",),
}
"""What a clean import of each kind counts in :attr:`ImportReport.created`."""


@dataclass(frozen=True)
class ImportReport:
    """The outcome of :func:`do_bulk_import`.

    ``errors`` holds every problem as (line, column or None, message), in line order; when
    it is not empty nothing was written. ``created`` counts what was created (a dry run or a
    refused run: what the rows that passed would have created). ``ledger_seq`` is the
    ``IMPORT_APPLIED`` entry of an applied import.
    """

    kind: str
    dry_run: bool
    applied: bool
    rows: int
    errors: tuple[Issue, ...]
    created: Mapping[str, int]
    sha256: str
    ledger_seq: int | None = None

    @property
    def clean(self) -> bool:
        """Whether the file had no problems at all."""
        return not self.errors

    def render_text(self) -> str:
        """A plain-text summary: one headline, then one line per error."""
        counts = ", ".join(f"{n} {what}" for what, n in self.created.items())
        rows = f"{self.rows} row{'' if self.rows == 1 else 's'}"
        if self.applied:
            headline = (
                f"{self.kind} import applied: {rows}; created {counts}; "
                f"ledger entry {self.ledger_seq} (IMPORT_APPLIED)."
            )
        elif self.errors:
            n = len(self.errors)
            mode = "dry run" if self.dry_run else "refused"
            headline = (
                f"{self.kind} import {mode}: {rows}, {n} error{'' if n == 1 else 's'}; "
                "nothing was written. Fix every error and upload the file again."
            )
        else:
            headline = (
                f"{self.kind} import dry run: {rows}, no errors; would create {counts}. "
                "Nothing was written; import the same file without the dry run to apply it."
            )
        lines = [headline, f"File SHA-256: {self.sha256}"]
        lines.extend(f"  {issue}" for issue in self.errors)
        return "\n".join(lines) + "\n"


class _RowRejected(Exception):
    """Raised inside a row's savepoint so that the row's writes roll back."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        super().__init__("; ".join(str(issue) for issue in issues))


@dataclass
class _Run:
    """State shared by the rows of one import."""

    parsed: ParsedFile
    actor: Actor
    sha256: str
    created: dict[str, int]
    # casefolded username -> line, for people files: where each username is (first) listed
    listed: dict[str, int] = field(default_factory=dict)
    failed: set[str] = field(default_factory=set)
    # casefolded e-mail -> username of the account holding it, loaded once for people files
    # (the parser already refuses an e-mail repeated within the file)
    emails: dict[str, str] = field(default_factory=dict)


def _issues(
    exc: ValidationError | PermissionDenied,
    row: Row,
    fields: Mapping[str, str | None],
    default: str | None,
) -> list[Issue]:
    """Turn an action's exception into issues, mapping model field names to CSV columns.

    Fields mapped to the empty string are dropped (already reported another way).
    """
    if isinstance(exc, PermissionDenied):
        return [Issue(row.line_of(default), default, str(exc) or "not permitted")]
    found: list[Issue] = []
    if hasattr(exc, "error_dict"):
        for name, messages in exc.message_dict.items():
            column = fields.get(name, default)
            if column == "":
                continue
            found.extend(Issue(row.line_of(column), column, m) for m in messages)
    else:
        found.extend(Issue(row.line_of(default), default, m) for m in exc.messages)
    return found


def _account(username: str) -> Account | None:
    return Account.objects.filter(username=username).first()


# --- people -----------------------------------------------------------------------------

_PEOPLE_FIELDS: Mapping[str, str | None] = {
    "username": "username",
    "first_name": "full_name",
    "last_name": "full_name",
    "email": "email",
    "role": "role",
    "org_unit": "org_unit",
    "supervisor": "supervisor",
    "job_title": "job_title",
}


def _supervisor(run: _Run, row: Row) -> tuple[int | None, list[Issue]]:
    name = row.text("supervisor")
    if not name:
        return None, []
    found = _account(name)
    if found is not None:
        return found.pk, []
    listed = run.listed.get(name.casefold())
    if listed is not None and listed < row.line and name.casefold() in run.failed:
        message = f"the supervisor {name!r} (line {listed}) could not be imported"
    elif listed is not None and listed > row.line:
        message = (
            f"the supervisor {name!r} is listed later, on line {listed}; list supervisors "
            "before the people they supervise"
        )
    else:
        message = f"no person with username {name!r}"
    return None, [Issue(row.line_of("supervisor"), "supervisor", message)]


def _import_person(run: _Run, row: Row) -> None:
    issues: list[Issue] = []
    account = None
    try:
        account = do_create_account(
            username=row.text("username"),
            role=Role(row.text("role")),
            password=None,
            full_name=row.text("full_name"),
            email=row.text("email"),
            actor=run.actor,
            reason=f"bulk import, file SHA-256 {run.sha256}",
        )
    except ValidationError as exc:
        issues.extend(_issues(exc, row, _PEOPLE_FIELDS, None))
    email = row.text("email")
    holder = run.emails.get(email.casefold())
    if holder is not None:
        issues.append(Issue(row.line_of("email"), "email", f"{holder} already uses {email}"))
    unit = row.text("org_unit")
    if unit and not OrgUnit.objects.filter(code=unit).exists():
        issues.append(Issue(row.line_of("org_unit"), "org_unit", f"no unit with code {unit!r}"))
    supervisor_id, problems = _supervisor(run, row)
    issues.extend(problems)
    if issues or account is None:
        raise _RowRejected(issues)
    if unit or supervisor_id is not None or row.text("job_title"):
        try:
            do_assign_account(
                account.pk,
                org_unit_code=unit or None,
                supervisor_id=supervisor_id,
                job_title=row.text("job_title"),
                actor=run.actor,
            )
        except ValidationError as exc:
            raise _RowRejected(_issues(exc, row, _PEOPLE_FIELDS, None)) from exc
        run.created["assignments"] += 1
    run.created["accounts"] += 1


# --- grants -----------------------------------------------------------------------------

_GRANT_FIELDS: Mapping[str, str | None] = {
    "account": "username",
    "system": "system",
    "job_function": "job_function",
    "justification": "justification",
    "starts_on": "starts_on",
    "expires_on": "expires_on",
    "external_account_id": "external_account_id",
}


def _approver(run: _Run, row: Row) -> tuple[Actor | None, list[Issue]]:
    """The person named in ``approved_by`` as an actor (under the import's request id), so
    that the approval is checked by the real permission rules and recorded as theirs."""
    name = row.text("approved_by")
    if not name:
        return None, []
    approver = _account(name)
    line = row.line_of("approved_by")
    if approver is None:
        return None, [Issue(line, "approved_by", f"no person with username {name!r}")]
    if not approver.is_active:
        return None, [Issue(line, "approved_by", f"{name} is deactivated")]
    try:
        role = Role(approver.role)
    except ValueError:
        return None, [Issue(line, "approved_by", f"{name} has no known role")]
    return Actor(account_id=approver.pk, role=role, request_id=run.actor.request_id), []


def _import_grant(run: _Run, row: Row) -> None:
    issues: list[Issue] = []
    fields = dict(_GRANT_FIELDS)
    account = _account(row.text("username"))
    if account is None:
        issues.append(
            Issue(
                row.line_of("username"),
                "username",
                f"no person with username {row.text('username')!r}",
            )
        )
        fields["account"] = ""  # reported above; the action's other checks still run
    approver, problems = _approver(run, row)
    issues.extend(problems)
    grant = None
    try:
        grant = do_request_grant(
            # The system account id is never a real account, so the action still checks
            # every other field of a row whose person is unknown.
            account_id=account.pk if account is not None else SYSTEM_ACCOUNT_ID,
            system_code=row.text("system"),
            job_function=row.text("job_function"),
            justification=row.text("justification"),
            starts_on=row.date("starts_on"),
            expires_on=row.date("expires_on"),
            external_account_id=row.text("external_account_id"),
            actor=run.actor,
        )
    except (ValidationError, PermissionDenied) as exc:
        issues.extend(_issues(exc, row, fields, None))
    if issues or grant is None:
        raise _RowRejected(issues)
    run.created["grants"] += 1
    if approver is None:
        return
    try:
        do_approve_grant(
            grant.pk,
            actor=approver,
            reason=f"approved on paper; bulk import, file SHA-256 {run.sha256}",
        )
    except (ValidationError, PermissionDenied) as exc:
        problem = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
        raise _RowRejected(
            [
                Issue(
                    row.line_of("approved_by"),
                    "approved_by",
                    f"{row.text('approved_by')} may not approve this grant: {m}",
                )
                for m in problem
            ]
        ) from exc
    run.created["approvals"] += 1


# --- completions ------------------------------------------------------------------------

_COMPLETION_FIELDS: Mapping[str, str | None] = {
    "account": "username",
    "course": "course",
    "completed_on": "completed_on",
    "evidence": "evidence",
}


def _import_completion(run: _Run, row: Row) -> None:
    issues: list[Issue] = []
    fields = dict(_COMPLETION_FIELDS)
    account = _account(row.text("username"))
    if account is None:
        issues.append(
            Issue(
                row.line_of("username"),
                "username",
                f"no person with username {row.text('username')!r}",
            )
        )
        fields["account"] = ""
    try:
        do_record_completion(
            account.pk if account is not None else SYSTEM_ACCOUNT_ID,
            course_code=row.text("course"),
            completed_on=row.date("completed_on"),
            evidence=row.text("evidence"),
            actor=run.actor,
        )
    except (ValidationError, PermissionDenied) as exc:
        issues.extend(_issues(exc, row, fields, None))
    if issues:
        raise _RowRejected(issues)
    run.created["completions"] += 1


_IMPORTERS: Mapping[str, Callable[[_Run, Row], None]] = {
    "people": _import_person,
    "grants": _import_grant,
    "completions": _import_completion,
}


# --- the import -------------------------------------------------------------------------


def find_applied(kind: str, sha256: str) -> LedgerEntry | None:
    """The ``IMPORT_APPLIED`` entry of an earlier import of the same file and kind."""
    entries = LedgerEntry.objects.filter(
        event_type=int(LedgerEventType.IMPORT_APPLIED), object_type=OBJECT_TYPE, object_id=sha256
    )
    for entry in entries:
        data = json.loads(entry.body).get("data", {})
        if data.get("kind") == kind and data.get("sha256") == sha256:
            return entry
    return None


def _limit(name: str, default: int) -> int:
    value = getattr(settings, name, default)
    return int(value)


def _run_rows(run: _Run) -> list[Issue]:
    """Run every clean row in its own savepoint; return every problem, in file order."""
    errors: list[Issue] = []
    importer = _IMPORTERS[run.parsed.spec.kind]
    if run.parsed.spec.kind == "people":
        for row in run.parsed.rows:
            if row.text("username"):
                run.listed.setdefault(row.text("username").casefold(), row.line)
        for username, email in Account.objects.exclude(email="").values_list("username", "email"):
            run.emails.setdefault(email.casefold(), username)
    for row in run.parsed.rows:
        username = row.text("username").casefold()
        if not row.ok:
            errors.extend(row.issues)
            run.failed.add(username)
            continue
        try:
            with transaction.atomic():
                importer(run, row)
        except _RowRejected as rejected:
            errors.extend(rejected.issues)
            run.failed.add(username)
        except (IntegrityError, DataError) as exc:
            errors.append(Issue(row.line, None, f"the database refused the row: {exc}"))
            run.failed.add(username)
    return errors


def do_bulk_import(
    kind: str, data: bytes, *, dry_run: bool, actor: Actor, filename: str = ""
) -> ImportReport:
    """Check, and unless ``dry_run`` or any error, apply a bulk import file of ``kind``.

    ``kind`` is ``people``, ``grants`` or ``completions`` (see ``bulk.parsing`` for each
    header). Only administrators may import (``Permission.BULK_IMPORT``); anyone else gets
    PermissionDenied and nothing is read or written. Every row is checked with the real
    actions; the report lists every error. The file is applied, in one transaction with one
    ``IMPORT_APPLIED`` ledger entry, only when it has no error at all and ``dry_run`` is
    false. ``filename`` enters the ledger only as a salted commitment.

    The limits come from the settings ``SEARCHLEDGER_IMPORT_MAX_BYTES`` (default 5 MiB) and
    ``SEARCHLEDGER_IMPORT_MAX_ROWS`` (default 50,000).
    """
    require(actor, Permission.BULK_IMPORT)
    if kind not in KINDS:
        raise ValidationError({"kind": f"unknown import kind {kind!r}; one of {', '.join(KINDS)}"})
    sha256 = hashlib.sha256(data).hexdigest()
    created = dict.fromkeys(CREATED_COUNTS[kind], 0)

    def report(errors: list[Issue], rows: int, seq: int | None = None) -> ImportReport:
        ordered = sorted(errors, key=lambda i: (i.line is not None, i.line or 0))
        return ImportReport(
            kind=kind,
            dry_run=dry_run,
            applied=seq is not None,
            rows=rows,
            errors=tuple(ordered),
            created=dict(created),
            sha256=sha256,
            ledger_seq=seq,
        )

    try:
        parsed = parse_csv(
            data,
            kind,
            max_bytes=_limit("SEARCHLEDGER_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES),
            max_rows=_limit("SEARCHLEDGER_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS),
        )
    except CsvFileError as exc:
        return report(list(exc.issues), 0)
    with transaction.atomic():
        # Take the ledger's write lock first: imports (and every other writer) queue here,
        # so two uploads of the same file cannot both pass the check below.
        writer.lock_head()
        earlier = find_applied(kind, sha256)
        if earlier is not None:
            transaction.set_rollback(True)
            when = earlier.recorded_at.strftime("%Y-%m-%d %H:%M UTC")
            return report(
                [
                    Issue(
                        None,
                        None,
                        f"this {kind} file was already imported on {when} (ledger entry "
                        f"{earlier.seq}); the same file is never imported twice",
                    )
                ],
                parsed.row_count,
            )
        run = _Run(parsed=parsed, actor=actor, sha256=sha256, created=created)
        errors = _run_rows(run)
        if errors or dry_run:
            transaction.set_rollback(True)
            return report(errors, parsed.row_count)
        appended = writer.append(
            LedgerEventType.IMPORT_APPLIED,
            object_type=OBJECT_TYPE,
            object_id=sha256,
            actor=actor,
            data={
                "kind": kind,
                "rows": parsed.row_count,
                "sha256": sha256,
                "created": dict(created),
            },
            personal={"filename": filename} if filename else None,
        )
    return report([], parsed.row_count, appended.seq)
