"""The only writer of reconciliation runs and their discrepancies.

:func:`do_reconcile` (``RECONCILE``: auditors and administrators) gathers a system's
completed imports, account links and search records for a period, runs the DuckDB engine
(``reconciliation.engine``) *outside* any transaction, then in one transaction stores the
run and its discrepancies, raises one finding per discrepancy (``findings.raise_finding``,
idempotent per source reference, so a re-run over the same data raises nothing new) and
appends ``RECON_RUN_COMPLETED`` with the counts, the imports' SHA-256 and the digest of the
discrepancy list. No personal data enters the ledger: the entry names the system, the period
and the parameters, and nothing about anyone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from searchledger.apps.accesslogs.models import AccessLogImport
from searchledger.apps.accesslogs.selectors import account_links, imports_covering
from searchledger.apps.accounts.models import Account
from searchledger.apps.authz import require
from searchledger.apps.findings.actions import FindingDraft, raise_finding
from searchledger.apps.findings.models import Finding
from searchledger.apps.ledger import tracking, writer
from searchledger.apps.reconciliation.engine import EngineError, EventFile, reconcile_files
from searchledger.apps.reconciliation.models import Discrepancy, ReconciliationRun
from searchledger.apps.searches.models import SearchRecord
from searchledger.apps.systems.models import ExternalSystem
from searchledger.core import reconciliation as core
from searchledger.core.actor import Actor
from searchledger.core.reconciliation import DiscrepancyKind as Kind
from searchledger.core.roles import Permission
from searchledger.ledger.events import LedgerEventType

__all__ = ["SEVERITY", "default_params", "do_reconcile"]

_RUN = "reconciliation.reconciliationrun"
_SOURCE = "reconciliation"
_MAX_DAYS = 366 * 5

# How serious each kind is; a finding's due date follows from it (``core.reviews``).
SEVERITY: dict[Kind, str] = {
    Kind.UNDOCUMENTED_SEARCH: "high",
    Kind.SEARCHED_AFTER_REFUSAL: "critical",
    Kind.UNKNOWN_ACCOUNT: "critical",
    Kind.NO_EXTERNAL_EVENT: "medium",
    Kind.CASE_MISMATCH: "medium",
    Kind.OUT_OF_HOURS: "low",
    Kind.BURST: "medium",
    Kind.HIGH_VOLUME: "medium",
}


def default_params(tolerance_minutes: int | None = None) -> core.ReconciliationParams:
    """The default parameters in the agency's time zone (``settings.TIME_ZONE``),
    optionally with another tolerance."""
    params = core.ReconciliationParams(time_zone=settings.TIME_ZONE)
    if tolerance_minutes is not None:
        params = replace(params, tolerance_minutes=tolerance_minutes)
    return params


def _period(start: date, end: date, zone: str) -> core.Period:
    """Local midnight at ``start`` to local midnight after ``end``, as UTC instants."""
    tz = ZoneInfo(zone)
    return core.Period(
        datetime.combine(start, time(), tzinfo=tz).astimezone(ZoneInfo("UTC")),
        datetime.combine(end + timedelta(days=1), time(), tzinfo=tz).astimezone(ZoneInfo("UTC")),
    )


def _search_time(
    status: str, requested: datetime, authorised: datetime | None, searched: datetime | None
) -> datetime:
    """When a search happened, as reconciliation sees it: run if documented, else
    authorised, else requested."""
    if status == "documented" and searched is not None:
        return searched
    return authorised or requested


def _searches(system: ExternalSystem, lo: datetime, hi: datetime) -> list[core.DocumentedSearch]:
    """The system's search records whose reconciliation time lies in ``[lo, hi]``."""
    rows = SearchRecord.objects.filter(system=system).filter(
        Q(requested_at__range=(lo, hi))
        | Q(authorised_at__range=(lo, hi))
        | Q(searched_at__range=(lo, hi))
    )
    found: list[core.DocumentedSearch] = []
    for row in rows.values_list(
        "pk",
        "officer_id",
        "status",
        "case_number",
        "requested_at",
        "authorised_at",
        "searched_at",
        "org_unit_id",
    ):
        at = _search_time(row[2], row[4], row[5], row[6])
        if lo <= at <= hi:
            found.append(
                core.DocumentedSearch(
                    id=row[0],
                    officer_id=row[1],
                    system_id=system.pk,
                    time=at,
                    status=row[2],
                    case_ref=row[3] or None,
                    unit_id=row[7],
                )
            )
    return found


def _ref(value: str) -> str:
    """An external account id short enough for a source reference."""
    if len(value) <= 80:
        return value
    return "sha256-" + hashlib.sha256(value.encode()).hexdigest()[:32]


