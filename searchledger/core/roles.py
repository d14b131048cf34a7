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
    """Things a person may do; each view and endpoint requires exactly one. Some are further
    scoped to the people an account may act for (``core.scope``)."""

    VIEW_HOME = "view_home"
    VIEW_LEDGER = "view_ledger"
    MANAGE_ACCOUNTS = "manage_accounts"
    VIEW_ACCOUNTS = "view_accounts"
    VIEW_SYSTEMS = "view_systems"
    MANAGE_SYSTEMS = "manage_systems"
    RECORD_TRAINING = "record_training"
    ACKNOWLEDGE_RULES = "acknowledge_rules"
    VIEW_GRANTS = "view_grants"
    REQUEST_GRANT = "request_grant"
    DECIDE_GRANT = "decide_grant"
    REQUEST_SEARCH = "request_search"
    DECIDE_SEARCH = "decide_search"
    MANAGE_CASES = "manage_cases"
    MANAGE_SEARCH_POLICY = "manage_search_policy"
    VIEW_ACCESS_COUNTS = "view_access_counts"
    BULK_IMPORT = "bulk_import"
    # Transcribe searches run before searchledger, from paper logs or case files.
    ENTER_PAST_SEARCHES = "enter_past_searches"
    # Supervisory review: open review campaigns and record the review of sampled searches.
    REVIEW_SEARCHES = "review_searches"
    # Findings from reviews and reconciliation: read them (scoped), and work them.
    VIEW_FINDINGS = "view_findings"
    MANAGE_FINDINGS = "manage_findings"
    # External systems' own access logs: import them, map their accounts to people.
    IMPORT_ACCESS_LOGS = "import_access_logs"
    # Reconcile imported access logs against documented searches.
    RECONCILE = "reconcile"
    # The register of oversight recommendations: read it (every role), and keep it.
    VIEW_RECOMMENDATIONS = "view_recommendations"
    MANAGE_RECOMMENDATIONS = "manage_recommendations"
    # Publish the public transparency report (administrators).
    PUBLISH_REPORTS = "publish_reports"
    # One's own sign-in factors and personal API tokens (every role; never a token scope).
    MANAGE_OWN_CREDENTIALS = "manage_own_credentials"


_EVERYONE = frozenset(
    {
        Permission.VIEW_HOME,
        Permission.VIEW_SYSTEMS,
        Permission.VIEW_GRANTS,
        Permission.MANAGE_OWN_CREDENTIALS,
        Permission.VIEW_RECOMMENDATIONS,
    }
)
_SEARCHERS = frozenset(
    {Permission.ACKNOWLEDGE_RULES, Permission.REQUEST_GRANT, Permission.REQUEST_SEARCH}
)

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OFFICER: _EVERYONE | _SEARCHERS,
    Role.SUPERVISOR: _EVERYONE
    | _SEARCHERS
    | {
        Permission.DECIDE_GRANT,
        Permission.VIEW_ACCESS_COUNTS,
        Permission.DECIDE_SEARCH,
        Permission.MANAGE_CASES,
        Permission.REVIEW_SEARCHES,
        Permission.VIEW_FINDINGS,
        Permission.MANAGE_FINDINGS,
    },
    # Auditors read and verify; they never change search or access records, but they review
    # searches, reconcile the external logs and work the findings that come out of both.
    Role.AUDITOR: _EVERYONE
    | {
        Permission.VIEW_LEDGER,
        Permission.VIEW_ACCESS_COUNTS,
        Permission.REVIEW_SEARCHES,
        Permission.VIEW_FINDINGS,
        Permission.MANAGE_FINDINGS,
        Permission.RECONCILE,
        Permission.MANAGE_RECOMMENDATIONS,
    },
    # Oversight bodies read only.
    Role.OVERSIGHT: _EVERYONE
    | {Permission.VIEW_LEDGER, Permission.VIEW_ACCESS_COUNTS, Permission.VIEW_FINDINGS},
    Role.ADMINISTRATOR: frozenset(Permission),
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
