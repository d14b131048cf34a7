"""Ledger event types and the schema of a ledger entry.

Event type values are never reused; each domain has its own range of a hundred:
``GRANT_* 1xx, TRAINING_* 2xx, SEARCH_* 3xx, REVIEW_* 4xx, RECON_* 5xx, ACCOUNT_* and
ORG_* 6xx, SYSTEM_* 7xx, IMPORT_* 8xx, LEDGER_* 9xx``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum, unique
from typing import Any

from searchledger.ledger.canonical import CanonicalError, canonical_bytes, decode_canonical

__all__ = [
    "SCHEMA_VERSION",
    "EntryDraft",
    "EntrySchemaError",
    "LedgerEventType",
    "build_entry",
    "format_time",
    "parse_entry",
    "validate_entry",
]

SCHEMA_VERSION = 1


@unique
class LedgerEventType(IntEnum):
    """Every kind of state change the ledger records."""

    GRANT_REQUESTED = 100
    GRANT_APPROVED = 101
    GRANT_REFUSED = 102
    GRANT_REVOKED = 103
    GRANT_RECERTIFIED = 104

    TRAINING_COURSE_CREATED = 200
    TRAINING_COMPLETED = 201
    TRAINING_RULES_ACKNOWLEDGED = 202

    SEARCH_PURPOSE_CREATED = 300
    SEARCH_POLICY_SET = 301
    SEARCH_CASE_OPENED = 302
    SEARCH_CASE_CLOSED = 303
    SEARCH_PURPOSE_RETIRED = 304
    SEARCH_REQUESTED = 310
    SEARCH_REQUEST_REFUSED = 311
    SEARCH_APPROVED = 312
    SEARCH_REFUSED = 313
    SEARCH_CANCELLED = 314
    SEARCH_OUTCOME_DOCUMENTED = 320
    SEARCH_ROI_RECORDED = 321
    SEARCH_VIEWED = 330
    SEARCH_PROBE_VIEWED = 331
    SEARCH_EXPORTED = 332
    SEARCH_PROBE_STORED = 333
    SEARCH_PROBE_DESTROYED = 334
    SEARCH_ENTERED_AFTER_THE_FACT = 340

    # Supervisory review campaigns and their findings (apps.reviews, apps.findings).
    REVIEW_CAMPAIGN_OPENED = 400
    REVIEW_SAMPLE_DRAWN = 401
    REVIEW_ITEM_RECORDED = 402
    REVIEW_CAMPAIGN_CLOSED = 403
    FINDING_RAISED = 410
    FINDING_ASSIGNED = 411
    FINDING_REMEDIATION_RECORDED = 412
    FINDING_CLOSED = 413
    FINDING_ESCALATED = 414
    FINDING_REOPENED = 415
    FINDING_EXPORTED = 416

    # External access logs and their reconciliation (apps.accesslogs, apps.reconciliation).
    RECON_MAPPING_SET = 500
    RECON_LOG_IMPORT_STARTED = 501
    RECON_LOG_IMPORTED = 502
    RECON_LOG_IMPORT_FAILED = 503
    RECON_ACCOUNT_MAPPED = 504
    RECON_ACCOUNT_UNMAPPED = 505
    RECON_RUN_COMPLETED = 510

    ACCOUNT_CREATED = 600
    ACCOUNT_ROLE_CHANGED = 601
    ACCOUNT_DEACTIVATED = 602
    ACCOUNT_REACTIVATED = 603
    ACCOUNT_PASSWORD_SET = 604
    ACCOUNT_ASSIGNED = 605
    ORG_UNIT_CREATED = 610
    ACCOUNT_MFA_ENROLLED = 620
    ACCOUNT_MFA_REMOVED = 621
    ACCOUNT_TOKEN_ISSUED = 630
    ACCOUNT_TOKEN_REVOKED = 631
    ACCOUNT_SSO_LINKED = 640

    SYSTEM_CREATED = 700
    SYSTEM_UPDATED = 701
    SYSTEM_RULES_PUBLISHED = 702

    IMPORT_APPLIED = 800

    LEDGER_INITIALISED = 900

    # The register of oversight recommendations (apps.oversight).
    OVERSIGHT_MEMO_RECORDED = 1000
    OVERSIGHT_RESPONSE_RECORDED = 1001
    OVERSIGHT_MILESTONE_ADDED = 1002
    OVERSIGHT_MILESTONE_DONE = 1003
    OVERSIGHT_EVIDENCE_LINKED = 1004
    OVERSIGHT_STATUS_CHANGED = 1005

    # Reports (apps.reports): a transparency report published from a checkpoint.
    REPORT_PUBLISHED = 1100


_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_FIELD = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_OBJECT_TYPE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
_ENTRY_KEYS = frozenset(
    {"v", "seq", "type", "event", "time", "actor", "request_id", "object", "data", "commitments"}
)
# Optional: the commitment to the rows the action wrote (see ``ledger.rowstate``). Entries
# written before it existed have no "state" and stay valid.
_OPTIONAL_KEYS = frozenset({"state"})


class EntrySchemaError(ValueError):
    """An entry does not follow the ledger entry schema."""


@dataclass(frozen=True)
class EntryDraft:
    """What an action wants to record, before the ledger assigns its sequence number.

    ``data`` holds only non-personal facts (ids, states, enumerated values, counts).
    ``commitments`` maps a field name to a hex commitment (see ``canonical.commit``) for
    anything personal or free text.
    """

    event: LedgerEventType
    object_type: str
    object_id: str
    actor_id: int
    request_id: str
    data: Mapping[str, Any] = field(default_factory=dict)
    commitments: Mapping[str, str] = field(default_factory=dict)
    state: Mapping[str, Any] | None = None


def format_time(moment: datetime) -> str:
    """RFC 3339 UTC with microseconds, the only time format entries use."""
    if moment.tzinfo is None:
        raise EntrySchemaError("entry time must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def build_entry(draft: EntryDraft, *, seq: int, time: datetime) -> bytes:
    """Assemble and canonically encode the entry for ``draft`` at position ``seq``.

    The sequence number is inside the signed bytes so that moving an entry to another
    position (reordering rows) changes its meaning and is detected.
    """
    entry = {
        "v": SCHEMA_VERSION,
        "seq": seq,
        "type": int(draft.event),
        "event": draft.event.name,
        "time": format_time(time),
        "actor": draft.actor_id,
        "request_id": draft.request_id,
        "object": {"type": draft.object_type, "id": draft.object_id},
        "data": dict(draft.data),
        "commitments": dict(draft.commitments),
    }
    if draft.state is not None:
        entry["state"] = dict(draft.state) if isinstance(draft.state, Mapping) else draft.state
    validate_entry(entry)
    return canonical_bytes(entry)


def validate_entry(entry: Mapping[str, Any]) -> None:
    """Check that ``entry`` follows schema version 1; raise :class:`EntrySchemaError`."""
    keys = set(entry)
    if not _ENTRY_KEYS <= keys <= _ENTRY_KEYS | _OPTIONAL_KEYS:
        missing = sorted(_ENTRY_KEYS - keys)
        extra = sorted(keys - _ENTRY_KEYS - _OPTIONAL_KEYS)
        raise EntrySchemaError(f"entry fields wrong: missing {missing}, unexpected {extra}")
    if entry["v"] != SCHEMA_VERSION:
        raise EntrySchemaError(f"unknown schema version {entry['v']!r}")
    seq = entry["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise EntrySchemaError(f"seq must be a non-negative integer, got {seq!r}")
    try:
        event = LedgerEventType(entry["type"])
    except ValueError as exc:
        raise EntrySchemaError(f"unknown event type {entry['type']!r}") from exc
    if entry["event"] != event.name:
        raise EntrySchemaError(f"event name {entry['event']!r} does not match type {event}")
    if not isinstance(entry["time"], str) or not _TIME.match(entry["time"]):
        raise EntrySchemaError(f"time {entry['time']!r} is not RFC 3339 UTC with microseconds")
    actor = entry["actor"]
    if not isinstance(actor, int) or isinstance(actor, bool) or actor < 0:
        raise EntrySchemaError(f"actor must be an account id, got {actor!r}")
    if not isinstance(entry["request_id"], str) or not 0 < len(entry["request_id"]) <= 64:
        raise EntrySchemaError("request_id must be a non-empty string of at most 64 characters")
    obj = entry["object"]
    if (
        not isinstance(obj, Mapping)
        or set(obj) != {"type", "id"}
        or not isinstance(obj["type"], str)
        or not _OBJECT_TYPE.match(obj["type"])
        or not isinstance(obj["id"], str)
        or not obj["id"]
    ):
        raise EntrySchemaError(f"object must be {{type: 'app.model', id: '...'}}, got {obj!r}")
    if not isinstance(entry["data"], Mapping):
        raise EntrySchemaError("data must be an object")
    for name in entry["data"]:
        if not _FIELD.match(name):
            raise EntrySchemaError(f"data field name {name!r} is not snake_case")
    commitments = entry["commitments"]
    if not isinstance(commitments, Mapping):
        raise EntrySchemaError("commitments must be an object")
    for name, value in commitments.items():
        if not _FIELD.match(name):
            raise EntrySchemaError(f"commitment field name {name!r} is not snake_case")
        if not isinstance(value, str) or not _HEX64.match(value):
            raise EntrySchemaError(f"commitment {name!r} is not a 64-digit hex SHA-256")
    if "state" in entry:
        _validate_state(entry["state"])


def _validate_state(state: Any) -> None:
    """``state`` is ``{"rows": n, "digest": hex}``: how many rows the action left and the
    digest of their commitments (``rowstate.state_digest``)."""
    if not isinstance(state, Mapping) or set(state) != {"rows", "digest"}:
        raise EntrySchemaError(f"state must be {{rows, digest}}, got {state!r}")
    rows = state["rows"]
    if not isinstance(rows, int) or isinstance(rows, bool) or rows < 1:
        raise EntrySchemaError(f"state rows must be a positive integer, got {rows!r}")
    if not isinstance(state["digest"], str) or not _HEX64.match(state["digest"]):
        raise EntrySchemaError("state digest is not a 64-digit hex SHA-256")


def parse_entry(data: bytes) -> dict[str, Any]:
    """Decode stored entry bytes, checking canonical form and the schema."""
    try:
        entry = decode_canonical(data)
    except CanonicalError as exc:
        raise EntrySchemaError(str(exc)) from exc
    validate_entry(entry)
    return entry
