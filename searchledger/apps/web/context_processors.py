"""Template context shared by every page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from searchledger.core.roles import Permission

__all__ = ["NAVIGATION", "navigation"]

# (label, url name, permission): a link appears only for roles that may open it.
NAVIGATION = [
    ("Home", "home", Permission.VIEW_HOME),
    ("Systems", "systems:list", Permission.VIEW_SYSTEMS),
    ("Access", "grants:list", Permission.VIEW_GRANTS),
    # Every role: officers see their own searches, the others those in their scope.
    ("Searches", "searches:mine", Permission.VIEW_GRANTS),
    ("Who has access", "grants:overview", Permission.VIEW_ACCESS_COUNTS),
    ("Dashboard", "reports:dashboard", Permission.VIEW_ACCESS_COUNTS),
    ("Training", "training:list", Permission.VIEW_GRANTS),
    ("Accounts", "accounts:list", Permission.VIEW_ACCOUNTS),
    ("Import", "bulk:import", Permission.BULK_IMPORT),
    ("Access logs", "accesslogs:index", Permission.IMPORT_ACCESS_LOGS),
    ("Policies", "searches:policies", Permission.MANAGE_SEARCH_POLICY),
    ("Reviews", "reviews:list", Permission.REVIEW_SEARCHES),
    ("Findings", "findings:list", Permission.VIEW_FINDINGS),
    ("Reconciliation", "reconciliation:list", Permission.RECONCILE),
    ("Oversight", "oversight:list", Permission.VIEW_RECOMMENDATIONS),
    ("Ledger", "ledger:index", Permission.VIEW_LEDGER),
    ("Security", "accounts:mfa", Permission.MANAGE_OWN_CREDENTIALS),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The navigation links the signed-in account may follow."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_links": []}
    links = [
        {"label": label, "url": reverse(name), "current": False}
        for label, name, permission in NAVIGATION
        if user.may(permission)
    ]
    # The current section is the link whose URL is the longest prefix of this page's path
    # (so /searches/policies/ marks "Policies", not "Searches").
    matches = [
        link
        for link in links
        if request.path == link["url"]
        or (link["url"] != "/" and request.path.startswith(str(link["url"])))
    ]
    if matches:
        max(matches, key=lambda link: len(str(link["url"])))["current"] = True
    return {"nav_links": links}
