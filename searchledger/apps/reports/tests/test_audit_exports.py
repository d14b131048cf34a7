"""The audit trail exported from a real ledger: CSV and XLSX read back with the csv module
and openpyxl (formula cells neutralised), OCSF lines pass the schema check, syslog reaches a
collector over TCP (octet counting) and UDP, and the command line and the page do the same;
bad input is refused with a clear message."""

from __future__ import annotations

import csv
import io
import json
import socket
import socketserver
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import transaction
from openpyxl import load_workbook
from syslog_rfc5424_parser import SyslogMessage
from typing_extensions import override

from searchledger.apps.accounts.actions import do_create_account
from searchledger.apps.ledger import writer
from searchledger.apps.ledger.models import LedgerEntry
from searchledger.apps.reports.audit import (
    AuditFormat,
    AuditRange,
    SendError,
    send_syslog,
    write_audit,
)
from searchledger.cli import main
from searchledger.core.actor import Actor
from searchledger.core.audit_formats import TABLE_COLUMNS
from searchledger.core.roles import Role
from searchledger.ledger.events import LedgerEventType
from tests.core.ocsf_requirements import ocsf_problems

pytestmark = pytest.mark.django_db


@pytest.fixture
def trail(admin_actor: Actor) -> int:
    """A ledger of accounts and one entry whose clear data starts like a formula."""
    for n in range(5):
        do_create_account(
            username=f"officer{n}", role=Role.OFFICER, password=None, actor=admin_actor
        )
    with transaction.atomic():
        writer.append(
            LedgerEventType.SYSTEM_UPDATED,
            object_type="systems.externalsystem",
            object_id=1,
            actor=admin_actor,
            data={"field": '=HYPERLINK("http://x")'},
        )
    return LedgerEntry.objects.count()


def _export(fmt: AuditFormat, window: AuditRange | None = None) -> bytes:
    out = io.BytesIO()
    write_audit(fmt, window or AuditRange(), out)
    return out.getvalue()


def test_csv_reads_back_with_every_entry_and_no_formula(trail: int) -> None:
    rows = list(csv.reader(io.StringIO(_export(AuditFormat.CSV).decode("utf-8"))))
    assert tuple(rows[0]) == TABLE_COLUMNS
    assert [int(r[0]) for r in rows[1:]] == list(range(trail))
    data = rows[-1][TABLE_COLUMNS.index("data")]
    assert data.startswith('{"field": "=HYPERLINK')  # JSON text: not a formula cell
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_xlsx_reads_back_with_openpyxl(trail: int) -> None:
    book = load_workbook(io.BytesIO(_export(AuditFormat.XLSX)), read_only=True)
    sheet = book["audit trail"]
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert tuple(values[0]) == TABLE_COLUMNS
    assert [row[0] for row in values[1:]] == list(range(trail))
    assert values[1][2] == "LEDGER_INITIALISED" or values[1][2] == "ACCOUNT_CREATED"
    assert all(
        not (isinstance(cell, str) and cell.startswith(("=", "+", "-", "@")))
        for row in values
        for cell in row
    )


def test_a_window_exports_only_its_entries(trail: int) -> None:
    rows = list(csv.reader(io.StringIO(_export(AuditFormat.CSV, AuditRange(2, 4)).decode())))
    assert [int(r[0]) for r in rows[1:]] == [2, 3]


def test_ocsf_lines_are_valid_events_for_the_account_entries(trail: int) -> None:
    events = [json.loads(line) for line in _export(AuditFormat.OCSF).splitlines()]
    # Every ACCOUNT_CREATED entry becomes an Account Change; SYSTEM_UPDATED has no class.
    assert len(events) == LedgerEntry.objects.filter(event_type=600).count() == trail - 1
    for event in events:
        assert ocsf_problems(event) == []
        assert event["class_uid"] == 3001
        assert event["activity_name"] == "Create"


def test_syslog_lines_parse_and_carry_their_position(trail: int) -> None:
    lines = _export(AuditFormat.SYSLOG).decode("utf-8").splitlines()
    assert len(lines) == trail
    for seq, line in enumerate(lines):
        parsed = SyslogMessage.parse(line)
        entry = LedgerEntry.objects.get(seq=seq)
        assert parsed.sd["searchledger@32473"]["seq"] == str(seq)
        assert parsed.sd["searchledger@32473"]["leaf"] == entry.leaf_hash
        assert parsed.msg.lstrip("\ufeff") == entry.body


