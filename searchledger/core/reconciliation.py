"""Reconciling an external system's access log against the searches documented here: the
reference matcher, in plain Python, without Django or DuckDB.

This module is the specification (``docs/reconciliation.md`` states the same rules in
words) and the oracle: the DuckDB engine in ``apps.reconciliation.engine`` must produce
exactly :func:`reconcile`'s result, which the property tests check on random inputs, and
``bench/reconcile_scale.py`` times the two against each other.

The rules, with ``tol`` the tolerance and the period ``[start, end)``:

* An external event counts only if it is a search (``is_search``). Its account is *mapped*
  when the links give it a person.
* The *candidates* of a search event by a mapped person are the searches of the same
  person on the same system whose time lies within ``ts ± tol`` (inclusive, to the
  microsecond). A search's time is when it was run if documented, else when it was
  authorised, else when it was requested (the caller computes it).
* A search event in the period is *documented* when some candidate is ``authorised`` or
  ``documented``; its *match* is the best such candidate: one whose case reference equals
  the event's first, then the nearest in time, then the lowest id. If both the event and
  its match have a case reference and they differ (after normalisation) the pair is a
  ``case_mismatch``. If the only candidates are ``refused`` or ``cancelled`` the event is
  ``searched_after_refusal`` (against the nearest of them, then the lowest id); otherwise
  (no candidate, or only ``pending_approval`` ones) it is an ``undocumented_search``.
* An ``authorised`` or ``documented`` search whose time is in the period and inside a time
  range the imported logs cover, with no search event by any account mapped to its officer
  within ``± tol`` (at any time, even just outside the period), is ``no_external_event``.
* Every unmapped account with search events in the period is one ``unknown_account``
  (count, first, last).
* Patterns, over mapped accounts' search events in the period:
  ``out_of_hours``: one per account and local day with events outside business hours
  (local weekday not a business day, or local time of day before ``business_start_hour``
  or at/after ``business_end_hour``); ``burst``: an account's event *starts a dense
  window* when more than ``burst_count`` of its events lie in ``[ts, ts + burst_minutes]``;
  dense windows that overlap or touch (the next start at or before the previous start plus
  ``burst_minutes``) form one burst, reported with its first start, the last event of its
  last window and the number of events between them; ``high_volume``: a person whose number
  of search events in the period is at least ``high_volume_min`` and more than
  ``high_volume_factor`` times the median of the people of their unit who have search
  events in the period (people without a unit are not compared).

The result is a sorted list of :class:`Discrepancy`, so two runs over the same data give
the same list and the same :func:`digest`.
"""

from __future__ import annotations

import hashlib
import json
import re
import statistics
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum, unique
from zoneinfo import ZoneInfo

__all__ = [
    "MATCHING_STATUSES",
    "REFUSED_STATUSES",
    "Discrepancy",
    "DiscrepancyKind",
    "DocumentedSearch",
    "ExternalEvent",
    "Period",
    "ReconciliationParams",
    "count_by_kind",
    "digest",
    "normalise_case_ref",
    "reconcile",
    "sort_key",
]

# Status values as ``core.searches.SearchStatus`` spells them (kept as plain strings so the
# SQL engine and this module compare the same text).
MATCHING_STATUSES = frozenset({"authorised", "documented"})
REFUSED_STATUSES = frozenset({"refused", "cancelled"})

_NOT_CASE_CHARS = re.compile(r"[^0-9A-Za-z]")


@unique
class DiscrepancyKind(StrEnum):
    """What a discrepancy is (and the ``kind`` of the finding it raises)."""

    UNDOCUMENTED_SEARCH = "undocumented_search"
    SEARCHED_AFTER_REFUSAL = "searched_after_refusal"
    UNKNOWN_ACCOUNT = "unknown_account"
    NO_EXTERNAL_EVENT = "no_external_event"
    CASE_MISMATCH = "case_mismatch"
    OUT_OF_HOURS = "out_of_hours"
    BURST = "burst"
    HIGH_VOLUME = "high_volume"


@dataclass(frozen=True, slots=True)
class ExternalEvent:
    """One row of an imported access log. ``source`` names the import it came from (its
    file's SHA-256) and ``line`` its line in that file; ``ts`` is timezone-aware."""

    source: str
    line: int
    account: str
    ts: datetime
    is_search: bool = True
    action: str = "search"
    reference: str | None = None
    case_ref: str | None = None


