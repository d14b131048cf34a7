"""Reads of search records and policies, filtered to what the reader may see.

:func:`applicable_policy` finds the policy that governs a person's search of a system;
:func:`pending_approvals` is a supervisor's queue; :func:`overdue_documentation` feeds the
officer's and the supervisor's work lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils import timezone

from searchledger.apps.accounts.models import Account
from searchledger.apps.authz import scoped_accounts
from searchledger.apps.searches.models import SearchPolicy, SearchRecord
from searchledger.apps.systems.models import ExternalSystem
from searchledger.core.actor import Actor
from searchledger.core.roles import Role
from searchledger.core.searches import SearchStatus

__all__ = [
    "SearchFilters",
    "SearchWorkItem",
    "access_search_by_id",
    "applicable_policy",
    "list_searches",
    "overdue_documentation",
    "pending_approvals",
    "policy_scope_keys",
    "search_work_list",
]


def policy_scope_keys(account: Account, system: ExternalSystem) -> list[str]:
    """The policy scopes that could govern ``account`` searching ``system``, most specific
    first: the person's unit and then each unit above it (for the system, then for every
    system), and last the agency-wide policy (for the system, then for every system)."""
    units = [u.pk for u in account.org_unit.path()] if account.org_unit else []
    keys: list[str] = []
    for unit_id in reversed(units):
        keys += [SearchPolicy.key_for(unit_id, system.pk), SearchPolicy.key_for(unit_id, None)]
    keys += [SearchPolicy.key_for(None, system.pk), SearchPolicy.key_for(None, None)]
    return keys


def applicable_policy(account: Account, system: ExternalSystem) -> SearchPolicy | None:
    """The current version of the most specific policy for ``account`` and ``system``."""
    keys = policy_scope_keys(account, system)
    current: dict[str, SearchPolicy] = {}
    for policy in SearchPolicy.objects.filter(scope_key__in=keys).order_by("version"):
        current[policy.scope_key] = policy
    return next((current[key] for key in keys if key in current), None)


def _visible(actor: Actor) -> QuerySet[SearchRecord]:
    return SearchRecord.objects.filter(officer__in=scoped_accounts(actor)).select_related(
        "officer", "system", "purpose", "policy"
    )


def access_search_by_id(search_id: int, actor: Actor) -> SearchRecord:
    """One search record, if ``actor`` may see it (their own, or in their scope)."""
    search = _visible(actor).filter(pk=search_id).first()
    if search is None:
        raise PermissionDenied("no such search record among those you may see")
    return search


@dataclass(frozen=True)
class SearchFilters:
    """Optional filters for :func:`list_searches`; empty values do not filter."""

    status: str = ""
    system_code: str = ""
    purpose: str = ""
    officer_id: int | None = None
    requested_from: date | None = None
    requested_to: date | None = None


def list_searches(actor: Actor, filters: SearchFilters | None = None) -> QuerySet[SearchRecord]:
    """The search records ``actor`` may see, newest first, filtered."""
    found = _visible(actor)
    f = filters or SearchFilters()
    if f.status:
        found = found.filter(status=f.status)
    if f.system_code:
        found = found.filter(system__code=f.system_code)
    if f.purpose:
        found = found.filter(purpose__code=f.purpose)
    if f.officer_id is not None:
        found = found.filter(officer_id=f.officer_id)
    if f.requested_from is not None:
        found = found.filter(requested_at__date__gte=f.requested_from)
    if f.requested_to is not None:
        found = found.filter(requested_at__date__lte=f.requested_to)
    return found


def pending_approvals(actor: Actor) -> QuerySet[SearchRecord]:
    """Requests waiting for ``actor``'s decision, oldest first: a supervisor's direct
    reports' requests; for an administrator, everyone's but their own."""
    waiting = SearchRecord.objects.filter(
        status=SearchStatus.PENDING_APPROVAL.value
    ).select_related("officer", "system", "purpose")
    if actor.role is Role.ADMINISTRATOR:
        return waiting.exclude(officer_id=actor.account_id).order_by("requested_at", "pk")
    if actor.role is Role.SUPERVISOR:
        return waiting.filter(officer__supervisor_id=actor.account_id).order_by(
            "requested_at", "pk"
        )
    return waiting.none()


def overdue_documentation(
    accounts: QuerySet[Account], today: date | None = None
) -> QuerySet[SearchRecord]:
    """Authorised searches of ``accounts`` whose outcome was due before ``today`` and is not
    documented, most overdue first. The officer passes themself, a supervisor their scope."""
    day = today or timezone.localdate()
    return (
        SearchRecord.objects.filter(
            officer__in=accounts,
            status=SearchStatus.AUTHORISED.value,
            documentation_due__lt=day,
        )
        .select_related("officer", "system", "purpose")
        .order_by("documentation_due", "pk")
    )


@dataclass(frozen=True)
class SearchWorkItem:
    """A search whose outcome is to be documented by ``due_on`` (or is already late)."""

    due_on: date
    overdue: bool
    what: str
    search: SearchRecord


def search_work_list(
    accounts: QuerySet[Account], today: date | None = None, horizon_days: int = 2
) -> list[SearchWorkItem]:
    """Authorised searches of ``accounts`` whose outcome is due within ``horizon_days`` or
    overdue, soonest first: the searches half of the officer's and the supervisor's work
    lists (``grants.selectors.work_list`` is the access half)."""
    day = today or timezone.localdate()
    searches = (
        SearchRecord.objects.filter(
            officer__in=accounts,
            status=SearchStatus.AUTHORISED.value,
            documentation_due__lte=day + timedelta(days=horizon_days),
        )
        .select_related("officer", "system")
        .order_by("documentation_due", "pk")
    )
    items: list[SearchWorkItem] = []
    for search in searches:
        due = search.documentation_due
        if due is None:  # authorised searches always have one; the filter ensures it
            continue
        items.append(
            SearchWorkItem(
                due_on=due,
                overdue=due < day,
                what=(
                    f"Document the outcome of search {search.pk}: "
                    f"{search.officer.username} → {search.system.name}"
                ),
                search=search,
            )
        )
    return items