def _when(moment: datetime | None) -> str:
    return f"{moment.astimezone(ZoneInfo('UTC')):%Y-%m-%d %H:%M:%S} UTC" if moment else ""


def _draft(
    d: core.Discrepancy,
    system: ExternalSystem,
    run_period: core.Period,
    params: core.ReconciliationParams,
) -> FindingDraft:
    """The finding a discrepancy raises: kind, severity, a one-line summary, a stable
    source reference (the same discrepancy found again is the same finding) and detail."""
    code = system.code
    source = (d.source or "")[:16]
    account = d.account or ""
    at = _when(d.time)
    match d.kind:
        case Kind.UNDOCUMENTED_SEARCH:
            ref = f"undocumented:{code}:{source}:{d.line}"
            summary = f"Search on {system.name} by account {account} at {at} is not documented."
        case Kind.SEARCHED_AFTER_REFUSAL:
            ref = f"after_refusal:{code}:{source}:{d.line}"
            summary = (
                f"Search on {system.name} by account {account} at {at} matches only a refused "
                f"or cancelled request (search {d.search_id})."
            )
        case Kind.CASE_MISMATCH:
            ref = f"case_mismatch:{code}:{source}:{d.line}"
            summary = (
                f"Search on {system.name} at {at} was logged for another case than search "
                f"{d.search_id} records."
            )
        case Kind.UNKNOWN_ACCOUNT:
            ref = f"unknown_account:{code}:{_ref(account)}"
            summary = (
                f"Account {account} on {system.name} searched {d.count} times and is not "
                "mapped to anyone."
            )
        case Kind.NO_EXTERNAL_EVENT:
            ref = f"no_external_event:{d.search_id}"
            summary = f"Search {d.search_id} ({at}) has no matching event in {system.name}'s log."
        case Kind.OUT_OF_HOURS:
            local = d.time.astimezone(ZoneInfo(params.time_zone)).date()
            ref = f"out_of_hours:{code}:{_ref(account)}:{local.isoformat()}"
            summary = (
                f"Account {account} searched {system.name} {d.count} times out of hours "
                f"on {local.isoformat()}."
            )
        case Kind.BURST:
            ref = f"burst:{code}:{_ref(account)}:{d.time.isoformat()}"
            summary = (
                f"Account {account} ran {d.count} searches on {system.name} between {at} and "
                f"{_when(d.last)}."
            )
        case Kind.HIGH_VOLUME:
            start, end = run_period.start.date().isoformat(), run_period.end.date().isoformat()
            ref = f"high_volume:{code}:{d.person_id}:{start}:{end}"
            summary = (
                f"{d.count} searches on {system.name} in the period, more than "
                f"{params.high_volume_factor:g} times the unit's median of {d.median:g}."
            )
    detail: dict[str, str | int | None] = {
        key: value
        for key, value in d.as_json().items()
        if value is not None and key not in {"kind", "person_id", "search_id", "unit_id"}
    }
    return FindingDraft(
        source=_SOURCE,
        kind=d.kind.value,
        severity=SEVERITY[d.kind],
        summary=summary[:300],
        source_ref=ref[:200],
        subject_id=d.person_id,
        system_id=system.pk,
        search_id=d.search_id,
        org_unit_id=d.unit_id,
        detail=detail,
    )


def _check(
    system_code: str, start: date, end: date, params: core.ReconciliationParams
) -> ExternalSystem:
    """The system, or ``ValidationError`` naming each field that is wrong."""
    errors: dict[str, str] = {}
    system = ExternalSystem.objects.filter(code=system_code).first()
    if system is None:
        errors["system"] = f"no system with code {system_code!r}"
    if end < start:
        errors["end"] = "the period ends before it starts"
    elif (end - start).days > _MAX_DAYS:
        errors["end"] = "a reconciliation covers at most five years"
    problems = params.errors()
    if problems:
        errors["params"] = " ".join(problems)
    if errors or system is None:
        raise ValidationError(errors)
    return system