@dataclass(frozen=True, slots=True)
class DocumentedSearch:
    """A search record as reconciliation sees it. ``time`` is when it was run if
    documented, else when it was authorised, else when it was requested; ``case_ref`` is
    its case number; ``unit_id`` the officer's unit."""

    id: int
    officer_id: int
    system_id: int
    time: datetime
    status: str
    case_ref: str | None = None
    unit_id: int | None = None


@dataclass(frozen=True)
class Period:
    """The half-open period ``[start, end)`` reconciled, in aware datetimes."""

    start: datetime
    end: datetime

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True)
class ReconciliationParams:
    """The knobs of a reconciliation. Business days are ISO weekdays (1 = Monday)."""

    tolerance_minutes: int = 30
    time_zone: str = "UTC"
    business_start_hour: int = 7
    business_end_hour: int = 19
    business_days: tuple[int, ...] = (1, 2, 3, 4, 5)
    burst_count: int = 10
    burst_minutes: int = 10
    high_volume_factor: float = 3.0
    high_volume_min: int = 20

    @property
    def tolerance(self) -> timedelta:
        """The tolerance as a duration."""
        return timedelta(minutes=self.tolerance_minutes)

    def as_json(self) -> dict[str, int | str | list[int]]:
        """The parameters as JSON-safe values (the factor as text: no floats in ledgers)."""
        values = asdict(self)
        values["business_days"] = list(self.business_days)
        values["high_volume_factor"] = repr(self.high_volume_factor)
        return values

    def errors(self) -> list[str]:
        """What is wrong with these parameters, for forms and the CLI."""
        problems: list[str] = []
        if not 0 <= self.tolerance_minutes <= 24 * 60:
            problems.append("The tolerance must be between 0 and 1,440 minutes.")
        if not 0 <= self.business_start_hour < self.business_end_hour <= 24:
            problems.append("Business hours must start before they end, within the day.")
        if any(day not in range(1, 8) for day in self.business_days):
            problems.append("Business days are ISO weekdays, 1 (Monday) to 7 (Sunday).")
        if self.burst_count < 1 or self.burst_minutes < 1:
            problems.append("A burst needs a count and a number of minutes of at least 1.")
        if self.high_volume_factor < 1 or self.high_volume_min < 1:
            problems.append("The high-volume factor and minimum must be at least 1.")
        try:
            ZoneInfo(self.time_zone)
        except (KeyError, ValueError):
            problems.append(f"Unknown time zone {self.time_zone!r}.")
        return problems


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """One thing reconciliation found. Which fields are set depends on the kind:

    * event kinds (``undocumented_search``, ``searched_after_refusal``, ``case_mismatch``):
      ``time`` = the event's, ``account``, ``person_id``, ``source`` and ``line``; the
      search matched (or refused) in ``search_id``; ``case_mismatch`` also carries both
      case references;
    * ``no_external_event``: the search's ``time``, ``person_id`` and ``search_id``;
    * aggregates (``unknown_account``, ``out_of_hours``, ``burst``, ``high_volume``):
      ``time`` = first, ``last``, ``count``; ``high_volume`` carries the unit's ``median``
      and the ``unit_id``, ``out_of_hours`` and ``burst`` the account.
    """

    kind: DiscrepancyKind
    time: datetime
    account: str | None = None
    person_id: int | None = None
    search_id: int | None = None
    source: str | None = None
    line: int | None = None
    last: datetime | None = None
    count: int | None = None
    unit_id: int | None = None
    median: float | None = None
    external_case: str | None = None
    documented_case: str | None = None

    def as_json(self) -> dict[str, str | int | None]:
        """The discrepancy as JSON-safe values (times in UTC ISO 8601, median as text)."""
        return {
            "kind": self.kind.value,
            "time": _iso(self.time),
            "account": self.account,
            "person_id": self.person_id,
            "search_id": self.search_id,
            "source": self.source,
            "line": self.line,
            "last": _iso(self.last) if self.last else None,
            "count": self.count,
            "unit_id": self.unit_id,
            "median": repr(self.median) if self.median is not None else None,
            "external_case": self.external_case,
            "documented_case": self.documented_case,
        }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def sort_key(d: Discrepancy) -> tuple[str, datetime, str, int, int, str, int]:
    """The canonical order of discrepancies."""
    return (
        d.kind.value,
        d.time,
        d.account or "",
        d.person_id if d.person_id is not None else -1,
        d.search_id if d.search_id is not None else -1,
        d.source or "",
        d.line if d.line is not None else -1,
    )