class _Collector(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self) -> None:
        self.received: list[bytes] = []
        super().__init__(("127.0.0.1", 0), _FrameHandler)


class _FrameHandler(socketserver.StreamRequestHandler):
    @override
    def handle(self) -> None:
        # RFC 6587 octet counting: "LEN SP MSG" repeated.
        server = self.server
        assert isinstance(server, _Collector)
        while True:
            length = b""
            while (char := self.rfile.read(1)) not in {b" ", b""}:
                length += char
            if not length:
                return
            server.received.append(self.rfile.read(int(length)))


@pytest.fixture
def collector() -> Iterator[_Collector]:
    server = _Collector()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_syslog_reaches_a_tcp_collector_framed_by_length(trail: int, collector) -> None:
    port = collector.server_address[1]
    assert send_syslog(f"tcp://127.0.0.1:{port}", AuditRange(1)) == trail - 1
    for _ in range(100):
        if len(collector.received) == trail - 1:
            break
        threading.Event().wait(0.02)
    seqs = [
        SyslogMessage.parse(m.decode("utf-8")).sd["searchledger@32473"]["seq"]
        for m in collector.received
    ]
    assert seqs == [str(s) for s in range(1, trail)]


def test_syslog_reaches_a_udp_collector_one_datagram_each(trail: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver:
        receiver.bind(("127.0.0.1", 0))
        receiver.settimeout(5)
        port = receiver.getsockname()[1]
        assert send_syslog(f"udp://127.0.0.1:{port}", AuditRange(0, 3)) == 3
        got = [SyslogMessage.parse(receiver.recv(70000).decode("utf-8")) for _ in range(3)]
    assert [m.sd["searchledger@32473"]["seq"] for m in got] == ["0", "1", "2"]


def test_an_unreachable_collector_says_how_far_it_got(trail: int) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens once closed
    with pytest.raises(SendError) as caught:
        send_syslog(f"tcp://127.0.0.1:{port}", AuditRange())
    assert caught.value.sent == 0
    with pytest.raises(SendError, match="give tcp://HOST:PORT"):
        send_syslog("http://127.0.0.1:80", AuditRange())


def test_the_command_line_writes_and_sends(trail: int, tmp_path: Path, capsys, collector) -> None:
    target = tmp_path / "trail.xlsx"
    assert main(["export-audit", "--format", "xlsx", "--output", str(target)]) == 0
    assert f"wrote {trail} entries" in capsys.readouterr().out
    rows = list(load_workbook(target, read_only=True)["audit trail"].iter_rows(values_only=True))
    assert len(rows) == trail + 1
    port = collector.server_address[1]
    code = main(
        ["export-audit", "--format", "syslog", "--since", "2", "--send", f"tcp://127.0.0.1:{port}"]
    )
    assert code == 0
    assert f"next time use --since {trail}" in capsys.readouterr().out
    assert main(["export-audit", "--format", "csv", "--send", "tcp://127.0.0.1:1"]) == 2
    assert "--format syslog" in capsys.readouterr().err
    assert main(["export-audit", "--format", "xlsx"]) == 2


def test_the_page_downloads_and_refuses_bad_input(trail: int, role_clients) -> None:
    auditor = role_clients[Role.AUDITOR.value]
    page = auditor.get("/reports/audit-trail/")
    assert page.status_code == 200
    size = LedgerEntry.objects.count()  # the role clients' accounts came after the trail
    assert f"{size} entries" in page.content.decode()
    csv_response = auditor.get("/reports/audit-trail/export/?format=csv&since=1")
    body = b"".join(csv_response.streaming_content).decode()
    assert len(body.splitlines()) == size  # the header and entries 1..size-1
    assert "attachment" in csv_response["Content-Disposition"]
    xlsx = auditor.get("/reports/audit-trail/export/?format=xlsx")
    assert load_workbook(io.BytesIO(xlsx.content), read_only=True)["audit trail"]
    bad = auditor.get("/reports/audit-trail/export/?format=pdf")
    assert bad.status_code == 400
    assert "format must be one of" in bad.content.decode()
    bad = auditor.get("/reports/audit-trail/export/?since=-3")
    assert bad.status_code == 400
    assert "since must be an entry number" in bad.content.decode()
