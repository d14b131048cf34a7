"""Reads for the transparency report: the report computed live from the ledger (the draft
preview, the command line) and the reports published so far. Writes are in ``actions``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import QuerySet

from searchledger.apps.ledger import selectors as ledger_selectors
from searchledger.apps.ledger.models import Checkpoint, LedgerEntry
from searchledger.apps.reports.audit import AuditRange, entries
from searchledger.apps.reports.models import PublishedReport
from searchledger.core.transparency import TransparencyReport, build_report

__all__ = [
    "LiveReport",
    "compute_report",
    "database_entries",
    "latest_checkpoint",
    "list_published",
    "report_zone",
]

# The largest threshold a form accepts: past it nearly every count would be hidden.
MAX_THRESHOLD = 100


def report_zone() -> str:
    """The time zone whose days the report counts (the deployment's ``TIME_ZONE``)."""
    return str(settings.TIME_ZONE)


def latest_checkpoint() -> Checkpoint | None:
    """The latest signed checkpoint, if any."""
    return Checkpoint.objects.order_by("-size").first()


@dataclass(frozen=True)
class LiveReport:
    """A report computed now over the first ``size`` entries, whose root is ``root``."""

    report: TransparencyReport
    size: int
    root: str


def compute_report(
    first_day: date, last_day: date, threshold: int, *, size: int | None = None
) -> LiveReport:
    """The report for ``first_day`` to ``last_day`` (both included) over the ledger's first
    ``size`` entries (default: every entry now); ValueError for an inverted period."""
    if last_day < first_day:
        raise ValueError(f"the period ends ({last_day}) before it starts ({first_day})")
    current, root = ledger_selectors.get_tree_head()
    count = current if size is None else size
    if count == current:
        root_hex = root.hex()
    else:
        checkpoint = Checkpoint.objects.filter(size=count).first()
        root_hex = checkpoint.root if checkpoint else ""
    report = build_report(
        (entry for entry, _ in entries(AuditRange(0, count))),
        start=first_day,
        end=last_day + timedelta(days=1),
        threshold=threshold,
        zone=ZoneInfo(report_zone()),
    )
    return LiveReport(report=report, size=count, root=root_hex)


def database_entries(size: int | None = None) -> tuple[list[bytes], int]:
    """The stored bytes of the ledger's first ``size`` entries (default: as many as the
    latest checkpoint covers, or every entry if none is signed yet), and that size."""
    if size is None:
        checkpoint = latest_checkpoint()
        size = checkpoint.size if checkpoint else ledger_selectors.get_tree_head()[0]
    bodies = LedgerEntry.objects.filter(seq__lt=size).order_by("seq").values_list("body", flat=True)
    return [body.encode("utf-8") for body in bodies.iterator(chunk_size=2000)], size


def list_published() -> QuerySet[PublishedReport]:
    """Every published report, newest first."""
    return PublishedReport.objects.select_related("published_by")