def digest(discrepancies: Iterable[Discrepancy]) -> str:
    """SHA-256 (hex) over the canonical list: the discrepancies in canonical order, each as
    its JSON object with sorted keys and no spaces, one per line."""
    h = hashlib.sha256()
    for d in sorted(discrepancies, key=sort_key):
        h.update(json.dumps(d.as_json(), sort_keys=True, separators=(",", ":")).encode())
        h.update(b"\n")
    return h.hexdigest()


def count_by_kind(discrepancies: Iterable[Discrepancy]) -> dict[str, int]:
    """How many discrepancies of each kind (every kind present, zero or not)."""
    counts = {kind.value: 0 for kind in DiscrepancyKind}
    for d in discrepancies:
        counts[d.kind.value] += 1
    return counts


def normalise_case_ref(value: str | None) -> str | None:
    """A case reference for comparison: its ASCII letters and digits only, upper case;
    ``None`` when nothing is left. (ASCII only, so that Python and SQL agree.)"""
    if value is None:
        return None
    cleaned = _NOT_CASE_CHARS.sub("", value).upper()
    return cleaned or None


# --------------------------------------------------------------------------- the matcher


def reconcile(
    *,
    system_id: int,
    events: Iterable[ExternalEvent],
    searches: Iterable[DocumentedSearch],
    links: Mapping[str, int | None],
    person_units: Mapping[int, int | None],
    coverage: Sequence[tuple[datetime, datetime]],
    period: Period,
    params: ReconciliationParams,
) -> list[Discrepancy]:
    """Every discrepancy between the events and the searches of ``system_id`` (see the
    module docstring for the rules), in canonical order."""
    tol = params.tolerance
    found: list[Discrepancy] = []

    by_person: dict[int, list[DocumentedSearch]] = defaultdict(list)
    for search in searches:
        if search.system_id == system_id:
            by_person[search.officer_id].append(search)
    for person_searches in by_person.values():
        person_searches.sort(key=lambda s: (s.time, s.id))
    search_times = {p: [s.time for s in ss] for p, ss in by_person.items()}

    event_times: dict[int, list[datetime]] = defaultdict(list)
    in_period: list[tuple[ExternalEvent, int | None]] = []
    for event in events:
        if not event.is_search:
            continue
        person = links.get(event.account)
        if person is not None:
            event_times[person].append(event.ts)
        if event.ts in period:
            in_period.append((event, person))
    for times in event_times.values():
        times.sort()

    unknown: dict[str, list[datetime]] = defaultdict(list)
    mapped: dict[str, list[datetime]] = defaultdict(list)
    per_person: dict[int, list[datetime]] = defaultdict(list)
    for event, person in in_period:
        if person is None:
            unknown[event.account].append(event.ts)
            continue
        mapped[event.account].append(event.ts)
        per_person[person].append(event.ts)
        ss = by_person.get(person, [])
        times = search_times.get(person, [])
        near = ss[bisect_left(times, event.ts - tol) : bisect_right(times, event.ts + tol)]
        found.extend(_classify(event, person, near))

    for account, times in unknown.items():
        found.append(
            Discrepancy(
                DiscrepancyKind.UNKNOWN_ACCOUNT,
                min(times),
                account=account,
                last=max(times),
                count=len(times),
            )
        )

    for person, person_searches in by_person.items():
        times = event_times.get(person, [])
        for search in person_searches:
            if search.status not in MATCHING_STATUSES or search.time not in period:
                continue
            if not any(lo <= search.time <= hi for lo, hi in coverage):
                continue
            if bisect_right(times, search.time + tol) > bisect_left(times, search.time - tol):
                continue
            found.append(
                Discrepancy(
                    DiscrepancyKind.NO_EXTERNAL_EVENT,
                    search.time,
                    person_id=person,
                    search_id=search.id,
                )
            )

    found.extend(_out_of_hours(mapped, links, params))
    found.extend(_bursts(mapped, links, params))
    found.extend(_high_volume(per_person, person_units, params))
    return sorted(found, key=sort_key)


