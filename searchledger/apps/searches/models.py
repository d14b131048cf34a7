"""Persistence for search records, search policies, offence categories and known cases.
Rows change only through ``searches.actions``."""

from __future__ import annotations

from enum import StrEnum

from django.conf import settings
from django.db import models
from typing_extensions import override

from searchledger.core.searches import (
    ConventionalTechnique,
    LeadGeneration,
    LeadPosture,
    PolicyFacts,
    ProbeSource,
    SearchStatus,
    Verdict,
    VettingResult,
)

__all__ = [
    "Case",
    "CaseStatus",
    "OffenceCategory",
    "OffenceGroup",
    "ProbeImage",
    "SearchPolicy",
    "SearchRecord",
    "SearchVetting",
]


def _choices(enum: type[StrEnum]) -> list[tuple[str, str]]:
    """Choices for a core enumeration: the value, and the value as words."""
    return [(m.value, m.value.replace("_", " ").capitalize()) for m in enum]


class OffenceGroup(models.TextChoices):
    """Where an offence category comes from."""

    NIBRS_A = "nibrs_a", "NIBRS Group A"
    NIBRS_B = "nibrs_b", "NIBRS Group B"
    AGENCY = "agency", "Agency category"


class OffenceCategory(models.Model):
    """A purpose a search may be run for: an offence category (the NIBRS offence groups,
    plus categories such as civil immigration enforcement that an agency may allow or
    forbid). Policies name categories by ``code``; categories are retired, never deleted."""

    code = models.SlugField(max_length=60, unique=True)
    label = models.CharField(max_length=200)
    group = models.CharField(max_length=20, choices=OffenceGroup.choices)
    nibrs_codes = models.CharField(
        max_length=200, blank=True, help_text="The NIBRS offence codes in the category."
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["group", "label"]
        verbose_name_plural = "offence categories"

    @override
    def __str__(self) -> str:
        return self.label


class SearchPolicy(models.Model):
    """One version of the search policy for an org unit and a system. Either may be empty:
    no unit is the agency-wide policy, no system is the unit's policy for every system.
    Versions are never edited: a change is a new version, and each decision on a request
    records the version that made it."""

    org_unit = models.ForeignKey(
        "accounts.OrgUnit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    system = models.ForeignKey(
        "systems.ExternalSystem",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="search_policies",
    )
    # "<unit id or *>/<system id or *>": one series of versions per scope (NULLs in a unique
    # constraint would not collide, so the scope is spelt out).
    scope_key = models.CharField(max_length=40, editable=False)
    version = models.PositiveIntegerField()
    allowed_purposes = models.JSONField(default=list)
    forbidden_purposes = models.JSONField(default=list)
    approval_required = models.BooleanField(default=False)
    approval_purposes = models.JSONField(default=list)
    lead_generation = models.CharField(
        max_length=20, choices=_choices(LeadGeneration), default=LeadGeneration.ALLOWED.value
    )
    require_conventional_techniques = models.BooleanField(default=True)
    require_known_open_case = models.BooleanField(default=False)
    case_number_pattern = models.CharField(max_length=200, blank=True)
    documentation_business_days = models.PositiveIntegerField(default=2)
    two_person_verification = models.BooleanField(default=False)
    store_probe_images = models.BooleanField(default=False)
    probe_retention_days = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["scope_key", "-version"]
        verbose_name_plural = "search policies"
        constraints = [
            models.UniqueConstraint(fields=["scope_key", "version"], name="policy_version_once")
        ]

    @override
    def __str__(self) -> str:
        unit = self.org_unit.code if self.org_unit else "agency"
        system = self.system.code if self.system else "all systems"
        return f"Search policy {unit} / {system} v{self.version}"

    @staticmethod
    def key_for(org_unit_id: int | None, system_id: int | None) -> str:
        """The scope key of a unit and system (``None`` = every one)."""
        return f"{org_unit_id or '*'}/{system_id or '*'}"

    def facts(self) -> PolicyFacts:
        """The policy as the pure rules see it."""
        return PolicyFacts(
            version=self.version,
            allowed_purposes=frozenset(self.allowed_purposes),
            forbidden_purposes=frozenset(self.forbidden_purposes),
            approval_required=self.approval_required,
            approval_purposes=frozenset(self.approval_purposes),
            lead_generation=LeadGeneration(self.lead_generation),
            require_conventional_techniques=self.require_conventional_techniques,
            require_known_open_case=self.require_known_open_case,
            case_number_pattern=self.case_number_pattern,
            documentation_business_days=self.documentation_business_days,
            two_person_verification=self.two_person_verification,
            store_probe_images=self.store_probe_images,
            probe_retention_days=self.probe_retention_days,
        )


class CaseStatus(models.TextChoices):
    """Whether a known case is open."""

    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class Case(models.Model):
    """A case known to be open (or closed) in a case-management system, for policies that
    require a search to belong to a known open case. Optional: units without such a policy
    need not register their cases here."""

    org_unit = models.ForeignKey("accounts.OrgUnit", on_delete=models.PROTECT, related_name="+")
    case_system = models.CharField(
        max_length=40, help_text="The case-management system, e.g. ICM or EID/EARM."
    )
    number = models.CharField(max_length=64)
    status = models.CharField(max_length=10, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["case_system", "number"]
        constraints = [
            models.UniqueConstraint(fields=["case_system", "number"], name="case_number_once")
        ]

    @override
    def __str__(self) -> str:
        return f"{self.case_system} {self.number}"


class SearchRecord(models.Model):
    """One search of an external system: the request before it (purpose, case, the
    conventional techniques tried, the probe image's source, the attestation), the decision
    on it, and the outcome documented after it (candidates, vetting, lead, further action).

    In the ledger the officer, system, purpose, status, policy version and due date appear
    in clear; case numbers, notes and other free text only as commitments."""

    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="searches"
    )
    system = models.ForeignKey(
        "systems.ExternalSystem", on_delete=models.PROTECT, related_name="searches"
    )
    org_unit = models.ForeignKey(
        "accounts.OrgUnit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    policy = models.ForeignKey(SearchPolicy, on_delete=models.PROTECT, related_name="searches")
    policy_version = models.PositiveIntegerField()
    status = models.CharField(max_length=20, choices=_choices(SearchStatus))
    verdict = models.CharField(max_length=20, choices=_choices(Verdict))
    # Each reason as {"field", "code", "message"}: refusals, or why approval was needed.
    decision_reasons = models.JSONField(default=list)

    # The request.
    purpose = models.ForeignKey(OffenceCategory, on_delete=models.PROTECT, related_name="+")
    justification = models.TextField(blank=True)
    case_system = models.CharField(max_length=40)
    case_number = models.CharField(max_length=64)
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.PROTECT)
    roi_number = models.CharField(
        max_length=64, blank=True, help_text="Report-of-investigation number, once written."
    )
    lead_posture = models.CharField(max_length=20, choices=_choices(LeadPosture))
    techniques_tried = models.JSONField(default=list)
    techniques_notes = models.TextField(blank=True)
    probe_source = models.CharField(max_length=20, choices=_choices(ProbeSource))
    probe_source_notes = models.TextField(blank=True)
    probe_lawfully_obtained = models.BooleanField()
    attested_not_protected = models.BooleanField()
    requested_at = models.DateTimeField()

    # The decision by a supervisor, when the policy asked for one.
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    authorised_at = models.DateTimeField(null=True, blank=True)
    documentation_due = models.DateField(null=True, blank=True)

    # The outcome.
    searched_at = models.DateTimeField(null=True, blank=True)
    candidates_returned = models.PositiveIntegerField(null=True, blank=True)
    lead_derived = models.BooleanField(null=True, blank=True)
    further_action = models.TextField(blank=True)
    documented_at = models.DateTimeField(null=True, blank=True)

    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.TextField(blank=True)

    # Transcribed later from a paper log or case file (``do_enter_past_search``).
    entered_after_the_fact = models.BooleanField(default=False)
    entered_at = models.DateTimeField(null=True, blank=True)
    entered_from = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["status", "documentation_due"])]

    @override
    def __str__(self) -> str:
        return f"Search {self.pk}: {self.officer} → {self.system} ({self.status})"

    @property
    def techniques(self) -> frozenset[ConventionalTechnique]:
        """The conventional techniques ticked."""
        return frozenset(ConventionalTechnique(t) for t in self.techniques_tried)


