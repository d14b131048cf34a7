"""Persistence for supervisory review. Rows change only through ``reviews.actions``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from typing_extensions import override

from searchledger.core.reviews import ReviewVerdict

__all__ = ["CampaignStatus", "ReviewCampaign", "ReviewItem"]


class CampaignStatus(models.TextChoices):
    """Whether a campaign is still being reviewed."""

    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class ReviewCampaign(models.Model):
    """A periodic review of the searches of an org unit (and the units below it) requested in
    a period: the sample drawn (every search that is a risk by rule, plus a random share of
    the rest, reproducible from ``seed``), the deadline, and who opened and closed it."""

    org_unit = models.ForeignKey("accounts.OrgUnit", on_delete=models.PROTECT, related_name="+")
    period_start = models.DateField()
    period_end = models.DateField()
    random_share = models.DecimalField(max_digits=4, decimal_places=3)
    seed = models.PositiveBigIntegerField()
    seed_generated = models.BooleanField(
        default=False, help_text="The seed was generated, not chosen by whoever opened it."
    )
    deadline = models.DateField()
    status = models.CharField(
        max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.OPEN
    )
    candidates = models.PositiveIntegerField(
        default=0, help_text="Searches in the unit and period when the sample was drawn."
    )
    opened_at = models.DateTimeField()
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closing_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-opened_at", "-pk"]

    @override
    def __str__(self) -> str:
        return f"Review of {self.org_unit} {self.period_start} to {self.period_end}"


class ReviewItem(models.Model):
    """One sampled search in a campaign: why it was drawn, and the review once recorded (the
    checklist answers, the verdict, notes, who and when)."""

    campaign = models.ForeignKey(ReviewCampaign, on_delete=models.PROTECT, related_name="items")
    search = models.ForeignKey(
        "searches.SearchRecord", on_delete=models.PROTECT, related_name="review_items"
    )
    reasons = models.JSONField(default=list)
    refused_search = models.ForeignKey(
        "searches.SearchRecord",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The refused request this search retried, when that is a reason.",
    )
    answers = models.JSONField(default=dict, blank=True)
    verdict = models.CharField(
        max_length=20,
        blank=True,
        choices=[(v.value, v.value.replace("_", " ").capitalize()) for v in ReviewVerdict],
    )
    notes = models.TextField(blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["campaign", "search_id"]
        constraints = [models.UniqueConstraint(fields=["campaign", "search"], name="sampled_once")]

    @override
    def __str__(self) -> str:
        return f"Search {self.search_id} in {self.campaign}"

    @property
    def reviewed(self) -> bool:
        """Whether the review of this search is recorded."""
        return self.reviewed_at is not None
