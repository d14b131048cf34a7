"""Persistence for the oversight register. Rows change only through ``oversight.actions``."""

from __future__ import annotations

from enum import StrEnum

from django.conf import settings
from django.db import models
from typing_extensions import override

from searchledger.core.oversight import Closure, RecommendationStatus, Response

__all__ = ["Milestone", "OversightMemo", "Recommendation"]


def _choices(enum: type[StrEnum]) -> list[tuple[str, str]]:
    """Choices for a core enumeration: the value, and the value as words."""
    return [(m.value, m.value.replace("_", " ").capitalize()) for m in enum]


class OversightMemo(models.Model):
    """A memorandum from an oversight body (e.g. CRCL's recommendation memo on complaint
    20-05-ICE-0474) with the date it was issued and the date the agency's response is due."""

    body = models.CharField(max_length=200, help_text="The oversight body, e.g. DHS CRCL.")
    reference = models.CharField(
        max_length=100, unique=True, help_text="Its reference, e.g. Complaint No. 20-05-ICE-0474."
    )
    title = models.CharField(max_length=300)
    issued_on = models.DateField()
    response_due_on = models.DateField()
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-issued_on", "reference"]

    @override
    def __str__(self) -> str:
        return f"{self.body} {self.reference}"


class Recommendation(models.Model):
    """One numbered recommendation of a memo, the agency's response to it, its status and
    the findings and published transparency reports that evidence progress on it."""

    memo = models.ForeignKey(
        OversightMemo, on_delete=models.PROTECT, related_name="recommendations"
    )
    number = models.PositiveIntegerField()
    text = models.TextField()
    response = models.CharField(
        max_length=20, choices=_choices(Response), default=Response.PENDING.value
    )
    reasons = models.TextField(blank=True)
    responded_on = models.DateField(null=True, blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=20,
        choices=_choices(RecommendationStatus),
        default=RecommendationStatus.OPEN_UNRESOLVED.value,
    )
    closure = models.CharField(max_length=20, choices=_choices(Closure), blank=True)
    closure_note = models.TextField(blank=True)
    closed_on = models.DateField(null=True, blank=True)
    findings = models.ManyToManyField(
        "findings.Finding", blank=True, related_name="recommendations"
    )
    reports = models.ManyToManyField(
        "reports.PublishedReport", blank=True, related_name="recommendations"
    )

    class Meta:
        ordering = ["memo", "number"]
        constraints = [
            models.UniqueConstraint(fields=["memo", "number"], name="recommendation_number_once")
        ]

    @override
    def __str__(self) -> str:
        return f"{self.memo.reference} recommendation {self.number}"


class Milestone(models.Model):
    """A step of the action plan for a recommendation: what, who owns it, by when, and the
    evidence once it is done."""

    recommendation = models.ForeignKey(
        Recommendation, on_delete=models.PROTECT, related_name="milestones"
    )
    description = models.TextField()
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    due_on = models.DateField()
    done_on = models.DateField(null=True, blank=True)
    evidence = models.TextField(blank=True)

    class Meta:
        ordering = ["recommendation", "due_on", "pk"]

    @override
    def __str__(self) -> str:
        return f"milestone of {self.recommendation}: due {self.due_on}"
