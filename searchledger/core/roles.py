"""Roles and the permissions each role holds.

Deny by default: a permission not listed for a role is refused. Views, API endpoints and
actions ask :func:`role_may` (through the Django-side helpers) and nothing else.
"""

from __future__ import annotations

from enum import StrEnum, unique

__all__ = ["ROLE_PERMISSIONS", "Permission", "Role", "role_may"]


@unique
class Role(StrEnum):
    """The job functions the system knows about."""

    OFFICER = "officer"
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"
    ADMINISTRATOR = "administrator"
    OVERSIGHT = "oversight"

    @property
    def label(self) -> str:
        """Human-readable name of the role."""
        return _LABELS[self]


_LABELS = {
    Role.OFFICER: "Officer (searcher)",
    Role.SUPERVISOR: "Supervisor",
    Role.AUDITOR: "Auditor / compliance",
    Role.ADMINISTRATOR: "Administrator",
    Role.OVERSIGHT: "Oversight (read-only)",
}


@unique
class Permission(StrEnum):
    """Things a person may do; each view and endpoint requires exactly one."""

    VIEW_HOME = "view_home"
    VIEW_LEDGER = "view_ledger"
    MANAGE_ACCOUNTS = "manage_accounts"
    VIEW_ACCOUNTS = "view_accounts"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OFFICER: frozenset({Permission.VIEW_HOME}),
    Role.SUPERVISOR: frozenset({Permission.VIEW_HOME}),
    # Auditors and oversight bodies verify the ledger; they never change it.
    Role.AUDITOR: frozenset({Permission.VIEW_HOME, Permission.VIEW_LEDGER}),
    Role.OVERSIGHT: frozenset({Permission.VIEW_HOME, Permission.VIEW_LEDGER}),
    Role.ADMINISTRATOR: frozenset(
        {
            Permission.VIEW_HOME,
            Permission.VIEW_LEDGER,
            Permission.MANAGE_ACCOUNTS,
            Permission.VIEW_ACCOUNTS,
        }
    ),
}


def role_may(role: Role | str | None, permission: Permission) -> bool:
    """Return True only if ``role`` is a known role that holds ``permission``."""
    if role is None:
        return False
    try:
        known = Role(role)
    except ValueError:
        return False
    return permission in ROLE_PERMISSIONS.get(known, frozenset())
