"""Persistence for the external systems catalogue. Rows change only through
``systems.actions``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from typing_extensions import override

__all__ = [
    "AccessMethod",
    "ExternalSystem",
    "PrivacyAssessment",
    "RulesVersion",
    "SystemKind",
]


class SystemKind(models.TextChoices):
    """What kind of data the system holds."""

    FACE_RECOGNITION = "face_recognition", "Face-recognition service"
    FACE_IMAGES = "face_images", "Face-image repository"
    DRIVER_RECORDS = "driver_records", "Driver records"
    LICENCE_PLATES = "licence_plates", "Licence plates"
    CRIMINAL_HISTORY = "criminal_history", "Criminal history"
    OTHER = "other", "Other"


class AccessMethod(models.TextChoices):
    """How officers reach the system."""

    WEB_PORTAL = "web_portal", "Web portal"
    API = "api", "API"
    OTHER = "other", "Other"


class PrivacyAssessment(models.TextChoices):
    """Status of the privacy (impact) assessment for the agency's use of the system."""

    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    APPROVED = "approved", "Approved"
    EXPIRED = "expired", "Expired"


class ExternalSystem(models.Model):
    """A system outside the agency that officers search (e.g. a state's face-image
    repository reached through a dashboard portal, or a vendor's face-recognition service)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    owner = models.CharField(max_length=200, help_text="Who runs it, e.g. a state agency.")
    kind = models.CharField(max_length=30, choices=SystemKind.choices)
    access_method = models.CharField(max_length=20, choices=AccessMethod.choices)
    reached_through = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reachable_systems",
        help_text="The portal this system is reached through, if any.",
    )
    has_agreement = models.BooleanField(default=False)
    agreement_reference = models.CharField(max_length=200, blank=True)
    privacy_assessment = models.CharField(
        max_length=20, choices=PrivacyAssessment.choices, default=PrivacyAssessment.NOT_STARTED
    )
    in_service = models.BooleanField(default=True)
    recertify_every_days = models.PositiveIntegerField(
        default=365, help_text="How often each grant to this system must be recertified."
    )
    required_courses = models.ManyToManyField(
        "training.Course", blank=True, related_name="required_by"
    )

    class Meta:
        ordering = ["name"]

    @override
    def __str__(self) -> str:
        return self.name

    def current_rules(self) -> RulesVersion | None:
        """The newest published rules-of-behaviour version."""
        return self.rules_versions.order_by("-version").first()


class RulesVersion(models.Model):
    """One version of a system's rules of behaviour. Versions are never edited: a change
    is a new version, which everyone must acknowledge again."""

    system = models.ForeignKey(
        ExternalSystem, on_delete=models.PROTECT, related_name="rules_versions"
    )
    version = models.PositiveIntegerField()
    text = models.TextField()
    text_sha256 = models.CharField(max_length=64)
    published_at = models.DateTimeField()
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["system", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["system", "version"], name="rules_version_once")
        ]

    @override
    def __str__(self) -> str:
        return f"{self.system} rules v{self.version}"
