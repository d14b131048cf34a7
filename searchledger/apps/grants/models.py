"""Persistence for access grants. Rows change only through ``grants.actions``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from typing_extensions import override

from searchledger.core.access import GrantFacts, GrantStatus

__all__ = ["AccessGrant"]


class AccessGrant(models.Model):
    """Permission for one person to search one external system, for a need to know tied to
    their job, approved by their supervisor or an administrator, for a period, recertified
    periodically and revocable. Whether it is *in force* today also depends on training and
    rules of behaviour: see ``searchledger.core.access`` and ``grants.selectors``."""

    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="grants"
    )
    system = models.ForeignKey(
        "systems.ExternalSystem", on_delete=models.PROTECT, related_name="grants"
    )
    status = models.CharField(
        max_length=20,
        choices=[(s.value, s.value.title()) for s in GrantStatus],
        default=GrantStatus.REQUESTED.value,
    )
    job_function = models.CharField(max_length=200)
    justification = models.TextField()
    external_account_id = models.CharField(
        max_length=200, blank=True, help_text="The person's account id on the external system."
    )
    starts_on = models.DateField()
    expires_on = models.DateField()
    certified_on = models.DateField(null=True, blank=True)
    recertify_every_days = models.PositiveIntegerField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["system", "account"]
        constraints = [
            # At most one open grant (requested or approved) per person and system.
            models.UniqueConstraint(
                fields=["account", "system"],
                condition=models.Q(status__in=["requested", "approved"]),
                name="one_open_grant_per_system",
            )
        ]

    @override
    def __str__(self) -> str:
        return f"{self.account} → {self.system} ({self.status})"

    def facts(self) -> GrantFacts:
        """The grant as the pure access rule sees it."""
        return GrantFacts(
            status=GrantStatus(self.status),
            starts_on=self.starts_on,
            expires_on=self.expires_on,
            certified_on=self.certified_on or self.starts_on,
            recertify_every_days=self.recertify_every_days,
        )
