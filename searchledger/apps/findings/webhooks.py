"""Webhooks on findings: every finding entry of the ledger (raised, assigned, remediation,
closed, escalated, reopened) is POSTed as JSON to each configured URL, in ledger order, at
least once.

The ledger is the outbox: a delivery run reads the finding entries after the URL's cursor
(``WebhookCursor``), posts each, and moves the cursor only past the ones the receiver
acknowledged with a 2xx status. A receiver that is down gets the same entries on the next
run (``searchledger deliver-webhooks``, from cron). Each request carries

* ``X-Searchledger-Event``: the event name, e.g. ``FINDING_RAISED``;
* ``X-Searchledger-Seq``: the entry's position in the ledger (receivers de-duplicate on it);
* ``X-Searchledger-Signature``: ``sha256=`` and the HMAC-SHA256 of the body under the shared
  secret, so the receiver knows it came from this searchledger.

The body is ``{"entry": <the ledger entry>, "leaf_hash": ..., "finding": {...}}``: the entry
holds no personal data in clear, and the finding part adds only its id, kind, severity,
status, due date and system. Configuration: ``SEARCHLEDGER_WEBHOOK_URLS`` (comma-separated)
and ``SEARCHLEDGER_WEBHOOK_SECRET``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from searchledger.apps.findings.models import Finding, WebhookCursor
from searchledger.apps.ledger.models import LedgerEntry
from searchledger.ledger.events import LedgerEventType, parse_entry

__all__ = ["Delivery", "configured_urls", "deliver_webhooks", "sign"]

FINDING_EVENTS = tuple(int(e) for e in LedgerEventType if e.name.startswith("FINDING_"))
_BATCH = 200


@dataclass(frozen=True)
class Delivery:
    """What one run did for one URL."""

    url: str
    delivered: int
    pending: int
    error: str


def configured_urls() -> list[str]:
    """The webhook URLs from the settings."""
    raw = str(getattr(settings, "SEARCHLEDGER_WEBHOOK_URLS", "") or "")
    return [u.strip() for u in raw.split(",") if u.strip()]


def sign(body: bytes, secret: str) -> str:
    """The signature header value of ``body``."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def _payload(entry: LedgerEntry) -> bytes:
    parsed = parse_entry(entry.body.encode("utf-8"))
    finding: dict[str, Any] = {"id": int(entry.object_id)}
    row = (
        Finding.objects.filter(pk=entry.object_id)
        .values("kind", "severity", "status", "due", "system__code")
        .first()
        if entry.object_type == "findings.finding" and entry.object_id.isdigit()
        else None
    )
    if row is not None:
        finding.update(
            kind=row["kind"],
            severity=row["severity"],
            status=row["status"],
            due=row["due"].isoformat(),
            system=row["system__code"],
        )
    document = {"entry": parsed, "leaf_hash": entry.leaf_hash, "finding": finding}
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _post(url: str, body: bytes, entry: LedgerEntry, secret: str, timeout: float) -> None:
    request = urllib.request.Request(  # noqa: S310  # the URL is the operator's setting
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "searchledger-webhooks",
            "X-Searchledger-Event": LedgerEventType(entry.event_type).name,
            "X-Searchledger-Seq": str(entry.seq),
            "X-Searchledger-Signature": sign(body, secret),
        },
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        if not 200 <= response.status < 300:
            raise urllib.error.HTTPError(url, response.status, "not a 2xx", response.headers, None)


def _cursor(url: str) -> WebhookCursor:
    cursor = WebhookCursor.objects.filter(url=url).first()
    if cursor is None:
        cursor = WebhookCursor(url=url, updated_at=timezone.now())
        cursor.save(force_insert=True)
    return cursor


def deliver_webhooks(*, timeout: float = 10.0, limit: int | None = None) -> list[Delivery]:
    """Deliver the pending finding entries to every configured URL; stop at a URL's first
    failure (so order is kept) and report it."""
    secret = str(getattr(settings, "SEARCHLEDGER_WEBHOOK_SECRET", "") or "")
    urls = configured_urls()
    if urls and not secret:
        raise RuntimeError("SEARCHLEDGER_WEBHOOK_SECRET must be set to sign webhook requests")
    results = []
    for url in urls:
        cursor = _cursor(url)
        delivered, error = 0, ""
        while limit is None or delivered < limit:
            batch = list(
                LedgerEntry.objects.filter(
                    seq__gt=cursor.delivered_seq, event_type__in=FINDING_EVENTS
                ).order_by("seq")[:_BATCH]
            )
            if not batch:
                break
            for entry in batch:
                try:
                    _post(url, _payload(entry), entry, secret, timeout)
                except (OSError, urllib.error.URLError) as exc:
                    error = f"entry {entry.seq}: {exc}"[:500]
                    break
                with transaction.atomic():
                    cursor.delivered_seq = entry.seq
                    cursor.failures = 0
                    cursor.last_error = ""
                    cursor.updated_at = timezone.now()
                    cursor.save(
                        update_fields=["delivered_seq", "failures", "last_error", "updated_at"]
                    )
                delivered += 1
                if limit is not None and delivered >= limit:
                    break
            if error:
                with transaction.atomic():
                    cursor.failures += 1
                    cursor.last_error = error
                    cursor.updated_at = timezone.now()
                    cursor.save(update_fields=["failures", "last_error", "updated_at"])
                break
        pending = LedgerEntry.objects.filter(
            seq__gt=cursor.delivered_seq, event_type__in=FINDING_EVENTS
        ).count()
        results.append(Delivery(url, delivered, pending, error))
    return results
