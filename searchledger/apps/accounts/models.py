"""Persistence for accounts. Rows change only through ``accounts.actions``."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from typing_extensions import override

from searchledger.core.roles import Permission, Role, role_may

__all__ = ["Account", "OrgUnit", "OrgUnitKind"]


class OrgUnitKind(models.TextChoices):
    """Levels of the organisation tree."""

    AGENCY = "agency", "Agency"
    COMPONENT = "component", "Component"
    FIELD_OFFICE = "field_office", "Field office"
    UNIT = "unit", "Unit"


class OrgUnit(models.Model):
    """A node of the organisation tree: the agency, its components (e.g. ERO, HSI), their
    field offices and units. Supervisors see and act on their unit and the units below it."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=OrgUnitKind.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        ordering = ["name"]

    @override
    def __str__(self) -> str:
        return self.name

    def path(self) -> list[OrgUnit]:
        """This unit and its ancestors, root first."""
        chain: list[OrgUnit] = []
        node: OrgUnit | None = self
        while node is not None:
            chain.append(node)
            node = node.parent
        return list(reversed(chain))


class Account(AbstractUser):
    """A person who signs in. Accounts are deactivated, never deleted, so that every
    ledger entry's actor id keeps pointing at someone."""

    role = models.CharField(
        max_length=20,
        choices=[(r.value, r.label) for r in Role],
        default=Role.OFFICER.value,
    )
    org_unit = models.ForeignKey(
        OrgUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    supervisor = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reports"
    )
    job_title = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["username"]

    @override
    def __str__(self) -> str:
        return self.username

    @property
    def role_enum(self) -> Role:
        """The role as the core's enum."""
        return Role(self.role)

    def may(self, permission: Permission) -> bool:
        """Whether this account, if active, holds ``permission`` through its role."""
        return bool(self.is_active) and role_may(self.role, permission)