class SearchVetting(models.Model):
    """One person's review of the candidates a search returned, and their conclusion."""

    search = models.ForeignKey(SearchRecord, on_delete=models.PROTECT, related_name="vettings")
    vetter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    result = models.CharField(max_length=20, choices=_choices(VettingResult))
    notes = models.TextField(blank=True)
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["search", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["search", "vetter"], name="vetted_once_per_person")
        ]

    @override
    def __str__(self) -> str:
        return f"{self.vetter} vetted search {self.search_id}: {self.result}"


class ProbeImage(models.Model):
    """The probe image of a search, kept only where the search's policy says so, encrypted
    at rest with its own data key (``searches.probes``), and destroyed when its retention
    period ends. Destroying it erases the ciphertext, its nonce and the wrapped data key
    (crypto-shredding); the hash, size and times stay as the record that it existed."""

    search = models.OneToOneField(
        SearchRecord, on_delete=models.PROTECT, related_name="probe_image"
    )
    content_type = models.CharField(max_length=20)
    size = models.PositiveIntegerField(help_text="Bytes of the plaintext image.")
    sha256 = models.CharField(max_length=64, help_text="SHA-256 of the plaintext image, hex.")
    # Envelope encryption: AES-256-GCM under a per-image data key, itself wrapped under the
    # master key whose fingerprint is ``key_id``. All three are NULL once destroyed.
    ciphertext = models.BinaryField(null=True, editable=False)
    nonce = models.BinaryField(null=True, editable=False)
    wrapped_key = models.BinaryField(null=True, editable=False)
    key_id = models.CharField(max_length=16)
    stored_at = models.DateTimeField()
    stored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    destroy_after = models.DateField()
    destroyed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["destroy_after", "pk"]
        indexes = [models.Index(fields=["destroyed_at", "destroy_after"])]

    @override
    def __str__(self) -> str:
        state = "destroyed" if self.destroyed_at else f"kept until {self.destroy_after}"
        return f"Probe image of search {self.search_id} ({state})"
