"""Reads of the oversight register (every role may read it: it holds no personal data
beyond the names of milestone owners)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone

from searchledger.apps.oversight.models import Milestone, OversightMemo, Recommendation
from searchledger.core.oversight import RecommendationStatus, Response

__all__ = ["MemoSummary", "access_memo_by_id", "access_recommendation_by_id", "list_memos"]


@dataclass(frozen=True)
class MemoSummary:
    """A memo with its recommendations and what is late."""

    memo: OversightMemo
    recommendations: list[Recommendation]
    response_overdue: bool
    overdue_milestones: int

    @property
    def open_count(self) -> int:
        """Recommendations not closed yet."""
        return sum(1 for r in self.recommendations if r.status != RecommendationStatus.CLOSED)


def _recommendations() -> QuerySet[Recommendation]:
    return Recommendation.objects.select_related("responded_by").prefetch_related(
        Prefetch("milestones", queryset=Milestone.objects.select_related("owner")),
        "findings",
        "reports",
    )


def _summary(memo: OversightMemo, today: date) -> MemoSummary:
    recommendations = list(memo.recommendations.all())
    pending = any(r.response == Response.PENDING for r in recommendations)
    late = sum(
        1
        for r in recommendations
        for m in r.milestones.all()
        if m.done_on is None and m.due_on < today
    )
    return MemoSummary(memo, recommendations, pending and memo.response_due_on < today, late)


def list_memos(today: date | None = None) -> list[MemoSummary]:
    """Every memo, newest first, with its recommendations."""
    day = today or timezone.localdate()
    memos = OversightMemo.objects.prefetch_related(
        Prefetch("recommendations", queryset=_recommendations())
    )
    return [_summary(memo, day) for memo in memos]


def access_memo_by_id(memo_id: int, today: date | None = None) -> MemoSummary:
    """One memo with its recommendations, milestones and linked findings; 404 if none."""
    memo = (
        OversightMemo.objects.prefetch_related(
            Prefetch("recommendations", queryset=_recommendations())
        )
        .filter(pk=memo_id)
        .first()
    )
    if memo is None:
        raise Http404("no such memorandum")
    return _summary(memo, today or timezone.localdate())


def access_recommendation_by_id(recommendation_id: int) -> Recommendation:
    """One recommendation with its memo; 404 if none."""
    found = Recommendation.objects.select_related("memo").filter(pk=recommendation_id).first()
    if found is None:
        raise Http404("no such recommendation")
    return found
