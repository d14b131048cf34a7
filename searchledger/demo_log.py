"""The demo's external access log: what the Maryland Dashboard portal's own audit export
would say about the demo year's searches of MIRS.

Every MIRS search the officers ran (authorised or documented in searchledger) appears in it
as a ``FACE_SEARCH`` event a few minutes from the documented time, after a ``LOGIN``. Into
that honest log the demo plants what reconciliation exists to surface, and returns the list
so that a test can check that reconciliation finds exactly these and nothing else:

* searches nobody documented (two officers, one of them late at night);
* a dashboard account the agency does not know about (a temporary-duty account);
* a search run after a supervisor refused the request;
* a documented search whose dashboard event names another case;
* two documented searches with no event at all in the portal's log.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from searchledger.apps.accounts.models import Account
from searchledger.apps.searches.models import SearchRecord

__all__ = ["DASHBOARD_COLUMNS", "PlantedDiscrepancies", "dashboard_account", "write_dashboard_log"]

# The columns of the portal's export, as its owner ships them.
DASHBOARD_COLUMNS = ["user_id", "event_time", "event_type", "application", "query_id", "case_no"]
UNKNOWN_ACCOUNT = "MDD-TDY-4471"


def dashboard_account(account: Account) -> str:
    """The demo officer's user id on the dashboard portal."""
    return f"MDD-{account.username.upper()}"


@dataclass
class PlantedDiscrepancies:
    """What the demo log plants: search-record ids and external account ids."""

    def to_json(self) -> str:
        """The answer key: what reconciliation should find, as JSON."""
        return json.dumps(
            {
                "undocumented_search": [
                    {"account": account, "time": moment.isoformat()}
                    for account, moment in self.undocumented
                ],
                "unknown_account": {
                    "account": self.unknown_account,
                    "searches": self.unknown_searches,
                },
                "searched_after_refusal": self.after_refusal,
                "case_mismatch": self.case_mismatch,
                "no_external_event": self.no_external_event,
            },
            indent=2,
        )

    undocumented: list[tuple[str, datetime]] = field(default_factory=list)
    unknown_account: str = UNKNOWN_ACCOUNT
    unknown_searches: int = 0
    after_refusal: list[int] = field(default_factory=list)
    case_mismatch: list[int] = field(default_factory=list)
    no_external_event: list[int] = field(default_factory=list)


def _stamp(moment: datetime) -> str:
    """The portal's timestamp format: ISO 8601 with the UTC offset."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


class _Log:
    """The rows of the log being written, in any order until written."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.rows: list[tuple[datetime, list[str]]] = []

    def event(self, account_id: str, moment: datetime, kind: str, case: str = "") -> None:
        """Add one event; a search gets the portal's query id."""
        query = f"Q{self.rng.randrange(10**7, 10**8)}" if kind == "FACE_SEARCH" else ""
        self.rows.append((moment, [account_id, _stamp(moment), kind, "MIRS", query, case]))

    def write(self, path: Path) -> None:
        """Write the rows, oldest first, as the portal exports them."""
        self.rows.sort(key=lambda row: row[0])
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(DASHBOARD_COLUMNS)
            writer.writerows(row for _, row in self.rows)


def _undocumented(
    log: _Log, records: list[SearchRecord], searchers: list[Account], planted: PlantedDiscrepancies
) -> None:
    """Searches nobody documented: by two officers who do have access, one late at night,
    each at least two days from any search the officer did document."""
    quiet = log.rng.sample(searchers, 2)
    start = min(r.requested_at for r in records)
    for n, officer in enumerate([quiet[0], quiet[0], quiet[0], quiet[1]]):
        day = start + timedelta(days=40 + 61 * n)
        while day.weekday() >= 5:  # on a working day, so only the late one is out of hours
            day += timedelta(days=1)
        moment = day.replace(hour=22 if n == 3 else 11, minute=40, second=12, microsecond=0)
        mine = [r for r in records if r.officer_id == officer.pk]
        while moment.weekday() >= 5 or any(
            abs((r.requested_at - moment).total_seconds()) < 2 * 86400 for r in mine
        ):
            moment += timedelta(days=1)
        user = dashboard_account(officer)
        log.event(user, moment - timedelta(minutes=3), "LOGIN")
        log.event(user, moment, "FACE_SEARCH")
        planted.undocumented.append((user, moment))


def _unknown_account(log: _Log, start: datetime, planted: PlantedDiscrepancies) -> None:
    """An account the agency does not know: someone on temporary duty, searching for weeks."""
    for n in range(3):
        moment = start + timedelta(days=120 + 9 * n, hours=5 + n, minutes=17)
        log.event(UNKNOWN_ACCOUNT, moment - timedelta(minutes=4), "LOGIN")
        log.event(UNKNOWN_ACCOUNT, moment, "FACE_SEARCH")
        planted.unknown_searches += 1


def write_dashboard_log(path: Path, rng: random.Random) -> PlantedDiscrepancies:
    """Write the dashboard's access log for the demo's transcribed year of MIRS searches to
    ``path`` (CSV) and return what it plants."""
    planted = PlantedDiscrepancies()
    log = _Log(rng)
    records = list(
        SearchRecord.objects.filter(system__code="mirs", entered_after_the_fact=True)
        .select_related("officer")
        .order_by("requested_at", "pk")
    )
    ran = [r for r in records if r.status in {"authorised", "documented"}]
    documented = [r for r in ran if r.status == "documented" and r.searched_at is not None]

    # Two documented searches the portal has no trace of (well inside the year, and with no
    # other search by the same officer that day, whose event would stand for them); one
    # whose event names another case.
    def alone(record: SearchRecord) -> bool:
        return not any(
            o.pk != record.pk
            and o.officer_id == record.officer_id
            and abs((o.requested_at - record.requested_at).total_seconds()) < 3 * 86400
            for o in ran
        )

    middle = documented[10:-10]
    missing = {r.pk for r in rng.sample([r for r in middle if alone(r)], 2)}
    planted.no_external_event = sorted(missing)
    mismatched = rng.choice([r for r in middle if r.pk not in missing])
    planted.case_mismatch = [mismatched.pk]

    for record in ran:
        if record.pk in missing:
            continue
        when = record.searched_at or record.authorised_at or record.requested_at
        moment = when - timedelta(minutes=rng.randint(0, 6), seconds=rng.randint(0, 59))
        user = dashboard_account(record.officer)
        log.event(user, moment - timedelta(minutes=rng.randint(2, 9)), "LOGIN")
        case = record.case_number
        if record.pk == mismatched.pk:
            case = f"{case}-X"
        log.event(
            user,
            moment,
            "FACE_SEARCH",
            case if rng.random() < 0.8 or case != record.case_number else "",
        )

    # A search after a supervisor refused the request (twenty minutes after it was made).
    refused = [r for r in records if r.status == "refused" and r.decided_by_id is not None]
    if refused:
        record = refused[0]
        planted.after_refusal = [record.pk]
        moment = record.requested_at + timedelta(minutes=20)
        log.event(dashboard_account(record.officer), moment, "FACE_SEARCH", record.case_number)

    _undocumented(log, records, sorted({r.officer for r in documented}, key=str), planted)
    _unknown_account(log, min(r.requested_at for r in records), planted)
    log.write(path)
    return planted
