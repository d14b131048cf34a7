"""Persistence for accounts. Rows change only through ``accounts.actions``."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import AbstractUser
from django.db import models
from typing_extensions import override

from searchledger.core.roles import Permission, Role, role_may

__all__ = [
    "TOKEN_MAX_LIFETIME",
    "Account",
    "ApiToken",
    "OrgUnit",
    "OrgUnitKind",
    "SsoIdentity",
    "scope_label",
]

# The longest an API token may live; every token expires.
TOKEN_MAX_LIFETIME = timedelta(days=365)


def scope_label(value: str) -> str:
    """A permission value as words: ``view_ledger`` -> ``View ledger``."""
    return value.replace("_", " ").capitalize()


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

    @override
    def check_password(self, raw_password: str | None) -> bool:
        """Whether ``raw_password`` is this account's password, never rehashing it.

        Django's own check saves a new hash when the hasher's parameters have changed (an
        upgrade raising Argon2's costs): a write to the account row outside any action, which
        ``verify`` would rightly report as an edit. The hash is renewed instead whenever the
        password is next set, through an action."""
        return check_password(raw_password, self.password)


class ApiToken(models.Model):
    """A personal API token: ``sl_<prefix>_<secret>``. Only the SHA-256 of the secret is
    stored; the secret is shown once, when the token is issued. A token acts for its account
    with at most its ``scopes``, and only while the account's role still holds them."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    @override
    def __str__(self) -> str:
        return f"{self.name} (sl_{self.prefix}_…)"

    @property
    def scope_set(self) -> frozenset[Permission]:
        """The scopes as permissions (unknown values, if any, are ignored)."""
        known = {p.value for p in Permission}
        return frozenset(Permission(s) for s in self.scopes if s in known)

    @property
    def scope_labels(self) -> list[str]:
        """The scopes as words, for pages."""
        return [scope_label(str(s)) for s in self.scopes]

    def is_live(self, at: datetime) -> bool:
        """Neither revoked nor expired at ``at`` (the account's state is checked apart)."""
        return self.revoked_at is None and at < self.expires_at


class SsoIdentity(models.Model):
    """The identity-provider subject an account signs in as through OIDC single sign-on."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="sso_identities")
    issuer = models.CharField(max_length=500)
    subject = models.CharField(max_length=255)
    linked_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="sso_identity_unique"),
            models.UniqueConstraint(fields=["account", "issuer"], name="sso_one_per_issuer"),
        ]

    @override
    def __str__(self) -> str:
        return f"{self.issuer} {self.subject}"
