"""The reference matcher's rules at their edges, without a database or DuckDB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from searchledger.core.reconciliation import (
    DiscrepancyKind,
    DocumentedSearch,
    ExternalEvent,
    Period,
    ReconciliationParams,
    count_by_kind,
    digest,
    normalise_case_ref,
    reconcile,
)

T = datetime(2026, 3, 4, 12, tzinfo=UTC)  # a Wednesday, noon UTC
DAY = Period(T - timedelta(hours=12), T + timedelta(hours=12))
K = DiscrepancyKind


def run(events, searches, *, links=None, units=None, coverage=None, **params):
    return reconcile(
        system_id=1,
        events=events,
        searches=searches,
        links={"a": 1} if links is None else links,
        person_units=units or {},
        coverage=[(DAY.start, DAY.end)] if coverage is None else coverage,
        period=DAY,
        params=ReconciliationParams(**params),
    )


def ev(minutes: float, account="a", case=None, line=1) -> ExternalEvent:
    return ExternalEvent("s", line, account, T + timedelta(minutes=minutes), case_ref=case)


def se(minutes: float, status="documented", case=None, sid=1, person=1) -> DocumentedSearch:
    return DocumentedSearch(sid, person, 1, T + timedelta(minutes=minutes), status, case)


def kinds(found) -> list[str]:
    return [d.kind.value for d in found]


def test_the_tolerance_is_inclusive_to_the_microsecond():
    assert run([ev(30)], [se(0)]) == []
    late = ExternalEvent("s", 1, "a", T + timedelta(minutes=30, microseconds=1))
    assert kinds(run([late], [se(0)])) == [K.NO_EXTERNAL_EVENT, K.UNDOCUMENTED_SEARCH]


def test_only_refused_or_cancelled_nearby_is_searched_after_refusal():
    found = run([ev(5)], [se(0, "refused", sid=7), se(10, "cancelled", sid=8)])
    assert kinds(found) == [K.SEARCHED_AFTER_REFUSAL]
    assert found[0].search_id == 7  # nearest, then lowest id (both 5 minutes away)


def test_a_pending_request_does_not_document_a_search():
    assert kinds(run([ev(5)], [se(0, "pending_approval")])) == [K.UNDOCUMENTED_SEARCH]


def test_authorised_wins_over_refused_and_another_systems_search_does_not_count():
    assert run([ev(5)], [se(0, "refused", sid=1), se(20, "authorised", sid=2)]) == []
    other = DocumentedSearch(3, 1, 2, T, "documented")
    assert kinds(run([ev(0)], [other])) == [K.UNDOCUMENTED_SEARCH]


def test_case_references_compare_normalised_and_prefer_the_same_case():
    assert normalise_case_ref(" 2026-0042/a ") == "20260042A"
    assert normalise_case_ref("--") is None
    assert run([ev(1, case="2026 0042")], [se(0, case="2026-0042")]) == []
    # A nearer search of another case loses to one of the same case.
    two = [se(0, case="X-1", sid=1), se(20, case="Y-2", sid=2)]
    assert run([ev(1, case="y2")], two, tolerance_minutes=30) == []
    found = run([ev(1, case="Z-3")], two)
    assert kinds(found) == [K.CASE_MISMATCH]
    assert (found[0].search_id, found[0].external_case) == (1, "Z-3")
    # A missing reference on either side is not a mismatch.
    assert run([ev(1)], [se(0, case="X-1")]) == []


def test_no_external_event_only_inside_the_covered_range():
    assert kinds(run([], [se(0)])) == [K.NO_EXTERNAL_EVENT]
    assert run([], [se(0)], coverage=[(T + timedelta(minutes=1), DAY.end)]) == []
    assert run([], [se(0, "refused")]) == []


def test_unknown_accounts_are_one_each_with_count_first_and_last():
    found = run([ev(0, "ghost", line=1), ev(9, "ghost", line=2)], [], links={"ghost": None})
    assert kinds(found) == [K.UNKNOWN_ACCOUNT]
    assert (found[0].count, found[0].last) == (2, T + timedelta(minutes=9))


def test_bursts_merge_overlapping_dense_windows():
    events = [ev(m, line=i) for i, m in enumerate([0, 1, 2, 3, 14, 15, 16, 40])]
    searches = [se(0, sid=1), se(20, sid=2), se(40, sid=3)]
    found = run(events, searches, burst_count=2, burst_minutes=10)
    bursts = [d for d in found if d.kind is K.BURST]
    # Windows starting at 0, 1 (to 3) and 14 (to 16) are dense; 1 + 10 < 14: two bursts.
    assert [(b.time, b.count) for b in bursts] == [(T, 4), (T + timedelta(minutes=14), 3)]


def test_out_of_hours_is_per_account_and_local_day():
    night = [ev(-11 * 60, line=1), ev(-10 * 60, line=2)]  # 01:00 and 02:00 UTC
    found = run(night, [se(-11 * 60, sid=1), se(-10 * 60, sid=2)])
    assert kinds(found) == [K.OUT_OF_HOURS]
    assert found[0].count == 2
    # 01:00 UTC is 20:00 the day before in New York, 02:00 is 21:00: one local day still.
    in_ny = run(night, [se(-11 * 60, sid=1), se(-10 * 60, sid=2)], time_zone="America/New_York")
    assert kinds(in_ny) == [K.OUT_OF_HOURS]


def test_high_volume_against_the_units_median():
    links = {"a": 1, "b": 2, "c": 3}
    events = [ev(i, "a", line=i) for i in range(6)] + [ev(0, "b", line=10), ev(0, "c", line=11)]
    searches = [se(0, person=p, sid=p) for p in (1, 2, 3)]
    units = {1: 5, 2: 5, 3: 5}
    found = run(events, searches, links=links, units=units, high_volume_min=5, burst_count=99)
    assert kinds(found) == [K.HIGH_VOLUME]
    assert (found[0].person_id, found[0].count, found[0].median) == (1, 6, 1.0)
    assert run(events, searches, links=links, units=units, high_volume_min=7, burst_count=99) == []


@given(st.permutations(range(6)))
def test_the_result_does_not_depend_on_input_order(order):
    events = [ev(m, account=a, line=i) for i, (m, a) in enumerate([(0, "a"), (1, "b"), (50, "a")])]
    searches = [se(0, "refused", sid=1), se(50, sid=2), se(90, sid=3)]
    mixed = [(events + searches)[i] for i in order]
    found = run(
        [x for x in mixed if isinstance(x, ExternalEvent)],
        [x for x in mixed if isinstance(x, DocumentedSearch)],
    )
    assert digest(found) == digest(run(events, searches))
    assert count_by_kind(found)[K.NO_EXTERNAL_EVENT] == 1
