"""The DuckDB engine gives exactly the reference matcher's result (Hypothesis), over real
Parquet files in a temporary directory. No database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from searchledger.apps.reconciliation.engine import (
    EventFile,
    read_events,
    reconcile_files,
    write_event_file,
)
from searchledger.core.reconciliation import (
    DocumentedSearch,
    ExternalEvent,
    Period,
    ReconciliationParams,
    reconcile,
)

BASE = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
ACCOUNTS = ("a1", "a2", "a3", "a4", "x9")
PEOPLE = (1, 2, 3, 4)
CASES = (None, "", "C-1", "c1", "C2", "ß-7", "'; drop", 'a,"b')
STATUSES = ("authorised", "documented", "refused", "cancelled", "pending_approval")


def _moment(minutes: int, micros: int) -> datetime:
    return BASE + timedelta(minutes=minutes, microseconds=micros)


minutes = st.integers(min_value=0, max_value=3 * 24 * 60)
# Most times fall in a busy hour, so that events and searches meet within the tolerance.
busy = st.integers(min_value=600, max_value=620)
when = st.one_of(busy, busy, busy, minutes)
micros = st.sampled_from([0, 0, 0, 1, 999_999])

events = st.lists(
    st.builds(
        lambda account, m, us, is_search, case: (account, _moment(m, us), is_search, case),
        st.sampled_from(ACCOUNTS),
        when,
        micros,
        st.sampled_from([True, True, True, False]),
        st.sampled_from(CASES),
    ),
    min_size=3,
    max_size=40,
)

searches = st.lists(
    st.builds(
        lambda person, system, m, us, status, case: (person, system, _moment(m, us), status, case),
        st.sampled_from(PEOPLE),
        st.sampled_from([1, 1, 1, 2]),
        when,
        micros,
        st.sampled_from(STATUSES),
        st.sampled_from(CASES),
    ),
    min_size=2,
    max_size=25,
)

links = st.dictionaries(
    st.sampled_from(ACCOUNTS[:4]),
    st.one_of(st.sampled_from(PEOPLE), st.sampled_from(PEOPLE), st.none()),
    min_size=2,
    max_size=4,
)
units = st.dictionaries(
    st.sampled_from(PEOPLE), st.one_of(st.sampled_from([10, 11]), st.none()), min_size=3, max_size=4
)
params = st.builds(
    ReconciliationParams,
    tolerance_minutes=st.sampled_from([0, 1, 5, 30]),
    time_zone=st.sampled_from(["UTC", "America/New_York", "Asia/Kolkata"]),
    business_start_hour=st.sampled_from([0, 7]),
    business_end_hour=st.sampled_from([19, 24]),
    business_days=st.sampled_from([(1, 2, 3, 4, 5), (1, 2, 3, 4, 5, 6, 7), ()]),
    burst_count=st.integers(min_value=1, max_value=3),
    burst_minutes=st.sampled_from([1, 10, 60]),
    high_volume_factor=st.sampled_from([1.0, 1.5, 2.0]),
    high_volume_min=st.integers(min_value=1, max_value=3),
)
windows = st.tuples(
    st.one_of(st.just(0), st.integers(min_value=580, max_value=640), minutes),
    st.one_of(st.just(3 * 24 * 60), st.integers(min_value=0, max_value=2 * 24 * 60)),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    raw_events=events,
    raw_searches=searches,
    links=links,
    units=units,
    params=params,
    period=windows,
    coverage=st.lists(windows, max_size=2),
    split=st.integers(min_value=0, max_value=40),
)
def test_engine_equals_reference(  # noqa: PLR0917  # one argument per strategy
    tmp_path_factory, raw_events, raw_searches, links, units, params, period, coverage, split
):
    tmp: Path = tmp_path_factory.mktemp("events")
    made = [
        ExternalEvent(source="", line=i + 1, account=a, ts=ts, is_search=s, case_ref=c)
        for i, (a, ts, s, c) in enumerate(raw_events)
    ]
    files = [EventFile("a" * 64, tmp / "one.parquet"), EventFile("b" * 64, tmp / "two.parquet")]
    write_event_file(files[0].path, made[:split])
    write_event_file(files[1].path, made[split:])
    stored = read_events(files)
    assert len(stored) == len(made)
    documented = [
        DocumentedSearch(
            id=100 + i, officer_id=p, system_id=sys, time=ts, status=status, case_ref=case
        )
        for i, (p, sys, ts, status, case) in enumerate(raw_searches)
    ]
    start = _moment(period[0], 0)
    the_period = Period(start, start + timedelta(minutes=period[1]))
    covered = [(_moment(a, 0), _moment(a + b, 0)) for a, b in coverage]
    common = {
        "system_id": 1,
        "links": links,
        "person_units": units,
        "coverage": covered,
        "period": the_period,
        "params": params,
    }
    expected = reconcile(events=stored, searches=documented, **common)
    actual = reconcile_files(files=files, searches=documented, workdir=tmp, **common)
    for found in expected:
        event(found.kind.value)
    assert actual == expected


# A crowded quarter of an hour: every event meets every search of its person, so matches,
# case mismatches, refusals, bursts and high volume are the common case here.
crowd_times = st.integers(min_value=0, max_value=15)
crowd_cases = st.sampled_from([None, "C-1", "c1", "C2", "D 9"])


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    raw_events=st.lists(
        st.tuples(st.sampled_from(["a1", "a2", "a3"]), crowd_times, crowd_cases),
        min_size=1,
        max_size=30,
    ),
    raw_searches=st.lists(
        st.tuples(st.sampled_from([1, 2, 3]), crowd_times, st.sampled_from(STATUSES), crowd_cases),
        max_size=12,
    ),
    params=st.builds(
        ReconciliationParams,
        tolerance_minutes=st.sampled_from([2, 30]),
        burst_count=st.integers(min_value=1, max_value=4),
        burst_minutes=st.sampled_from([1, 5]),
        high_volume_factor=st.sampled_from([1.0, 1.5]),
        high_volume_min=st.integers(min_value=1, max_value=4),
    ),
)
def test_engine_equals_reference_in_a_crowd(tmp_path_factory, raw_events, raw_searches, params):
    tmp: Path = tmp_path_factory.mktemp("crowd")
    start = _moment(600, 0)
    made = [
        ExternalEvent(source="", line=i + 1, account=a, ts=start + timedelta(minutes=m), case_ref=c)
        for i, (a, m, c) in enumerate(raw_events)
    ]
    files = [EventFile("c" * 64, tmp / "crowd.parquet")]
    write_event_file(files[0].path, made)
    documented = [
        DocumentedSearch(i + 1, p, 1, start + timedelta(minutes=m), status, case)
        for i, (p, m, status, case) in enumerate(raw_searches)
    ]
    common = {
        "system_id": 1,
        "links": {"a1": 1, "a2": 2, "a3": 3},
        "person_units": {1: 10, 2: 10, 3: 10},
        "coverage": [(start, start + timedelta(minutes=15))],
        "period": Period(start, start + timedelta(minutes=16)),
        "params": params,
    }
    expected = reconcile(events=read_events(files), searches=documented, **common)
    for found in expected:
        event(found.kind.value)
    assert reconcile_files(files=files, searches=documented, workdir=tmp, **common) == expected