def _classify(event: ExternalEvent, person: int, near: list[DocumentedSearch]) -> list[Discrepancy]:
    """The discrepancies of one search event by a mapped person, given its candidates."""
    event_case = normalise_case_ref(event.case_ref)
    matching = [s for s in near if s.status in MATCHING_STATUSES]
    base = Discrepancy(
        DiscrepancyKind.UNDOCUMENTED_SEARCH,
        event.ts,
        account=event.account,
        person_id=person,
        source=event.source,
        line=event.line,
    )
    if matching:

        def preference(s: DocumentedSearch) -> tuple[int, timedelta, int]:
            same_case = event_case is not None and normalise_case_ref(s.case_ref) == event_case
            return (0 if same_case else 1, abs(s.time - event.ts), s.id)

        match = min(matching, key=preference)
        search_case = normalise_case_ref(match.case_ref)
        if event_case is not None and search_case is not None and event_case != search_case:
            return [
                replace(
                    base,
                    kind=DiscrepancyKind.CASE_MISMATCH,
                    search_id=match.id,
                    external_case=event.case_ref,
                    documented_case=match.case_ref,
                )
            ]
        return []
    refused = [s for s in near if s.status in REFUSED_STATUSES]
    if refused:
        nearest = min(refused, key=lambda s: (abs(s.time - event.ts), s.id))
        return [replace(base, kind=DiscrepancyKind.SEARCHED_AFTER_REFUSAL, search_id=nearest.id)]
    return [base]


def _out_of_hours(
    mapped: Mapping[str, list[datetime]],
    links: Mapping[str, int | None],
    params: ReconciliationParams,
) -> list[Discrepancy]:
    """One discrepancy per mapped account and local day with events out of hours."""
    zone = ZoneInfo(params.time_zone)
    days: dict[tuple[str, date], list[datetime]] = defaultdict(list)
    for account, times in mapped.items():
        for ts in times:
            local = ts.astimezone(zone)
            if (
                local.isoweekday() not in params.business_days
                or local.hour < params.business_start_hour
                or local.hour >= params.business_end_hour
            ):
                days[account, local.date()].append(ts)
    return [
        Discrepancy(
            DiscrepancyKind.OUT_OF_HOURS,
            min(times),
            account=account,
            person_id=links[account],
            last=max(times),
            count=len(times),
        )
        for (account, _), times in days.items()
    ]


def _bursts(
    mapped: Mapping[str, list[datetime]],
    links: Mapping[str, int | None],
    params: ReconciliationParams,
) -> list[Discrepancy]:
    """Bursts per mapped account: merged dense windows (see the module docstring)."""
    width = timedelta(minutes=params.burst_minutes)
    found: list[Discrepancy] = []
    for account, unsorted in mapped.items():
        times = sorted(unsorted)
        episodes: list[tuple[datetime, datetime, datetime]] = []  # first, last start, last
        for ts in times:
            window_end = bisect_right(times, ts + width)
            if window_end - bisect_left(times, ts) <= params.burst_count:
                continue
            last_in_window = times[window_end - 1]
            if episodes and ts <= episodes[-1][1] + width:
                first, _, last = episodes[-1]
                episodes[-1] = (first, ts, max(last, last_in_window))
            else:
                episodes.append((ts, ts, last_in_window))
        for first, _, last in episodes:
            count = bisect_right(times, last) - bisect_left(times, first)
            found.append(
                Discrepancy(
                    DiscrepancyKind.BURST,
                    first,
                    account=account,
                    person_id=links[account],
                    last=last,
                    count=count,
                )
            )
    return found


def _high_volume(
    per_person: Mapping[int, list[datetime]],
    person_units: Mapping[int, int | None],
    params: ReconciliationParams,
) -> list[Discrepancy]:
    """People far above their unit's median number of search events in the period."""
    units: dict[int, list[int]] = defaultdict(list)
    for person, times in per_person.items():
        unit = person_units.get(person)
        if unit is not None:
            units[unit].append(len(times))
    medians = {unit: float(statistics.median(counts)) for unit, counts in units.items()}
    found: list[Discrepancy] = []
    for person, times in per_person.items():
        unit = person_units.get(person)
        if unit is None:
            continue
        count = len(times)
        if count >= params.high_volume_min and count > params.high_volume_factor * medians[unit]:
            found.append(
                Discrepancy(
                    DiscrepancyKind.HIGH_VOLUME,
                    min(times),
                    person_id=person,
                    last=max(times),
                    count=count,
                    unit_id=unit,
                    median=medians[unit],
                )
            )
    return found
