"""The transparency report computed from ledger entries (``core.transparency``), checked
against figures counted by hand from a small hand-written ledger, and its suppression."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from searchledger.core.transparency import build_report

_seq = iter(range(10_000))


def e(event: str, when: str, obj: tuple[str, int], **data: Any) -> dict[str, Any]:
    """One entry as ``parse_entry`` returns it."""
    return {
        "v": 1,
        "seq": next(_seq),
        "type": 0,
        "event": event,
        "time": f"{when}T10:00:00.000000Z",
        "actor": 1,
        "request_id": "r",
        "object": {"type": obj[0], "id": str(obj[1])},
        "data": data,
        "commitments": {},
    }


SYSTEM = ("systems.externalsystem", 1)
SEARCH = "searches.searchrecord"
GRANT = "grants.accessgrant"


def _grant(gid: int, account: int, approved: str, starts: str, expires: str) -> list[dict]:
    dates = {"starts_on": starts, "expires_on": expires}
    return [
        e("GRANT_REQUESTED", approved, (GRANT, gid), account=account, system="mirs", **dates),
        e(
            "GRANT_APPROVED",
            approved,
            (GRANT, gid),
            account=account,
            system="mirs",
            status="approved",
            **dates,
        ),
    ]


def _search(sid: int, when: str, status: str, purpose: str = "homicide", **extra: Any) -> dict:
    return e(
        "SEARCH_REQUESTED",
        when,
        (SEARCH, sid),
        system="mirs",
        purpose=purpose,
        status=status,
        officer=sid,
        **extra,
    )


def ledger() -> list[dict[str, Any]]:
    entries = [
        e("SYSTEM_CREATED", "2025-01-01", SYSTEM, code="mirs", name="MIRS"),
        e(
            "SEARCH_PURPOSE_CREATED",
            "2025-01-01",
            ("searches.offencecategory", 1),
            code="homicide",
            label="Homicide offences",
        ),
        e(
            "SEARCH_PURPOSE_CREATED",
            "2025-01-01",
            ("searches.offencecategory", 2),
            code="robbery",
            label="Robbery",
        ),
    ]
    # Seven people in force during 2026; one expired in 2025; one revoked before 2026.
    for n in range(7):
        entries += _grant(100 + n, 10 + n, "2025-06-01", "2025-06-01", "2026-06-01")
    entries += _grant(200, 30, "2024-01-01", "2024-01-01", "2025-12-31")
    entries += _grant(201, 31, "2025-01-01", "2025-01-01", "2027-01-01")
    entries.append(
        e(
            "GRANT_REVOKED",
            "2025-12-01",
            (GRANT, 201),
            account=31,
            system="mirs",
            status="revoked",
            starts_on="2025-01-01",
            expires_on="2027-01-01",
        )
    )
    # Searches in 2026: 8 documented homicide (3 with a lead), 6 refused robbery,
    # 1 cancelled robbery; one search of 2025; one transcribed in 2026 but requested in 2025.
    for n in range(8):
        entries.append(_search(n, "2026-02-01", "authorised"))
        entries.append(
            e(
                "SEARCH_OUTCOME_DOCUMENTED",
                "2026-02-02",
                (SEARCH, n),
                status="documented",
                lead_derived=n < 3,
            )
        )
    for n in range(8, 14):
        entries.append(
            e(
                "SEARCH_REQUEST_REFUSED",
                "2026-03-01",
                (SEARCH, n),
                system="mirs",
                purpose="robbery",
                status="refused",
            )
        )
    entries.append(_search(14, "2026-04-01", "authorised", purpose="robbery"))
    entries.append(e("SEARCH_CANCELLED", "2026-04-02", (SEARCH, 14), status="cancelled"))
    entries.append(_search(15, "2025-12-30", "authorised"))
    entries.append(
        e(
            "SEARCH_ENTERED_AFTER_THE_FACT",
            "2026-05-01",
            (SEARCH, 16),
            system="mirs",
            purpose="homicide",
            status="documented",
            requested_at="2025-11-03T09:00:00+00:00",
            lead_derived=True,
        )
    )
    # Reviews and findings.
    entries.append(e("REVIEW_CAMPAIGN_OPENED", "2026-06-01", ("reviews.reviewcampaign", 1)))
    for n, verdict in enumerate(["compliant"] * 6 + ["non_compliant"] * 2):
        entries.append(
            e("REVIEW_ITEM_RECORDED", "2026-06-02", ("reviews.reviewitem", n), verdict=verdict)
        )
    for n in range(6):
        entries.append(
            e(
                "FINDING_RAISED",
                "2026-06-03",
                ("findings.finding", n),
                kind="undocumented_search",
                severity="high",
            )
        )
    for n in range(5):
        entries.append(
            e("FINDING_CLOSED", "2026-07-01", ("findings.finding", n), resolution="remediated")
        )
    return entries


def test_figures_match_the_hand_count() -> None:
    report = build_report(ledger(), start=date(2026, 1, 1), end=date(2027, 1, 1), threshold=1)
    v = report.values
    assert v["people:mirs"] == 7  # the expired and the revoked grants do not count
    assert v["searches:total"] == 15  # 8 + 6 + 1; not the 2025 one nor the transcribed one
    assert v["system:mirs:documented"] == 8
    assert v["system:mirs:refused"] == 6
    assert v["system:mirs:cancelled"] == 1
    assert v["purpose:homicide:total"] == 8
    assert v["purpose:robbery:total"] == 7
    assert v["leads:mirs"] == 3
    assert v["review:campaigns"] == 1
    assert (v["review:compliant"], v["review:non_compliant"]) == (6, 2)
    assert (v["findings:undocumented_search:raised"], v["findings:closed"]) == (6, 5)
    assert v["resolution:remediated"] == 5
    assert report.suppression.hidden == frozenset()  # threshold 1 hides nothing
    rows = report.rows()
    assert ("Searches by system and outcome", "MIRS", "Documented", "8") in rows


def test_a_search_transcribed_later_counts_when_it_was_requested() -> None:
    report = build_report(ledger(), start=date(2025, 11, 1), end=date(2025, 12, 1), threshold=1)
    assert report.values["searches:total"] == 1
    assert report.values["leads:mirs"] == 1


def test_small_counts_are_suppressed_in_every_table() -> None:
    report = build_report(ledger(), start=date(2026, 1, 1), end=date(2027, 1, 1), threshold=5)
    hidden = report.suppression.hidden
    assert "system:mirs:cancelled" in hidden  # 1
    assert "leads:mirs" in hidden  # 3
    assert "review:non_compliant" in hidden  # 2
    # No cell below the threshold is published, except zeros.
    for _, _, _, value in report.rows():
        assert value == "suppressed" or int(value) == 0 or int(value) >= 5


def test_a_period_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="must end after it starts"):
        build_report([], start=date(2026, 1, 2), end=date(2026, 1, 1))
