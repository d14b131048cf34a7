"""The review and findings rules, without a database: due dates, the checklist, the sample."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from searchledger.core.reviews import (
    ChecklistItem,
    FindingStatus,
    SampleReason,
    SearchFacts,
    Severity,
    checklist_errors,
    draw_sample,
    finding_due,
    is_overdue,
    random_count,
    severity_for_item,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ALL_YES = {item.value: "yes" for item in ChecklistItem}


def fact(search_id: int, **change: object) -> SearchFacts:
    values: dict[str, object] = {
        "search_id": search_id,
        "officer_id": 1,
        "case_key": f"ICM/{search_id}",
        "status": "documented",
        "requested_at": T0 + timedelta(hours=search_id),
        "reason_codes": frozenset(),
        "has_roi_number": True,
    }
    values.update(change)
    return SearchFacts(**values)  # type: ignore[arg-type]  # test helper


# --------------------------------------------------------------------------- due dates


def test_due_dates_follow_severity_in_business_days() -> None:
    friday = date(2026, 3, 6)
    assert finding_due(friday, Severity.CRITICAL, frozenset()) == date(2026, 3, 10)
    assert finding_due(friday, Severity.HIGH, frozenset()) == date(2026, 3, 13)
    assert finding_due(friday, Severity.MEDIUM, frozenset()) == date(2026, 3, 20)
    assert finding_due(friday, Severity.LOW, frozenset()) == date(2026, 4, 3)


def test_due_dates_skip_federal_holidays_by_default() -> None:
    # Friday 3 July 2026 is the observed Independence Day.
    assert finding_due(date(2026, 7, 1), Severity.CRITICAL) == date(2026, 7, 6)


def test_overdue_is_after_the_due_date_and_not_closed() -> None:
    due = date(2026, 3, 10)
    assert not is_overdue(FindingStatus.OPEN, due, due)
    assert is_overdue(FindingStatus.OPEN, due, due + timedelta(days=1))
    assert is_overdue(FindingStatus.REMEDIATION_RECORDED, due, due + timedelta(days=1))
    assert not is_overdue(FindingStatus.CLOSED, due, due + timedelta(days=1))


# --------------------------------------------------------------------------- checklist


def test_a_clean_checklist_is_compliant() -> None:
    assert checklist_errors(ALL_YES, "compliant") == {}
    assert checklist_errors({**ALL_YES, "candidates_vetted": "na"}, "compliant") == {}


def test_the_verdict_must_agree_with_the_answers() -> None:
    failed = {**ALL_YES, "candidates_vetted": "no"}
    assert "verdict" in checklist_errors(failed, "compliant")
    assert checklist_errors(failed, "non_compliant") == {}
    assert checklist_errors(failed, "minor_issues") == {}
    assert "verdict" in checklist_errors(ALL_YES, "non_compliant")
    assert "notes" in checklist_errors(ALL_YES, "minor_issues")
    assert checklist_errors(ALL_YES, "minor_issues", notes="late ROI") == {}


def test_every_item_is_answered_and_some_always_apply() -> None:
    missing = dict(ALL_YES)
    del missing["purpose_allowed"]
    assert set(checklist_errors(missing, "compliant")) == {"purpose_allowed"}
    assert set(checklist_errors({**ALL_YES, "purpose_allowed": "na"}, "compliant")) == {
        "purpose_allowed"
    }
    assert set(checklist_errors({**ALL_YES, "documentation_complete": "maybe"}, "x")) == {
        "documentation_complete",
        "verdict",
    }
    assert set(checklist_errors({**ALL_YES, "colour": "yes"}, "compliant")) == {"answers"}


def test_failed_items_suggest_a_severity() -> None:
    assert severity_for_item(ChecklistItem.PURPOSE_ALLOWED) is Severity.HIGH
    assert {severity_for_item(i) for i in ChecklistItem} <= set(Severity)


# --------------------------------------------------------------------------- the sample


def test_rule_reasons_are_always_sampled() -> None:
    facts = [
        fact(1, status="authorised"),
        fact(2, has_roi_number=False),
        fact(3, reason_codes=frozenset({"purpose_needs_approval"})),
        fact(4, status="refused", reason_codes=frozenset({"purpose_forbidden"})),
        fact(5),
        fact(6, status="refused", reason_codes=frozenset({"no_access"})),
        fact(7, status="cancelled"),
        fact(8, status="pending_approval"),
    ]
    sample = draw_sample(facts, share=0.0, seed=1)
    assert [(s.search_id, s.reasons) for s in sample] == [
        (1, (SampleReason.NO_OUTCOME,)),
        (2, (SampleReason.NO_ROI_NUMBER,)),
        (3, (SampleReason.PURPOSE_NEAR_LIMIT,)),
        (4, (SampleReason.PURPOSE_NEAR_LIMIT,)),
    ]


def test_a_retry_after_a_refusal_is_sampled_with_the_refusal_named() -> None:
    refused = fact(1, status="refused", case_key="ICM/9", in_period=False)
    retry = fact(2, case_key="ICM/9", requested_at=refused.requested_at + timedelta(days=13))
    late = fact(3, case_key="ICM/9", requested_at=refused.requested_at + timedelta(days=15))
    other_officer = fact(4, case_key="ICM/9", officer_id=2)
    other_case = fact(5, case_key="ICM/8")
    sample = draw_sample([refused, retry, late, other_officer, other_case], share=0.0, seed=1)
    assert [(s.search_id, s.reasons, s.refused_search_id) for s in sample] == [
        (2, (SampleReason.REFUSED_THEN_RETRIED,), 1)
    ]


def test_the_retry_window_is_fourteen_days() -> None:
    refused = fact(1, status="refused", case_key="ICM/9", in_period=False)
    inside = fact(2, case_key="ICM/9", requested_at=refused.requested_at + timedelta(days=14))
    outside = fact(3, case_key="ICM/7", requested_at=refused.requested_at + timedelta(days=15))
    refused_b = fact(4, status="refused", case_key="ICM/7", in_period=False, requested_at=T0)
    sample = draw_sample([refused, inside, outside, refused_b], share=0.0, seed=1)
    assert [(s.search_id, s.refused_search_id) for s in sample] == [(2, 1)]


def test_the_random_share_is_reproducible_from_the_seed() -> None:
    facts = [fact(i) for i in range(1, 101)]
    first = draw_sample(facts, share=0.1, seed=42)
    assert len(first) == 10
    assert all(s.reasons == (SampleReason.RANDOM,) for s in first)
    assert draw_sample(list(reversed(facts)), share=0.1, seed=42) == first
    assert draw_sample(facts, share=0.1, seed=43) != first


def test_random_count_rounds_up() -> None:
    assert random_count(0, 0.1) == 0
    assert random_count(3, 0.1) == 1
    assert random_count(100, 0.1) == 10
    assert random_count(5, 1.0) == 5
    with pytest.raises(ValueError, match="between 0 and 1"):
        random_count(5, 1.5)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["authorised", "documented", "refused", "cancelled"]),
            st.booleans(),
            st.integers(1, 3),
            st.integers(0, 40),
        ),
        max_size=40,
    ),
    st.floats(0, 1),
    st.integers(0, 2**63),
)
def test_sample_properties(rows: list[tuple[str, bool, int, int]], share: float, seed: int) -> None:
    facts = [
        fact(
            i + 1,
            status=status,
            has_roi_number=roi,
            officer_id=officer,
            case_key="ICM/1",
            requested_at=T0 + timedelta(days=day, minutes=i),
        )
        for i, (status, roi, officer, day) in enumerate(rows)
    ]
    sample = draw_sample(facts, share=share, seed=seed)
    ids = [s.search_id for s in sample]
    assert ids == sorted(set(ids))
    by_id = {f.search_id: f for f in facts}
    for s in sample:
        assert s.reasons
        if SampleReason.RANDOM in s.reasons:
            assert s.reasons == (SampleReason.RANDOM,)
            assert by_id[s.search_id].status in {"authorised", "documented"}
    for f in facts:
        if f.status == "authorised" or (f.status == "documented" and not f.has_roi_number):
            assert f.search_id in ids
    assert draw_sample(facts, share=share, seed=seed) == sample
