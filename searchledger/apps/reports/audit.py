"""The audit trail (the ledger's entries) rendered for other tools: CSV and XLSX for
spreadsheets, OCSF JSON lines for a security data lake, RFC 5424 syslog for a SIEM, and
sending syslog to a collector over TCP (RFC 6587 octet counting), TLS (RFC 5425) or UDP
(RFC 5426). Reads only: the entries hold no personal data in clear, so exporting them
writes nothing."""

from __future__ import annotations

import csv
import io
import json
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from django.conf import settings
from openpyxl import Workbook

from searchledger import __version__
from searchledger.apps.ledger.models import LedgerEntry
from searchledger.core.audit_formats import TABLE_COLUMNS, ocsf_event, syslog_message, table_row
from searchledger.ledger.events import parse_entry

__all__ = [
    "AuditFormat",
    "AuditRange",
    "SendError",
    "entries",
    "export_file",
    "lines",
    "send_syslog",
    "write_audit",
]

_BATCH = 2000
# RFC 5426: a syslog message over UDP must fit one datagram; 65 507 bytes is IPv4's limit.
_UDP_MAX = 65_507


class AuditFormat(StrEnum):
    """The formats the audit trail is exported in."""

    CSV = "csv"
    XLSX = "xlsx"
    OCSF = "ocsf"  # JSON lines, one OCSF event per mapped entry
    SYSLOG = "syslog"  # one RFC 5424 message per line

    @property
    def content_type(self) -> str:
        """The media type of an export in this format."""
        return {
            AuditFormat.CSV: "text/csv; charset=utf-8",
            AuditFormat.XLSX: ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            AuditFormat.OCSF: "application/x-ndjson",
            AuditFormat.SYSLOG: "text/plain; charset=utf-8",
        }[self]

    @property
    def suffix(self) -> str:
        """The file name suffix of an export in this format."""
        return {"ocsf": "ocsf.jsonl", "syslog": "syslog.log"}.get(self.value, self.value)


@dataclass(frozen=True)
class AuditRange:
    """Entries ``since`` (inclusive) up to ``until`` (exclusive; None: to the end)."""

    since: int = 0
    until: int | None = None


class SendError(RuntimeError):
    """The collector could not be reached or refused the connection; the message says how
    far the export got (``sent``), so the next run can resume from there."""

    def __init__(self, message: str, sent: int) -> None:
        super().__init__(message)
        self.sent = sent


def entries(window: AuditRange) -> Iterator[tuple[dict[str, Any], str]]:
    """Each entry in the window, parsed, with its leaf hash, in ledger order."""
    start = window.since
    while True:
        query = LedgerEntry.objects.filter(seq__gte=start).order_by("seq")
        if window.until is not None:
            query = query.filter(seq__lt=window.until)
        batch = list(query.values_list("seq", "body", "leaf_hash")[:_BATCH])
        if not batch:
            return
        for _, body, leaf in batch:
            yield parse_entry(body.encode("utf-8")), leaf
        start = batch[-1][0] + 1


def _origin() -> str:
    return str(settings.SEARCHLEDGER_LOG_ORIGIN)


def _hostname() -> str:
    return str(getattr(settings, "SEARCHLEDGER_SYSLOG_HOSTNAME", "") or socket.gethostname())


def _line(fmt: AuditFormat, entry: dict[str, Any], leaf: str, host: str) -> str | None:
    """One entry as a line of an OCSF or syslog export (None: no OCSF class for it)."""
    if fmt is AuditFormat.OCSF:
        event = ocsf_event(entry, origin=_origin(), product_version=__version__, leaf_hash=leaf)
        return None if event is None else json.dumps(event, sort_keys=True) + "\n"
    return syslog_message(entry, hostname=host, leaf_hash=leaf) + "\n"


def lines(fmt: AuditFormat, window: AuditRange) -> Iterator[str]:
    """The export as text (CSV, OCSF JSON lines or syslog), in chunks, for streaming."""
    if fmt is AuditFormat.XLSX:
        raise ValueError("XLSX is not a line format")
    if fmt is AuditFormat.CSV:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(TABLE_COLUMNS)
        for entry, _ in entries(window):
            writer.writerow(table_row(entry))
            if buffer.tell() > 65536:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()
        return
    host = _hostname()
    for entry, leaf in entries(window):
        line = _line(fmt, entry, leaf, host)
        if line is not None:
            yield line


def write_audit(fmt: AuditFormat, window: AuditRange, out: IO[bytes]) -> int:
    """Write the export to ``out``; return the number of ledger entries it covers (an OCSF
    export covers entries it has no class for by skipping them)."""
    count = 0
    if fmt is AuditFormat.XLSX:
        book = Workbook(write_only=True)
        sheet = book.create_sheet("audit trail")
        sheet.append(list(TABLE_COLUMNS))
        for entry, _ in entries(window):
            sheet.append(table_row(entry))
            count += 1
        book.save(out)
        return count
    if fmt is AuditFormat.CSV:
        text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
        writer = csv.writer(text)
        writer.writerow(TABLE_COLUMNS)
        for entry, _ in entries(window):
            writer.writerow(table_row(entry))
            count += 1
        text.flush()
        text.detach()
        return count
    host = _hostname()
    for entry, leaf in entries(window):
        count += 1
        line = _line(fmt, entry, leaf, host)
        if line is not None:
            out.write(line.encode("utf-8"))
    return count


def send_syslog(url: str, window: AuditRange, *, timeout: float = 10.0) -> int:
    """Send the entries as syslog messages to ``url`` (``tcp://host:port``,
    ``tls://host:port`` or ``udp://host:port``); return the number sent. Over TCP and TLS
    each message is framed by its length (RFC 6587 octet counting)."""
    parts = urlsplit(url)
    if parts.scheme not in {"tcp", "tls", "udp"} or not parts.hostname or not parts.port:
        raise SendError(f"{url!r}: give tcp://HOST:PORT, tls://HOST:PORT or udp://HOST:PORT", 0)
    host = _hostname()
    sent = 0
    address = (parts.hostname, parts.port)
    try:
        if parts.scheme == "udp":
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                for entry, leaf in entries(window):
                    data = syslog_message(entry, hostname=host, leaf_hash=leaf).encode("utf-8")
                    if len(data) > _UDP_MAX:
                        raise SendError(
                            f"entry {entry['seq']} is {len(data)} bytes, too large for UDP; "
                            "use tcp:// or tls://",
                            sent,
                        )
                    udp.sendto(data, address)
                    sent += 1
            return sent
        raw = socket.create_connection(address, timeout=timeout)
        stream: socket.socket = (
            ssl.create_default_context().wrap_socket(raw, server_hostname=parts.hostname)
            if parts.scheme == "tls"
            else raw
        )
        with stream:
            for entry, leaf in entries(window):
                data = syslog_message(entry, hostname=host, leaf_hash=leaf).encode("utf-8")
                stream.sendall(f"{len(data)} ".encode("ascii") + data)
                sent += 1
    except OSError as exc:
        raise SendError(f"sending to {url} failed after {sent} messages: {exc}", sent) from exc
    return sent


def export_file(fmt: AuditFormat, window: AuditRange, path: Path) -> int:
    """Write the export to ``path`` (through a temporary file, then a rename)."""
    temporary = path.with_name(path.name + ".part")
    with temporary.open("wb") as handle:
        count = write_audit(fmt, window, handle)
    temporary.replace(path)
    return count
