"""The public transparency report, computed from the ledger's entries alone.

Every figure is a pure function of the entries up to a checkpoint and of the period, so
anyone holding the ledger (its tiles and the verifier key) can recompute the report and
check it against the one the agency published. The entries' clear data is enough: systems
and purposes by code and name, grants with their dates and status, searches with their
system, purpose, status and whether a lead was derived, review items with their verdict,
findings with their kind and resolution.

What is counted, for the period ``[start, end)`` (dates in the given time zone):

* **people with access** to a system: accounts with a grant to it in force (approved, not
  revoked, within its start and expiry dates) on at least one day of the period;
* **searches**: requested in the period (a search entered after the fact counts on the day
  it was requested, not the day it was transcribed), by system, by purpose and by where it
  stands at the checkpoint: documented, refused, cancelled, not yet documented, awaiting
  approval;
* **leads derived**: documented searches requested in the period whose outcome records a
  lead;
* **supervisory review**: campaigns opened, and searches reviewed by verdict, in the period;
* **findings**: raised and closed in the period, by kind; closed ones by resolution.

Small counts are then suppressed (``core.disclosure``); tables that share a margin share
its variables, so nothing hidden in one can be recovered from another.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from searchledger.core.disclosure import Constraint, Suppression, suppress

__all__ = [
    "OUTCOMES",
    "ReportTable",
    "TransparencyReport",
    "build_report",
]

# Where a search stands, from its status, in the report's words and order.
OUTCOMES = (
    ("documented", "Documented"),
    ("refused", "Refused"),
    ("cancelled", "Cancelled"),
    ("authorised", "Not yet documented"),
    ("pending_approval", "Awaiting approval"),
)
_VERDICTS = (
    ("compliant", "Compliant"),
    ("minor_issues", "Minor issues"),
    ("non_compliant", "Non-compliant"),
)


@dataclass(frozen=True)
class ReportTable:
    """One table of the report: its cells and totals are names of report variables."""

    key: str
    title: str
    note: str
    row_header: str
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    cells: tuple[tuple[str, ...], ...]
    row_totals: tuple[str, ...] | None = None
    column_totals: tuple[str, ...] | None = None
    grand_total: str | None = None


@dataclass(frozen=True)
class TransparencyReport:
    """The figures, which of them are hidden, and the tables that show them."""

    start: date
    end: date
    threshold: int
    entries: int
    values: Mapping[str, int]
    suppression: Suppression
    tables: tuple[ReportTable, ...]

    def shown(self, name: str) -> int | None:
        """The value of a variable as published: None when it is suppressed."""
        return None if name in self.suppression.hidden else self.values[name]

    def rows(self) -> list[tuple[str, str, str, str]]:
        """Every published cell as (table, row, column, value), "suppressed" when hidden."""
        out: list[tuple[str, str, str, str]] = []

        def add(table: ReportTable, row: str, column: str, name: str) -> None:
            value = self.shown(name)
            out.append((table.title, row, column, "suppressed" if value is None else str(value)))

        for table in self.tables:
            for r, row in enumerate(table.rows):
                for c, column in enumerate(table.columns):
                    add(table, row, column, table.cells[r][c])
                if table.row_totals:
                    add(table, row, "Total", table.row_totals[r])
            if table.column_totals:
                for c, column in enumerate(table.columns):
                    add(table, "Total", column, table.column_totals[c])
            if table.grand_total:
                add(table, "Total", "Total", table.grand_total)
        return out


@dataclass
class _Search:
    system: str
    purpose: str
    requested: date
    status: str = ""
    lead: bool = False


@dataclass
class _State:
    """What the entries say, folded in ledger order."""

    systems: dict[str, str] = field(default_factory=dict)
    purposes: dict[str, str] = field(default_factory=dict)
    grants: dict[str, list[tuple[date, str, date, date]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    grant_owner: dict[str, tuple[int, str]] = field(default_factory=dict)
    searches: dict[str, _Search] = field(default_factory=dict)
    campaigns: int = 0
    verdicts: Counter[str] = field(default_factory=Counter)
    finding_kind: dict[str, str] = field(default_factory=dict)
    raised: Counter[str] = field(default_factory=Counter)
    closed: Counter[str] = field(default_factory=Counter)
    resolutions: Counter[str] = field(default_factory=Counter)


def _day(entry: Mapping[str, Any], zone: tzinfo) -> date:
    moment = datetime.strptime(entry["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return moment.astimezone(zone).date()


def _fold(entries: Iterable[Mapping[str, Any]], start: date, end: date, zone: tzinfo) -> _State:
    state = _State()
    for entry in entries:
        name, data, oid = entry["event"], entry["data"], str(entry["object"]["id"])
        day = _day(entry, zone)
        in_period = start <= day < end
        if name in {"SYSTEM_CREATED", "SYSTEM_UPDATED"} and "code" in data:
            state.systems[data["code"]] = str(data.get("name", data["code"]))
        elif name == "SEARCH_PURPOSE_CREATED":
            state.purposes[data["code"]] = str(data["label"])
        elif name.startswith("GRANT_") and "starts_on" in data:
            if name == "GRANT_REQUESTED":
                state.grant_owner[oid] = (int(data["account"]), str(data["system"]))
            status = "requested" if name == "GRANT_REQUESTED" else str(data.get("status", ""))
            state.grants[oid].append(
                (
                    day,
                    status,
                    date.fromisoformat(data["starts_on"]),
                    date.fromisoformat(data["expires_on"]),
                )
            )
        elif entry["object"]["type"] == "searches.searchrecord" and name.startswith("SEARCH_"):
            _fold_search(state, name, data, oid=oid, day=day, zone=zone)
        elif name == "REVIEW_CAMPAIGN_OPENED" and in_period:
            state.campaigns += 1
        elif name == "REVIEW_ITEM_RECORDED" and in_period:
            state.verdicts[str(data.get("verdict", ""))] += 1
        elif name == "FINDING_RAISED":
            state.finding_kind[oid] = str(data["kind"])
            if in_period:
                state.raised[str(data["kind"])] += 1
        elif name == "FINDING_CLOSED" and in_period:
            state.closed[state.finding_kind.get(oid, "other")] += 1
            state.resolutions[str(data.get("resolution", ""))] += 1
    return state


def _fold_search(
    state: _State, name: str, data: Mapping[str, Any], *, oid: str, day: date, zone: tzinfo
) -> None:
    if name in {"SEARCH_REQUESTED", "SEARCH_REQUEST_REFUSED", "SEARCH_ENTERED_AFTER_THE_FACT"}:
        requested = day
        if name == "SEARCH_ENTERED_AFTER_THE_FACT" and data.get("requested_at"):
            stamp = datetime.fromisoformat(str(data["requested_at"]).replace("Z", "+00:00"))
            requested = stamp.astimezone(zone).date()
        state.searches[oid] = _Search(str(data["system"]), str(data["purpose"]), requested)
    search = state.searches.get(oid)
    if search is None:
        return
    if "status" in data:
        search.status = str(data["status"])
    if data.get("lead_derived") is True:
        search.lead = True


def _in_force(timeline: list[tuple[date, str, date, date]], start: date, end: date) -> bool:
    """Whether a grant was in force on any day of ``[start, end)``."""
    for index, (since, status, starts_on, expires_on) in enumerate(timeline):
        if status != "approved":
            continue
        until = timeline[index + 1][0] if index + 1 < len(timeline) else date.max
        first = max(since, starts_on, start)
        last = min(until - timedelta(days=1) if until != date.max else date.max, expires_on)
        if first <= last and first < end:
            return True
    return False


def _labels(codes: Iterable[str], names: Mapping[str, str]) -> list[tuple[str, str]]:
    return sorted(((code, names.get(code, code)) for code in set(codes)), key=lambda p: p[1])


def build_report(
    entries: Iterable[Mapping[str, Any]],
    *,
    start: date,
    end: date,
    threshold: int = 5,
    zone: tzinfo = UTC,
) -> TransparencyReport:
    """The report for ``[start, end)`` from ``entries`` (parsed, in ledger order)."""
    if end <= start:
        raise ValueError(f"the period must end after it starts ({start} to {end})")
    entry_list = list(entries)
    state = _fold(entry_list, start, end, zone)
    values: dict[str, int] = {}
    constraints: list[Constraint] = []
    searches = [s for s in state.searches.values() if start <= s.requested < end]
    systems = _labels(
        [s.system for s in searches] + [owner[1] for owner in state.grant_owner.values()],
        state.systems,
    )
    purposes = _labels([s.purpose for s in searches], state.purposes)
    outcome_codes = [code for code, _ in OUTCOMES]

    def outcome(search: _Search) -> str:
        return search.status if search.status in outcome_codes else "pending_approval"

    # Searches by system and by purpose, sharing the outcome totals and the grand total.
    for dimension, pairs, key in (("system", systems, "system"), ("purpose", purposes, "purpose")):
        for code, _ in pairs:
            chosen = [s for s in searches if getattr(s, key) == code]
            for out in outcome_codes:
                values[f"{dimension}:{code}:{out}"] = sum(1 for s in chosen if outcome(s) == out)
            values[f"{dimension}:{code}:total"] = len(chosen)
            constraints.append(
                Constraint(
                    f"{dimension}:{code}:total",
                    tuple(f"{dimension}:{code}:{out}" for out in outcome_codes),
                )
            )
        for out in outcome_codes:
            constraints.append(
                Constraint(f"outcome:{out}", tuple(f"{dimension}:{c}:{out}" for c, _ in pairs))
            )
        constraints.append(
            Constraint("searches:total", tuple(f"{dimension}:{c}:total" for c, _ in pairs))
        )
    for out in outcome_codes:
        values[f"outcome:{out}"] = sum(1 for s in searches if outcome(s) == out)
    values["searches:total"] = len(searches)
    constraints.append(Constraint("searches:total", tuple(f"outcome:{o}" for o in outcome_codes)))

    # People with access (not additive across systems: no total) and leads derived.
    for code, _ in systems:
        people = {
            owner[0]
            for grant, owner in state.grant_owner.items()
            if owner[1] == code and _in_force(state.grants[grant], start, end)
        }
        values[f"people:{code}"] = len(people)
        values[f"leads:{code}"] = sum(1 for s in searches if s.system == code and s.lead)
    values["leads:total"] = sum(values[f"leads:{c}"] for c, _ in systems)
    constraints.append(Constraint("leads:total", tuple(f"leads:{c}" for c, _ in systems)))

    # Supervisory review.
    values["review:campaigns"] = state.campaigns
    for code, _ in _VERDICTS:
        values[f"review:{code}"] = state.verdicts.get(code, 0)
    values["review:total"] = sum(values[f"review:{c}"] for c, _ in _VERDICTS)
    constraints.append(Constraint("review:total", tuple(f"review:{c}" for c, _ in _VERDICTS)))

    # Findings, by kind, raised and closed; closed by resolution (sharing the closed total).
    kinds = sorted(set(state.raised) | set(state.closed))
    for kind in kinds:
        values[f"findings:{kind}:raised"] = state.raised.get(kind, 0)
        values[f"findings:{kind}:closed"] = state.closed.get(kind, 0)
    for column in ("raised", "closed"):
        values[f"findings:{column}"] = sum(values[f"findings:{k}:{column}"] for k in kinds)
        constraints.append(
            Constraint(f"findings:{column}", tuple(f"findings:{k}:{column}" for k in kinds))
        )
    resolutions = sorted(state.resolutions)
    for resolution in resolutions:
        values[f"resolution:{resolution}"] = state.resolutions[resolution]
    constraints.append(Constraint("findings:closed", tuple(f"resolution:{r}" for r in resolutions)))

    tables = _tables(systems, purposes, kinds, resolutions)
    return TransparencyReport(
        start=start,
        end=end,
        threshold=threshold,
        entries=len(entry_list),
        values=values,
        suppression=suppress(values, constraints, threshold),
        tables=tables,
    )


def _words(code: str) -> str:
    return code.replace("_", " ").capitalize()


def _tables(
    systems: list[tuple[str, str]],
    purposes: list[tuple[str, str]],
    kinds: list[str],
    resolutions: list[str],
) -> tuple[ReportTable, ...]:
    outcome_codes = [code for code, _ in OUTCOMES]
    outcome_names = tuple(name for _, name in OUTCOMES)
    return (
        ReportTable(
            key="systems",
            title="Systems, people with access and searches",
            note="People with a grant in force on at least one day of the period; searches "
            "requested in the period.",
            row_header="System",
            rows=tuple(name for _, name in systems),
            columns=("People with access", "Searches", "Leads derived"),
            cells=tuple((f"people:{c}", f"system:{c}:total", f"leads:{c}") for c, _ in systems),
        ),
        ReportTable(
            key="outcomes_by_system",
            title="Searches by system and outcome",
            note="Where each search requested in the period stood when the report was made.",
            row_header="System",
            rows=tuple(name for _, name in systems),
            columns=outcome_names,
            cells=tuple(tuple(f"system:{c}:{o}" for o in outcome_codes) for c, _ in systems),
            row_totals=tuple(f"system:{c}:total" for c, _ in systems),
            column_totals=tuple(f"outcome:{o}" for o in outcome_codes),
            grand_total="searches:total",
        ),
        ReportTable(
            key="outcomes_by_purpose",
            title="Searches by purpose and outcome",
            note="The purpose is the offence category the search was requested for.",
            row_header="Purpose",
            rows=tuple(name for _, name in purposes),
            columns=outcome_names,
            cells=tuple(tuple(f"purpose:{c}:{o}" for o in outcome_codes) for c, _ in purposes),
            row_totals=tuple(f"purpose:{c}:total" for c, _ in purposes),
            column_totals=tuple(f"outcome:{o}" for o in outcome_codes),
            grand_total="searches:total",
        ),
        ReportTable(
            key="leads",
            title="Leads derived",
            note="Documented searches whose outcome records a lead, after a person vetted "
            "the candidates.",
            row_header="System",
            rows=tuple(name for _, name in systems),
            columns=("Leads derived",),
            cells=tuple((f"leads:{c}",) for c, _ in systems),
            column_totals=("leads:total",),
        ),
        ReportTable(
            key="reviews",
            title="Supervisory review",
            note="Review campaigns opened, and searches reviewed by verdict, in the period.",
            row_header="",
            rows=("Campaigns opened", *(name for _, name in _VERDICTS)),
            columns=("Count",),
            cells=(("review:campaigns",), *((f"review:{c}",) for c, _ in _VERDICTS)),
            column_totals=None,
        ),
        ReportTable(
            key="findings",
            title="Findings by kind",
            note="Findings from supervisory reviews and from reconciling the systems' own "
            "access logs, raised and closed in the period.",
            row_header="Kind",
            rows=tuple(_words(k) for k in kinds),
            columns=("Raised", "Closed"),
            cells=tuple((f"findings:{k}:raised", f"findings:{k}:closed") for k in kinds),
            column_totals=("findings:raised", "findings:closed"),
        ),
        ReportTable(
            key="resolutions",
            title="Findings closed, by resolution",
            note="How the findings closed in the period were resolved.",
            row_header="Resolution",
            rows=tuple(_words(r) for r in resolutions),
            columns=("Closed",),
            cells=tuple((f"resolution:{r}",) for r in resolutions),
            column_totals=("findings:closed",),
        ),
    )
