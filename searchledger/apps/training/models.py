"""Persistence for training. Rows change only through ``training.actions``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from typing_extensions import override

__all__ = ["Course", "CourseProvider", "RulesAcknowledgment", "TrainingCompletion"]


class CourseProvider(models.TextChoices):
    """Who gives the course."""

    AGENCY = "agency", "The agency"
    SYSTEM_OWNER = "system_owner", "The system's owner"
    OTHER = "other", "Other"


class Course(models.Model):
    """A training course whose completion is valid for ``valid_for_days`` (e.g. 365 for
    annual privacy training, 730 for a system owner's biennial course)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    provider = models.CharField(max_length=20, choices=CourseProvider.choices)
    valid_for_days = models.PositiveIntegerField()

    class Meta:
        ordering = ["name"]

    @override
    def __str__(self) -> str:
        return self.name


class TrainingCompletion(models.Model):
    """That ``account`` completed ``course`` on ``completed_on``, with evidence (certificate
    number, roster reference)."""

    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="completions"
    )
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="completions")
    completed_on = models.DateField()
    evidence = models.CharField(max_length=300)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-completed_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "course", "completed_on"], name="completion_once_a_day"
            )
        ]

    @override
    def __str__(self) -> str:
        return f"{self.account} completed {self.course} on {self.completed_on}"


class RulesAcknowledgment(models.Model):
    """That ``account`` read and accepted one version of a system's rules of behaviour."""

    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="acknowledgments"
    )
    rules = models.ForeignKey(
        "systems.RulesVersion", on_delete=models.PROTECT, related_name="acknowledgments"
    )
    acknowledged_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "rules"], name="acknowledge_once")
        ]

    @override
    def __str__(self) -> str:
        return f"{self.account} acknowledged {self.rules}"
