"""A small, realistic access log and the searches behind it, with discrepancies planted on
request: each planted one is listed with what reconciliation should report, so a test can
insist that exactly those are found (every planted one, and nothing on clean data)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from searchledger.core.reconciliation import (
    DiscrepancyKind,
    DocumentedSearch,
    ExternalEvent,
    Period,
    ReconciliationParams,
)

__all__ = ["SOURCE", "SYSTEM", "World", "build"]

SYSTEM = 1
SOURCE = "f" * 64
ZONE = ZoneInfo("America/New_York")
PARAMS = ReconciliationParams(time_zone="America/New_York")
# Monday 2 March to Sunday 8 March 2026, midnight to midnight in New York.
WEEK = Period(datetime(2026, 3, 2, 5, tzinfo=UTC), datetime(2026, 3, 9, 4, tzinfo=UTC))
UNITS = {person: 10 if person <= 6 else 11 for person in range(1, 13)}


@dataclass
class World:
    """Events, searches and what should be found, as (kind, account or person, detail)."""

    events: list[ExternalEvent] = field(default_factory=list)
    searches: list[DocumentedSearch] = field(default_factory=list)
    links: dict[str, int | None] = field(default_factory=dict)
    expected: set[tuple[str, object]] = field(default_factory=set)
    period: Period = field(default_factory=lambda: WEEK)
    params: ReconciliationParams = PARAMS
    units: dict[int, int | None] = field(default_factory=lambda: dict(UNITS))

    @property
    def coverage(self) -> list[tuple[datetime, datetime]]:
        """The log covers the whole period."""
        return [(self.period.start, self.period.end)]

    def event(self, account: str, ts: datetime, case: str | None = None) -> int:
        line = len(self.events) + 1
        self.events.append(ExternalEvent(SOURCE, line, account, ts, case_ref=case))
        return line

    def search(self, person: int, ts: datetime, status: str, case: str | None) -> int:
        sid = len(self.searches) + 1
        self.searches.append(
            DocumentedSearch(sid, person, SYSTEM, ts, status, case, unit_id=UNITS[person])
        )
        return sid


def _local(day: int, hour: int, minute: int = 0) -> datetime:
    """A local time in the agency's zone on March ``day`` 2026, in UTC."""
    return datetime(2026, 3, day, hour, minute, tzinfo=ZONE).astimezone(UTC)


def build(*, planted: bool, seed: int = 7) -> World:
    """Twelve officers in two units each run five documented searches in office hours on
    weekdays, each seen in the log within 20 minutes with the same case in another format;
    refused and pending requests that were never run sit alongside. With ``planted``, one
    of each discrepancy is added."""
    rng = random.Random(seed)
    w = World()
    for person in range(1, 13):
        w.links[f"ext-{person}"] = person
    w.links["retired-1"] = None  # known account, nobody behind it, no events: nothing found
    for person in range(1, 13):
        for n in range(5):
            when = _local(2 + n, 8 + person % 9, rng.randrange(0, 50))
            number = f"2026-{person:02d}{n:02d}"
            w.search(person, when, rng.choice(["documented", "authorised"]), number)
            drift = timedelta(minutes=rng.randrange(-20, 21), seconds=rng.randrange(60))
            w.event(f"ext-{person}", when + drift, f"2026 {person:02d}{n:02d}")
        w.search(person, _local(6, 15), "refused", None)
        w.search(person, _local(6, 16), "pending_approval", None)
    if planted:
        _plant(w)
    return w


def _plant(w: World) -> None:
    """One (or more) of every kind, each recorded in ``w.expected``."""
    kind = DiscrepancyKind
    line = w.event("ext-1", _local(4, 17, 45))
    w.expected.add((kind.UNDOCUMENTED_SEARCH.value, line))
    line = w.event("ext-8", _local(5, 9, 5), "2026-9999")
    w.expected.add((kind.UNDOCUMENTED_SEARCH.value, line))

    refused = w.search(2, _local(3, 18, 0), "refused", "2026-0777")
    w.event("ext-2", _local(3, 18, 5))
    w.expected.add((kind.SEARCHED_AFTER_REFUSAL.value, refused))

    for minute in (10, 20, 30):
        w.event("ghost-77", _local(4, 11, minute))
    w.expected.add((kind.UNKNOWN_ACCOUNT.value, "ghost-77"))

    lonely = w.search(3, _local(5, 18, 30), "documented", "2026-0303")
    w.expected.add((kind.NO_EXTERNAL_EVENT.value, lonely))

    mismatch = w.search(4, _local(3, 7, 30), "documented", "2026-0042")
    w.event("ext-4", _local(3, 7, 40), "2026-0099")
    w.expected.add((kind.CASE_MISMATCH.value, mismatch))

    w.search(5, _local(5, 14, 0), "documented", None)
    for second in range(0, 12 * 40, 40):  # twelve searches in eight minutes
        w.event("ext-5", _local(5, 14, 0) + timedelta(seconds=second))
    w.expected.add((kind.BURST.value, "ext-5"))

    w.search(6, _local(7, 2, 0), "documented", "2026-0606")  # a Saturday, at 2 a.m.
    w.event("ext-6", _local(7, 2, 10), "2026-0606")
    w.expected.add((kind.OUT_OF_HOURS.value, "ext-6"))

    for day in range(2, 7):  # forty searches in the week, every 30 minutes late morning
        for slot in range(8):
            when = _local(day, 9, 0) + timedelta(minutes=30 * slot)
            w.search(12, when, "documented", None)
            w.event("ext-12", when + timedelta(minutes=2))
    w.expected.add((kind.HIGH_VOLUME.value, 12))
