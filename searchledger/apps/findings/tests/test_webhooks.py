"""Webhooks on findings, delivered to a real HTTP server on loopback: every finding entry,
in ledger order, signed; a receiver that fails gets the same entries again on the next run;
nothing but finding entries is sent."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction
from typing_extensions import override

from searchledger.apps.findings import actions
from searchledger.apps.findings.models import WebhookCursor
from searchledger.apps.findings.webhooks import deliver_webhooks, sign
from searchledger.apps.ledger.models import LedgerEntry
from searchledger.cli import main

pytestmark = pytest.mark.django_db
SECRET = "webhook-test-secret"


class _Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.fail_next = 0
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"


class _Handler(BaseHTTPRequestHandler):
    @override
    def log_message(self, format: str, *args: object) -> None:  # stdlib name
        """Quiet."""

    def do_POST(self) -> None:  # the stdlib's name
        server = self.server
        assert isinstance(server, _Receiver)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if server.fail_next:
            server.fail_next -= 1
            self.send_response(503)
            self.end_headers()
            return
        server.received.append((dict(self.headers.items()), body))
        self.send_response(204)
        self.end_headers()


@pytest.fixture
def receiver(settings) -> Iterator[_Receiver]:
    server = _Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.SEARCHLEDGER_WEBHOOK_URLS = server.url
    settings.SEARCHLEDGER_WEBHOOK_SECRET = SECRET
    yield server
    server.shutdown()
    server.server_close()


def _raise(admin_actor, ref: str) -> int:
    with transaction.atomic():
        finding, _ = actions.raise_finding(
            actions.FindingDraft(
                source="reconciliation",
                kind="unknown_account",
                severity="high",
                summary="An account the agency does not know searched MIRS.",
                source_ref=ref,
            ),
            actor=admin_actor,
        )
    return finding.pk


def test_finding_entries_are_delivered_signed_and_in_order(admin_actor, receiver) -> None:
    first = _raise(admin_actor, "a")
    second = _raise(admin_actor, "b")
    actions.do_close_finding(first, "no_issue", note="A known contractor.", actor=admin_actor)
    [result] = deliver_webhooks()
    assert (result.delivered, result.pending, result.error) == (3, 0, "")
    events = [headers["X-Searchledger-Event"] for headers, _ in receiver.received]
    assert events == ["FINDING_RAISED", "FINDING_RAISED", "FINDING_CLOSED"]
    seqs = [int(headers["X-Searchledger-Seq"]) for headers, _ in receiver.received]
    assert seqs == sorted(seqs)
    for headers, body in receiver.received:
        expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-Searchledger-Signature"] == f"sha256={expected}"
        document = json.loads(body)
        entry = LedgerEntry.objects.get(seq=document["entry"]["seq"])
        assert document["leaf_hash"] == entry.leaf_hash
        assert json.loads(entry.body) == document["entry"]
        # Nothing personal: the summary is only a commitment in the entry.
        assert "contractor" not in body.decode()
        assert "does not know" not in body.decode()
    assert [json.loads(b)["finding"]["id"] for _, b in receiver.received] == [
        first,
        second,
        first,
    ]
    assert json.loads(receiver.received[0][1])["finding"]["kind"] == "unknown_account"
    # A second run has nothing to send.
    assert deliver_webhooks()[0].delivered == 0


def test_a_failing_receiver_gets_the_entries_again(admin_actor, receiver) -> None:
    _raise(admin_actor, "a")
    _raise(admin_actor, "b")
    receiver.fail_next = 1
    [result] = deliver_webhooks()
    assert (result.delivered, result.pending) == (0, 2)
    assert "503" in result.error
    cursor = WebhookCursor.objects.get()
    assert (cursor.failures, cursor.delivered_seq) == (1, -1)
    [result] = deliver_webhooks()
    assert (result.delivered, result.pending, result.error) == (2, 0, "")
    assert len(receiver.received) == 2
    assert WebhookCursor.objects.get().failures == 0


def test_the_command_line_reports_and_needs_a_secret(admin_actor, receiver, settings, capsys):
    _raise(admin_actor, "a")
    assert main(["deliver-webhooks"]) == 0
    assert "delivered 1, pending 0" in capsys.readouterr().out
    settings.SEARCHLEDGER_WEBHOOK_SECRET = ""
    assert main(["deliver-webhooks"]) == 2
    assert "SEARCHLEDGER_WEBHOOK_SECRET must be set" in capsys.readouterr().err
    settings.SEARCHLEDGER_WEBHOOK_URLS = ""
    assert main(["deliver-webhooks"]) == 0
    assert "no webhook URLs are configured" in capsys.readouterr().out


def test_the_signature_is_an_hmac_of_the_body() -> None:
    assert sign(b"{}", "k") == "sha256=" + hmac.new(b"k", b"{}", hashlib.sha256).hexdigest()
