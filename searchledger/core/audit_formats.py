"""The audit trail (the ledger's entries) in the formats other tools read: OCSF events for a
security data lake, RFC 5424 syslog messages for a SIEM, and rows for CSV and XLSX.

Pure functions over parsed ledger entries (``ledger.events.parse_entry``). Entries carry no
personal data in clear, so neither do these formats: people appear as account ids, free
text only as the commitments already in the entry.

OCSF (schema 1.1): search events become **API Activity** (class 6003, category Application
Activity): a request or a transcribed past search is *Create*, a view, an export or a probe
view is *Read*, anything else done to a search record (decision, outcome, ROI number,
cancellation, probe storage or destruction) is *Update*. Grant events and account events
become **Account Change** (class 3001, category Identity & Access Management): a request or
an account's creation is *Create*, an approval or a recertification *Attach Policy*, a
refusal or a revocation *Detach Policy*, a deactivation *Disable*, a reactivation
*Enable*, a password set *Password Change*, an authenticator enrolled or removed *MFA
Factor Enable/Disable*, anything else *Other*. Other entries have no OCSF class here and are
skipped by :func:`ocsf_event` (it returns ``None``). The whole entry is kept under
``unmapped.searchledger`` with its ledger position, so a consumer can still prove it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from searchledger.ledger.canonical import canonical_bytes

__all__ = [
    "OCSF_VERSION",
    "SYSLOG_ENTERPRISE_ID",
    "TABLE_COLUMNS",
    "neutralise",
    "ocsf_event",
    "syslog_message",
    "table_row",
]

OCSF_VERSION = "1.1.0"
# The private enterprise number in the structured-data id. 32473 is the number RFC 5612
# reserves for documentation; an agency with its own number sets it in the settings.
SYSLOG_ENTERPRISE_ID = 32473
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# RFC 5424: facility 13 (log audit), severity 6 (informational).
_PRI = 13 * 8 + 6
_NILVALUE = "-"

_API_READ = {"SEARCH_VIEWED", "SEARCH_EXPORTED", "SEARCH_PROBE_VIEWED"}
_API_CREATE = {"SEARCH_REQUESTED", "SEARCH_REQUEST_REFUSED", "SEARCH_ENTERED_AFTER_THE_FACT"}
_ACCOUNT_ACTIVITY = {
    "GRANT_REQUESTED": (1, "Create"),
    "GRANT_APPROVED": (7, "Attach Policy"),
    "GRANT_RECERTIFIED": (7, "Attach Policy"),
    "GRANT_REFUSED": (8, "Detach Policy"),
    "GRANT_REVOKED": (8, "Detach Policy"),
    "ACCOUNT_CREATED": (1, "Create"),
    "ACCOUNT_REACTIVATED": (2, "Enable"),
    "ACCOUNT_PASSWORD_SET": (3, "Password Change"),
    "ACCOUNT_DEACTIVATED": (5, "Disable"),
    "ACCOUNT_MFA_ENROLLED": (10, "MFA Factor Enable"),
    "ACCOUNT_MFA_REMOVED": (11, "MFA Factor Disable"),
}

TABLE_COLUMNS = (
    "seq",
    "time",
    "event",
    "type",
    "actor",
    "object_type",
    "object_id",
    "request_id",
    "data",
    "commitments",
)


def neutralise(value: object) -> object:
    """A cell a spreadsheet will not run as a formula: text starting with = + - @, a tab or a
    carriage return gets a leading single quote. Numbers and other values are left alone."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _millis(entry: Mapping[str, Any]) -> int:
    moment = datetime.strptime(entry["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _metadata(entry: Mapping[str, Any], origin: str, product_version: str) -> dict[str, Any]:
    return {
        "version": OCSF_VERSION,
        "uid": f"{origin}/{entry['seq']}",
        "log_name": origin,
        "sequence": entry["seq"],
        "correlation_uid": entry["request_id"],
        "product": {
            "name": "searchledger",
            "vendor_name": "searchledger",
            "version": product_version,
        },
    }


def _actor(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {"user": {"uid": str(entry["actor"]), "type_id": 1, "type": "User"}}


def ocsf_event(
    entry: Mapping[str, Any], *, origin: str, product_version: str, leaf_hash: str
) -> dict[str, Any] | None:
    """The OCSF event for one ledger entry, or ``None`` if its kind has no class here."""
    name = entry["event"]
    obj = entry["object"]
    common = {
        "metadata": _metadata(entry, origin, product_version),
        "time": _millis(entry),
        "severity_id": 1,
        "severity": "Informational",
        "status_id": 1,
        "status": "Success",
        "message": name,
        "unmapped": {"searchledger": {**dict(entry), "leaf_hash": leaf_hash}},
    }
    if name.startswith("SEARCH_") and obj["type"] == "searches.searchrecord":
        activity_id, activity = (
            (2, "Read")
            if name in _API_READ
            else (1, "Create")
            if name in _API_CREATE
            else (3, "Update")
        )
        return {
            **common,
            "category_uid": 6,
            "category_name": "Application Activity",
            "class_uid": 6003,
            "class_name": "API Activity",
            "activity_id": activity_id,
            "activity_name": activity,
            "type_uid": 6003 * 100 + activity_id,
            "actor": _actor(entry),
            "api": {"operation": name, "service": {"name": "searchledger"}},
            "src_endpoint": {"svc_name": "searchledger"},
            "resources": [
                {
                    "uid": str(obj["id"]),
                    "type": "search record",
                    "data": {k: entry["data"][k] for k in sorted(entry["data"])},
                }
            ],
        }
    if name.startswith(("GRANT_", "ACCOUNT_")):
        activity_id, activity = _ACCOUNT_ACTIVITY.get(name, (99, "Other"))
        subject = (
            entry["data"].get("account", obj["id"]) if name.startswith("GRANT_") else obj["id"]
        )
        event: dict[str, Any] = {
            **common,
            "category_uid": 3,
            "category_name": "Identity & Access Management",
            "class_uid": 3001,
            "class_name": "Account Change",
            "activity_id": activity_id,
            "activity_name": activity,
            "type_uid": 3001 * 100 + activity_id,
            "actor": _actor(entry),
            "user": {"uid": str(subject), "type_id": 1, "type": "User"},
        }
        if name.startswith("GRANT_"):
            event["policy"] = {
                "uid": f"grant/{obj['id']}",
                "name": f"access to {entry['data'].get('system', 'an external system')}",
            }
        return event
    return None


def syslog_message(
    entry: Mapping[str, Any],
    *,
    hostname: str,
    leaf_hash: str,
    enterprise_id: int = SYSLOG_ENTERPRISE_ID,
) -> str:
    """The entry as one RFC 5424 message: facility log audit, severity informational,
    APP-NAME ``searchledger``, MSGID the event name, structured data naming its ledger
    position, and the canonical entry as the (UTF-8, BOM-prefixed) message."""
    timestamp = entry["time"][:-1] + "Z"  # already RFC 3339 UTC with microseconds
    host = _printable(hostname, 255)
    msgid = _printable(entry["event"], 32)
    sd_id = f"searchledger@{enterprise_id}"
    params = {
        "seq": str(entry["seq"]),
        "leaf": leaf_hash,
        "actor": str(entry["actor"]),
        "object": f"{entry['object']['type']}/{entry['object']['id']}",
        "request": entry["request_id"],
    }
    structured = "[" + sd_id + "".join(f' {k}="{_sd_escape(v)}"' for k, v in params.items()) + "]"
    body = canonical_bytes(entry).decode("utf-8")
    return f"<{_PRI}>1 {timestamp} {host} searchledger - {msgid} {structured} \ufeff{body}"


def table_row(entry: Mapping[str, Any]) -> list[object]:
    """The entry as a row of :data:`TABLE_COLUMNS`, every text cell neutralised."""
    values: list[object] = [
        entry["seq"],
        entry["time"],
        entry["event"],
        entry["type"],
        entry["actor"],
        entry["object"]["type"],
        entry["object"]["id"],
        entry["request_id"],
        json.dumps(entry["data"], sort_keys=True, ensure_ascii=False),
        json.dumps(entry["commitments"], sort_keys=True),
    ]
    return [neutralise(v) for v in values]


def _printable(value: str, limit: int) -> str:
    """An RFC 5424 header field: printable US-ASCII without spaces, or the nil value."""
    kept = "".join(c for c in value if 33 <= ord(c) <= 126)[:limit]
    return kept or _NILVALUE


def _sd_escape(value: str) -> str:
    """A structured-data parameter value with ``"``, ``\\`` and ``]`` escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")
