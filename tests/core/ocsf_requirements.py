"""An OCSF check for the two classes searchledger emits, written from the OCSF schema's own
definitions (github.com/ocsf/ocsf-schema: events/base_event.json, the classification and
occurrence traits, events/application/api_activity.json, events/iam/account_change.json,
objects/metadata.json, product.json, api.json, actor.json, user.json, network_endpoint.json)
as they stood when this was written. It checks what those files require: the required
attributes, the at-least-one constraints of the objects, the activity enumerations, the
category of each class and ``type_uid = class_uid * 100 + activity_id``.

No OCSF validator on PyPI covers these classes with today's pydantic (ocsf-pydantic 0.0.6
fails to build its Account Change model), so this transcription is the schema check; the
attributes it names can be compared line by line with the files above.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ocsf_problems"]

_CLASSES = {
    # class_uid: (category_uid, activity ids the class defines, required attributes)
    6003: (6, {0, 1, 2, 3, 4, 99}, ("actor", "api", "src_endpoint")),
    3001: (3, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 99}, ("user",)),
}
_BASE_REQUIRED = (
    "metadata",
    "category_uid",
    "class_uid",
    "activity_id",
    "type_uid",
    "severity_id",
    "time",
)
_SEVERITIES = {0, 1, 2, 3, 4, 5, 6, 99}
_AT_LEAST_ONE = {
    "actor": ("process", "user", "invoked_by", "session", "app_name", "app_uid"),
    "user": ("account", "name", "uid"),
    "src_endpoint": (
        "ip",
        "uid",
        "name",
        "hostname",
        "svc_name",
        "instance_uid",
        "interface_uid",
        "interface_name",
    ),
}


def _int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def ocsf_problems(event: dict[str, Any]) -> list[str]:
    """What is wrong with ``event`` as an OCSF API Activity or Account Change event."""
    problems = [f"missing {name}" for name in _BASE_REQUIRED if name not in event]
    if problems:
        return problems
    class_uid = event["class_uid"]
    if class_uid not in _CLASSES:
        return [f"class_uid {class_uid} is not API Activity (6003) or Account Change (3001)"]
    category, activities, required = _CLASSES[class_uid]
    problems += [f"missing {name}" for name in required if name not in event]
    if event["category_uid"] != category:
        problems.append(f"category_uid {event['category_uid']} is not {category}")
    if not _int(event["activity_id"]) or event["activity_id"] not in activities:
        problems.append(f"activity_id {event['activity_id']!r} is not defined by the class")
    elif event["type_uid"] != class_uid * 100 + event["activity_id"]:
        problems.append(f"type_uid {event['type_uid']} is not class_uid * 100 + activity_id")
    if event["severity_id"] not in _SEVERITIES:
        problems.append(f"severity_id {event['severity_id']!r} is not defined")
    if not _int(event["time"]) or event["time"] < 10**12:
        problems.append("time is not a timestamp in milliseconds")
    metadata = event["metadata"]
    if not isinstance(metadata.get("version"), str) or metadata["version"].count(".") != 2:
        problems.append("metadata.version is not a semantic version")
    if not isinstance(metadata.get("product"), dict) or not metadata["product"].get("name"):
        problems.append("metadata.product.name is required")
    if "api" in event and not event["api"].get("operation"):
        problems.append("api.operation is required")
    for name, choices in _AT_LEAST_ONE.items():
        if name in event and not any(event[name].get(c) for c in choices):
            problems.append(f"{name} needs at least one of {', '.join(choices)}")
    user = event.get("actor", {}).get("user")
    if user is not None and not any(user.get(c) for c in _AT_LEAST_ONE["user"]):
        problems.append("actor.user needs at least one of account, name, uid")
    return problems
