"""The audit trail's formats (``core.audit_formats``): OCSF events pass the schema's
requirements, syslog messages parse with an independent RFC 5424 parser, and spreadsheet
cells never start a formula."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from syslog_rfc5424_parser import SyslogMessage
from syslog_rfc5424_parser.constants import SyslogFacility, SyslogSeverity

from searchledger.core.audit_formats import (
    TABLE_COLUMNS,
    neutralise,
    ocsf_event,
    syslog_message,
    table_row,
)
from searchledger.ledger.events import LedgerEventType

from .ocsf_requirements import ocsf_problems

LEAF = "ab" * 32


def _entry(event: LedgerEventType, object_type: str, **data: Any) -> dict[str, Any]:
    return {
        "v": 1,
        "seq": 41,
        "type": int(event),
        "event": event.name,
        "time": "2026-11-25T12:00:00.123456Z",
        "actor": 3,
        "request_id": "0f4e1c",
        "object": {"type": object_type, "id": "7"},
        "data": data,
        "commitments": {"case_number": "cd" * 32},
    }


SEARCH_EVENTS = [e for e in LedgerEventType if e.name.startswith("SEARCH_")]
ACCOUNT_EVENTS = [e for e in LedgerEventType if e.name.startswith(("GRANT_", "ACCOUNT_"))]


@pytest.mark.parametrize("event", SEARCH_EVENTS, ids=lambda e: e.name)
def test_every_search_event_is_a_valid_api_activity(event: LedgerEventType) -> None:
    entry = _entry(event, "searches.searchrecord", system="mirs", status="authorised")
    ocsf = ocsf_event(entry, origin="sl.example/log", product_version="0.1.0", leaf_hash=LEAF)
    assert ocsf is not None
    assert ocsf_problems(ocsf) == []
    assert (ocsf["class_uid"], ocsf["category_uid"]) == (6003, 6)
    assert ocsf["metadata"]["uid"] == "sl.example/log/41"
    assert ocsf["time"] == 1_795_608_000_123
    assert ocsf["unmapped"]["searchledger"]["leaf_hash"] == LEAF


@pytest.mark.parametrize(
    ("event", "activity"),
    [
        (LedgerEventType.SEARCH_REQUESTED, "Create"),
        (LedgerEventType.SEARCH_VIEWED, "Read"),
        (LedgerEventType.SEARCH_EXPORTED, "Read"),
        (LedgerEventType.SEARCH_APPROVED, "Update"),
        (LedgerEventType.SEARCH_OUTCOME_DOCUMENTED, "Update"),
    ],
)
def test_search_activities(event: LedgerEventType, activity: str) -> None:
    ocsf = ocsf_event(
        _entry(event, "searches.searchrecord"), origin="o", product_version="1", leaf_hash=LEAF
    )
    assert ocsf is not None
    assert ocsf["activity_name"] == activity


@pytest.mark.parametrize("event", ACCOUNT_EVENTS, ids=lambda e: e.name)
def test_every_grant_and_account_event_is_a_valid_account_change(event: LedgerEventType) -> None:
    kind = "grants.accessgrant" if event.name.startswith("GRANT_") else "accounts.account"
    entry = _entry(event, kind, account=9, system="mirs")
    ocsf = ocsf_event(entry, origin="o", product_version="1", leaf_hash=LEAF)
    assert ocsf is not None
    assert ocsf_problems(ocsf) == []
    assert ocsf["class_uid"] == 3001
    # A grant's target user is the grantee, not the grant.
    assert ocsf["user"]["uid"] == ("9" if kind == "grants.accessgrant" else "7")


def test_grant_decisions_attach_and_detach_the_policy() -> None:
    def activity(event: LedgerEventType) -> str:
        ocsf = ocsf_event(
            _entry(event, "grants.accessgrant", account=9, system="mirs"),
            origin="o",
            product_version="1",
            leaf_hash=LEAF,
        )
        assert ocsf is not None
        return str(ocsf["activity_name"])

    assert activity(LedgerEventType.GRANT_APPROVED) == "Attach Policy"
    assert activity(LedgerEventType.GRANT_REVOKED) == "Detach Policy"


def test_other_events_have_no_ocsf_class() -> None:
    entry = _entry(LedgerEventType.SYSTEM_CREATED, "systems.externalsystem")
    assert ocsf_event(entry, origin="o", product_version="1", leaf_hash=LEAF) is None


def test_the_checker_itself_refuses_broken_events() -> None:
    good = ocsf_event(
        _entry(LedgerEventType.SEARCH_VIEWED, "searches.searchrecord"),
        origin="o",
        product_version="1",
        leaf_hash=LEAF,
    )
    assert good is not None
    assert ocsf_problems({**good, "type_uid": 1}) != []
    assert ocsf_problems({**good, "src_endpoint": {}}) != []
    assert ocsf_problems({k: v for k, v in good.items() if k != "actor"}) == ["missing actor"]
    assert ocsf_problems({**good, "activity_id": 7}) != []


def test_syslog_parses_with_an_independent_rfc5424_parser() -> None:
    entry = _entry(LedgerEventType.SEARCH_APPROVED, "searches.searchrecord", note='a "q" ] \\')
    line = syslog_message(entry, hostname="sl host.example", leaf_hash=LEAF)
    parsed = SyslogMessage.parse(line)
    assert parsed.facility is SyslogFacility.audit
    assert parsed.severity is SyslogSeverity.info
    assert parsed.version == 1
    assert parsed.hostname == "slhost.example"
    assert parsed.appname == "searchledger"
    assert parsed.msgid == "SEARCH_APPROVED"
    sd = parsed.sd["searchledger@32473"]
    assert sd == {
        "seq": "41",
        "leaf": LEAF,
        "actor": "3",
        "object": "searches.searchrecord/7",
        "request": "0f4e1c",
    }
    assert parsed.msg.lstrip("\ufeff").startswith('{"actor":3,')


def test_syslog_escapes_structured_data_and_limits_the_msgid() -> None:
    entry = _entry(LedgerEventType.SEARCH_APPROVED, "searches.searchrecord")
    entry["request_id"] = 'x"]\\y'
    entry["event"] = "E" * 40
    parsed = SyslogMessage.parse(syslog_message(entry, hostname="", leaf_hash=LEAF))
    # RFC 5424 6.3.3: '"', backslash and ']' are escaped; the parser returns them as sent.
    assert parsed.sd["searchledger@32473"]["request"] == 'x\\"\\]\\\\y'
    assert parsed.msgid == "E" * 32
    assert parsed.hostname is None or parsed.hostname == "-"


@given(st.text())
def test_a_neutralised_cell_never_starts_a_formula(value: str) -> None:
    cell = neutralise(value)
    assert isinstance(cell, str)
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert cell in {value, "'" + value}


def test_table_rows_neutralise_every_text_cell() -> None:
    entry = _entry(LedgerEventType.SEARCH_APPROVED, "searches.searchrecord")
    entry["request_id"] = "=HYPERLINK(1)"
    row = table_row(entry)
    assert len(row) == len(TABLE_COLUMNS)
    assert row[TABLE_COLUMNS.index("request_id")] == "'=HYPERLINK(1)"
    assert row[0] == 41