def do_reconcile(
    system_code: str,
    *,
    start: date,
    end: date,
    params: core.ReconciliationParams | None = None,
    actor: Actor,
    progress: Callable[[str], None] | None = None,
) -> ReconciliationRun:
    """Reconcile ``system_code``'s completed imports against its search records for the
    local dates ``start`` to ``end`` (inclusive); see ``docs/reconciliation.md``.
    ``progress``, if given, is told each phase as it starts (the CLI prints them).

    ``RECONCILE`` only. ``ValidationError`` for an unknown system, a reversed period, bad
    parameters, when no completed import covers any of the period, or when an import's
    event file cannot be read (nothing is written then)."""
    say = progress or (lambda _phase: None)
    require(actor, Permission.RECONCILE)
    params = params or default_params()
    system = _check(system_code, start, end, params)
    period = _period(start, end, params.time_zone)
    tol = params.tolerance
    covering = imports_covering(system.pk, period.start - tol, period.end + tol)
    if not covering:
        raise ValidationError(
            {"system": f"no completed import of {system.code}'s access log covers the period"}
        )
    sha = dict(
        AccessLogImport.objects.filter(pk__in=[c.import_id for c in covering]).values_list(
            "pk", "sha256"
        )
    )
    files = [EventFile(sha[c.import_id], Path(c.parquet_path)) for c in covering]
    coverage = [
        (c.first_event_at, c.last_event_at)
        for c in covering
        if c.first_event_at is not None and c.last_event_at is not None
    ]
    say(f"reading {len(files)} import(s), the account links and the search records")
    links = account_links(system.pk)
    units = dict(Account.objects.values_list("pk", "org_unit_id"))
    searches = _searches(system, period.start - tol, period.end + tol)

    started = timezone.now()
    say(f"matching against {len(searches):,} search record(s)")
    try:
        found = reconcile_files(
            system_id=system.pk,
            files=files,
            searches=searches,
            links=links,
            person_units=units,
            coverage=coverage,
            period=period,
            params=params,
        )
    except EngineError as exc:
        raise ValidationError({"system": f"the imported events cannot be read: {exc}"}) from exc
    say(f"storing {len(found):,} discrepancies and raising their findings")
    imports: list[dict[str, int | str]] = [
        {"id": c.import_id, "sha256": sha[c.import_id]} for c in covering
    ]
    return _store(
        system,
        dates=(start, end),
        period=period,
        params=params,
        imports=imports,
        found=found,
        started=started,
        actor=actor,
    )


@transaction.atomic
def _store(
    system: ExternalSystem,
    *,
    dates: tuple[date, date],
    period: core.Period,
    params: core.ReconciliationParams,
    imports: list[dict[str, int | str]],
    found: list[core.Discrepancy],
    started: datetime,
    actor: Actor,
) -> ReconciliationRun:
    """Store the run and its discrepancies, raise their findings, append the entry."""
    start, end = dates
    counts = core.count_by_kind(found)
    digest = core.digest(found)
    run = ReconciliationRun(
        system=system,
        period_from=start,
        period_to=end,
        starts_at=period.start,
        ends_at=period.end,
        parameters=params.as_json(),
        imports=imports,
        counts=counts,
        total=len(found),
        digest=digest,
        started_at=started,
        finished_at=timezone.now(),
        run_by_id=None if actor.is_system else actor.account_id,
    )
    run.save(force_insert=True)
    import_ids = {entry["sha256"]: entry["id"] for entry in imports}
    drafts = [_draft(d, system, period, params) for d in found]
    # The findings an earlier run raised already, fetched in bulk: raise_finding would return
    # each of them unchanged, one validation and lookup at a time.
    existing: dict[str, Finding] = {}
    refs = [draft.source_ref.strip() for draft in drafts]
    for chunk in range(0, len(refs), 500):
        earlier = Finding.objects.filter(source=_SOURCE, source_ref__in=refs[chunk : chunk + 500])
        existing.update((f.source_ref, f) for f in earlier)
    rows: list[Discrepancy] = []
    raised = 0
    for d, draft in zip(found, drafts, strict=True):
        finding = existing.get(draft.source_ref.strip())
        if finding is None:
            finding, created = raise_finding(draft, actor=actor)
            raised += int(created)
        rows.append(
            Discrepancy(
                run=run,
                kind=d.kind.value,
                person_id=d.person_id,
                external_account=d.account or "",
                search_id=d.search_id,
                log_import_id=import_ids.get(d.source) if d.source else None,
                line=d.line,
                time=d.time,
                detail={k: v for k, v in d.as_json().items() if v is not None},
                finding=finding,
            )
        )
    Discrepancy.objects.bulk_create(rows, batch_size=1000)
    # bulk_create sends no signals: RECON_RUN_COMPLETED commits to the run's discrepancies.
    tracking.mark_pks(Discrepancy, [run.pk])
    writer.append(
        LedgerEventType.RECON_RUN_COMPLETED,
        object_type=_RUN,
        object_id=run.pk,
        actor=actor,
        data={
            "system": system.code,
            "period_from": start.isoformat(),
            "period_to": end.isoformat(),
            "parameters": params.as_json(),
            "imports": [entry["sha256"] for entry in imports],
            "counts": counts,
            "total": len(found),
            "findings_raised": raised,
            "digest": digest,
        },
    )
    return run
