"""The only writer of reports: publishing a transparency report. Publishing signs a
checkpoint, computes the report over exactly the entries that checkpoint covers, stores it,
and appends ``REPORT_PUBLISHED`` (period, threshold, checkpoint size and root, and the
SHA-256 of the canonical CSV), all in one transaction."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from searchledger.apps.authz import require
from searchledger.apps.ledger import writer
from searchledger.apps.ledger.checkpoints import sign_checkpoint_if_grown
from searchledger.apps.reports.models import PublishedReport
from searchledger.apps.reports.transparency import MAX_THRESHOLD, compute_report, report_zone
from searchledger.core.actor import Actor
from searchledger.core.published import csv_sha256
from searchledger.core.roles import Permission
from searchledger.ledger.events import LedgerEventType

__all__ = ["check_publish_transparency_report", "do_publish_transparency_report"]

_OBJECT = "reports.publishedreport"


def check_publish_transparency_report(
    first_day: date | None, last_day: date | None, threshold: int | None, agency_title: str
) -> None:
    """Raise ValidationError naming every field that cannot be published as given."""
    errors: dict[str, str] = {}
    today = timezone.localdate()
    if first_day is None:
        errors["start"] = "give the period's first day"
    elif first_day > today:
        errors["start"] = "the period has not begun: it would be empty"
    if last_day is None:
        errors["end"] = "give the period's last day"
    elif first_day is not None and last_day < first_day:
        errors["end"] = f"the period ends ({last_day}) before it starts ({first_day})"
    if threshold is None or threshold < 1:
        errors["threshold"] = "the suppression threshold must be 1 or more"
    elif threshold > MAX_THRESHOLD:
        errors["threshold"] = f"the suppression threshold must be at most {MAX_THRESHOLD}"
    if not agency_title.strip():
        errors["agency_title"] = "give the agency's name as the report's title"
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def do_publish_transparency_report(
    start: date,
    end: date,
    threshold: int,
    *,
    agency_title: str,
    actor: Actor,
) -> PublishedReport:
    """Publish the report for ``start`` to ``end`` (both included) with small counts below
    ``threshold`` suppressed, computed from a checkpoint signed now."""
    require(actor, Permission.PUBLISH_REPORTS)
    check_publish_transparency_report(start, end, threshold, agency_title)
    checkpoint = sign_checkpoint_if_grown()
    live = compute_report(start, end, threshold, size=checkpoint.size)
    published = PublishedReport(
        agency_title=agency_title.strip(),
        period_start=start,
        period_end=end,
        time_zone=report_zone(),
        threshold=threshold,
        checkpoint_size=checkpoint.size,
        checkpoint_root=checkpoint.root,
        rows=[list(row) for row in live.report.rows()],
        csv_sha256="",
        published_at=timezone.now(),
        published_by_id=actor.account_id,
    )
    published.csv_sha256 = csv_sha256(published.csv_text())
    published.save(force_insert=True)
    writer.append(
        LedgerEventType.REPORT_PUBLISHED,
        object_type=_OBJECT,
        object_id=published.pk,
        actor=actor,
        data={
            "period_start": start.isoformat(),
            "period_end": end.isoformat(),
            "time_zone": published.time_zone,
            "threshold": threshold,
            "checkpoint_size": checkpoint.size,
            "checkpoint_root": checkpoint.root,
            "csv_sha256": published.csv_sha256,
        },
        personal={"agency_title": published.agency_title},
    )
    return published
