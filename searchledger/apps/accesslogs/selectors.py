"""Reads of external access logs: the event files of completed imports, the account links,
and the imports' coverage, for the pages and for reconciliation.

Only ``completed`` imports count anywhere: a running, failed or interrupted import's file
(if any) is never returned, so a retry can never make events count twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db.models import QuerySet

from searchledger.apps.accesslogs.models import (
    AccessLogImport,
    ColumnMapping,
    ExternalAccount,
    ImportStatus,
)
from searchledger.apps.authz import require
from searchledger.core.actor import Actor
from searchledger.core.roles import Permission

__all__ = [
    "EVENT_COLUMNS",
    "ImportCoverage",
    "access_import_by_id",
    "access_log_root",
    "account_links",
    "completed_event_files",
    "current_mapping",
    "imports_covering",
    "list_external_accounts",
    "list_imports",
    "may_read_imports",
]

EVENT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("line", "BIGINT"),
    ("account_id", "VARCHAR"),
    ("ts", "TIMESTAMP WITH TIME ZONE"),
    ("action", "VARCHAR"),
    ("is_search", "BOOLEAN"),
    ("reference", "VARCHAR"),
    ("case_ref", "VARCHAR"),
)
"""The schema of every event Parquet file, in column order (DuckDB type names)."""


@dataclass(frozen=True)
class ImportCoverage:
    """A completed import and the period its events cover (UTC)."""

    import_id: int
    first_event_at: datetime | None
    last_event_at: datetime | None
    valid_events: int
    parquet_path: Path
    parquet_sha256: str


def access_log_root() -> Path:
    """``$SEARCHLEDGER_HOME/access-logs``: event files, rejects reports and the spool."""
    return Path(settings.HOME) / "access-logs"


def current_mapping(system_id: int) -> ColumnMapping | None:
    """The newest column mapping of a system, or None if it has none yet."""
    return ColumnMapping.objects.filter(system_id=system_id).order_by("-version").first()


def _completed(system_id: int) -> QuerySet[AccessLogImport]:
    return AccessLogImport.objects.filter(
        system_id=system_id, status=ImportStatus.COMPLETED
    ).order_by("started_at", "pk")


def completed_event_files(system_id: int) -> list[Path]:
    """The Parquet event files of the system's completed imports, oldest import first.
    Every file has the columns of :data:`EVENT_COLUMNS`; no event is in two files (later
    imports drop events already imported)."""
    return [
        Path(p)
        for p in _completed(system_id)
        .exclude(parquet_path="")
        .values_list("parquet_path", flat=True)
    ]


def account_links(system_id: int) -> dict[str, int | None]:
    """Every external account id seen in the system's completed imports, mapped to the
    Account pk it belongs to (None while unmapped)."""
    return dict(
        ExternalAccount.objects.filter(system_id=system_id).values_list("external_id", "account_id")
    )


def imports_covering(system_id: int, start: datetime, end: datetime) -> list[ImportCoverage]:
    """The completed imports of the system whose events overlap ``[start, end]``, oldest
    first, each with the period it covers. An empty list means no external events are known
    for the period at all (which is not the same as "no searches")."""
    rows = (
        _completed(system_id)
        .exclude(first_event_at__isnull=True)
        .filter(first_event_at__lte=end, last_event_at__gte=start)
    )
    return [
        ImportCoverage(
            import_id=row.pk,
            first_event_at=row.first_event_at,
            last_event_at=row.last_event_at,
            valid_events=row.valid_events,
            parquet_path=Path(row.parquet_path),
            parquet_sha256=row.parquet_sha256,
        )
        for row in rows
    ]


def may_read_imports(actor: Actor) -> bool:
    """Administrators (who import) and auditors (who reconcile) may read import reports."""
    return actor.may(Permission.IMPORT_ACCESS_LOGS) or actor.may(Permission.RECONCILE)


def list_imports(actor: Actor, system_id: int | None = None) -> QuerySet[AccessLogImport]:
    """The imports, newest first (optionally of one system); PermissionDenied for roles
    that may not read import reports."""
    if not may_read_imports(actor):
        require(actor, Permission.IMPORT_ACCESS_LOGS)
    found = AccessLogImport.objects.select_related("system", "mapping", "started_by")
    if system_id is not None:
        found = found.filter(system_id=system_id)
    return found.order_by("-started_at", "-pk")


def access_import_by_id(import_id: int, actor: Actor) -> AccessLogImport | None:
    """One import, for a reader of import reports; None if there is no such import."""
    return list_imports(actor).filter(pk=import_id).first()


def list_external_accounts(actor: Actor, system_id: int) -> list[ExternalAccount]:
    """A system's external accounts: unmapped accounts that searched first (most searches
    first), then the other unmapped ones, then the mapped ones."""
    if not may_read_imports(actor):
        require(actor, Permission.IMPORT_ACCESS_LOGS)
    rows = list(
        ExternalAccount.objects.filter(system_id=system_id).select_related("account", "system")
    )
    rows.sort(
        key=lambda a: (
            a.account_id is not None,
            a.searches == 0,
            -a.searches,
            -a.events,
            a.external_id,
        )
    )
    return rows
