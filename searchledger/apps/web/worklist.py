"""The work list: what needs doing soon in an actor's scope, gathered from every app.

Grants (expiring, recertification due, training lapsing, requests to decide), search
requests awaiting the actor's approval, search outcomes due or overdue, findings the actor
owns (or that were escalated to them, or, for auditors, the unowned queue) and the sampled
searches of open review campaigns still to review. The home page
shows the first few; the work-list page shows all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.urls import reverse
from django.utils import timezone

from searchledger.apps.authz import scoped_accounts
from searchledger.apps.findings import selectors as finding_selectors
from searchledger.apps.grants import selectors as grant_selectors
from searchledger.apps.reviews import selectors as review_selectors
from searchledger.apps.searches import selectors as search_selectors
from searchledger.core.actor import Actor

__all__ = ["WorkRow", "work_rows"]


@dataclass(frozen=True)
class WorkRow:
    """One line of the work list, with the page where it is done."""

    due_on: date
    overdue: bool
    what: str
    url: str


def work_rows(actor: Actor) -> list[WorkRow]:
    """Everything due within 30 days (or late) in ``actor``'s scope, soonest first."""
    accounts = scoped_accounts(actor)
    rows = [
        WorkRow(i.due_on, i.overdue, i.what, reverse("grants:detail", args=[i.grant.pk]))
        for i in grant_selectors.work_list(accounts)
    ]
    rows += [
        WorkRow(
            timezone.localdate(s.requested_at),
            False,
            f"Decide the search request {s.pk}: {s.officer.username} → {s.system.name}",
            reverse("searches:detail", args=[s.pk]),
        )
        for s in search_selectors.pending_approvals(actor)
    ]
    rows += [
        WorkRow(w.due_on, w.overdue, w.what, reverse("searches:detail", args=[w.search.pk]))
        for w in search_selectors.search_work_list(accounts)
    ]
    today = timezone.localdate()
    rows += [
        WorkRow(
            f.due,
            f.due < today,
            f"Work the {f.severity} finding {f.pk} ({f.kind})"
            + (f" about {f.subject.username}" if f.subject else "")
            + ("" if f.owner_id else ", unassigned"),
            reverse("findings:detail", args=[f.pk]),
        )
        for f in finding_selectors.work_findings(actor, today)
    ]
    rows += [
        WorkRow(
            p.campaign.deadline,
            p.overdue,
            f"Review {p.remaining} sampled searches of {p.campaign.org_unit.name} "
            f"({p.campaign.period_start} to {p.campaign.period_end})",
            reverse("reviews:detail", args=[p.campaign.pk]),
        )
        for p in review_selectors.campaign_progress(actor, today)
        if p.remaining
    ]
    rows.sort(key=lambda row: (row.due_on, row.what))
    return rows
