"""Persistence for reconciliation. Rows change only through ``reconciliation.actions``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from typing_extensions import override

from searchledger.core.reconciliation import DiscrepancyKind

__all__ = ["Discrepancy", "ReconciliationRun"]


class ReconciliationRun(models.Model):
    """One reconciliation of a system's imported access logs against the searches
    documented here, for a period of local dates (both inclusive): the parameters used, the
    imports read (their files' SHA-256), how many discrepancies of each kind were found and
    the digest of the canonical discrepancy list (``core.reconciliation.digest``), which the
    ``RECON_RUN_COMPLETED`` ledger entry also carries. Runs are never changed afterwards."""

    system = models.ForeignKey(
        "systems.ExternalSystem", on_delete=models.PROTECT, related_name="reconciliations"
    )
    period_from = models.DateField()
    period_to = models.DateField()
    starts_at = models.DateTimeField(help_text="The period's first instant (UTC).")
    ends_at = models.DateTimeField(help_text="The instant after the period (UTC).")
    parameters = models.JSONField(default=dict)
    imports = models.JSONField(
        default=list, help_text="The imports read: [{'id', 'sha256'}], oldest first."
    )
    counts = models.JSONField(default=dict, help_text="Kind -> number of discrepancies.")
    total = models.PositiveIntegerField(default=0)
    digest = models.CharField(max_length=64)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    run_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-started_at", "-pk"]

    @override
    def __str__(self) -> str:
        return f"Reconciliation {self.pk} of {self.system} {self.period_from} to {self.period_to}"


class Discrepancy(models.Model):
    """One thing a reconciliation run found (``core.reconciliation.Discrepancy``): its kind,
    the person and the external account concerned, the search record, the import and line
    of the external event, when it happened, the rest in ``detail``, and the finding it
    raised (which may be shared with an earlier run that found the same thing)."""

    run = models.ForeignKey(
        ReconciliationRun, on_delete=models.PROTECT, related_name="discrepancies"
    )
    kind = models.CharField(
        max_length=30,
        choices=[(k.value, k.value.replace("_", " ").capitalize()) for k in DiscrepancyKind],
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    external_account = models.CharField(max_length=200, blank=True)
    search = models.ForeignKey(
        "searches.SearchRecord",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="discrepancies",
    )
    log_import = models.ForeignKey(
        "accesslogs.AccessLogImport",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    line = models.BigIntegerField(null=True, blank=True)
    time = models.DateTimeField()
    detail = models.JSONField(default=dict, blank=True)
    finding = models.ForeignKey(
        "findings.Finding", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["run", "kind", "time", "pk"]
        verbose_name_plural = "discrepancies"
        indexes = [models.Index(fields=["run", "kind"])]

    @override
    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.time:%Y-%m-%d %H:%M} (run {self.run_id})"
