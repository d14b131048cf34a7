"""Persistence for findings. Rows change only through ``findings.actions``."""

from __future__ import annotations

from enum import StrEnum

from django.conf import settings
from django.db import models
from typing_extensions import override

from searchledger.core.reviews import FindingSource, FindingStatus, Resolution, Severity

__all__ = ["Finding", "WebhookCursor"]


def _choices(enum: type[StrEnum]) -> list[tuple[str, str]]:
    """Choices for a core enumeration: the value, and the value as words."""
    return [(m.value, m.value.replace("_", " ").capitalize()) for m in enum]


class Finding(models.Model):
    """Something a review or a reconciliation found wrong (or possibly wrong) about a search or
    about someone's use of an external system: its kind and severity, whom it is about, who
    owns it (the subject's supervisor, or nobody: then it waits in the auditors' queue), when
    it is due, the remediation recorded and how it was closed.

    ``(source, source_ref)`` is unique: raising the same finding again changes nothing.
    ``summary`` and ``detail`` are for people; the ledger holds them only as commitments."""

    source = models.CharField(max_length=20, choices=_choices(FindingSource))
    source_ref = models.CharField(max_length=200)
    kind = models.SlugField(max_length=60)
    severity = models.CharField(max_length=10, choices=_choices(Severity))
    status = models.CharField(
        max_length=24, choices=_choices(FindingStatus), default=FindingStatus.OPEN.value
    )

    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="findings_about",
    )
    org_unit = models.ForeignKey(
        "accounts.OrgUnit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    system = models.ForeignKey(
        "systems.ExternalSystem",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="findings",
    )
    search = models.ForeignKey(
        "searches.SearchRecord",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="findings",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="findings_owned",
    )
    due = models.DateField()
    summary = models.CharField(max_length=300)
    detail = models.JSONField(default=dict, blank=True)

    raised_at = models.DateTimeField()
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    remediation = models.TextField(blank=True)
    remediation_at = models.DateTimeField(null=True, blank=True)
    remediation_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    resolution = models.CharField(max_length=20, blank=True, choices=_choices(Resolution))
    closure_note = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    escalated_at = models.DateTimeField(null=True, blank=True)
    escalated_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["due", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["source", "source_ref"], name="finding_raised_once")
        ]
        indexes = [
            models.Index(fields=["status", "due"]),
            models.Index(fields=["owner", "status"]),
        ]

    @override
    def __str__(self) -> str:
        return f"Finding {self.pk}: {self.kind} ({self.severity}, {self.status})"


class WebhookCursor(models.Model):
    """How far the findings webhook has delivered to one URL: the ledger sequence number of
    the last finding entry the URL acknowledged. Operational state, like a mail queue: it
    changes outside the ledger, and losing it only means entries are delivered again."""

    url = models.URLField(max_length=500, unique=True)
    delivered_seq = models.BigIntegerField(default=-1)
    failures = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["url"]

    @override
    def __str__(self) -> str:
        return f"webhook {self.url} at entry {self.delivered_seq}"
