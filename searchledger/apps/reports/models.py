"""Persistence for reports: the transparency reports published so far. Rows are written
only by ``reports.actions.do_publish_transparency_report`` and never changed."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from typing_extensions import override

from searchledger.core.published import ReportMeta, report_csv

__all__ = ["PublishedReport"]


class PublishedReport(models.Model):
    """A transparency report as published: the period (first and last day, in
    ``time_zone``), the suppression threshold, the ledger checkpoint it was computed from,
    and its cells as published (``[table, row, column, value]``, ``"suppressed"`` for a
    hidden count). ``csv_sha256`` is the hash of its canonical CSV, also in the ledger."""

    agency_title = models.CharField(max_length=200)
    period_start = models.DateField()
    period_end = models.DateField(help_text="The last day of the period (included).")
    time_zone = models.CharField(max_length=64)
    threshold = models.PositiveIntegerField()
    checkpoint_size = models.BigIntegerField()
    checkpoint_root = models.CharField(max_length=64)
    rows = models.JSONField()
    csv_sha256 = models.CharField(max_length=64)
    published_at = models.DateTimeField()
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-published_at", "-pk"]

    @override
    def __str__(self) -> str:
        return f"{self.agency_title}: {self.period_start} to {self.period_end}"

    @property
    def meta(self) -> ReportMeta:
        """What the report was computed from, as its CSV states it."""
        return ReportMeta(
            first_day=self.period_start,
            last_day=self.period_end,
            time_zone=self.time_zone,
            threshold=self.threshold,
            checkpoint_size=self.checkpoint_size,
            checkpoint_root=self.checkpoint_root,
        )

    def csv_text(self) -> str:
        """The report's canonical CSV (its SHA-256 is ``csv_sha256``)."""
        return report_csv(self.meta, self.rows)
