"""The only writers of the external systems catalogue."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from searchledger.apps.authz import require
from searchledger.apps.ledger import writer
from searchledger.apps.systems.models import (
    AccessMethod,
    ExternalSystem,
    PrivacyAssessment,
    RulesVersion,
    SystemKind,
)
from searchledger.apps.training.models import Course
from searchledger.core.actor import Actor
from searchledger.core.roles import Permission
from searchledger.ledger.events import LedgerEventType

__all__ = ["SystemDetails", "do_create_system", "do_publish_rules", "do_update_system"]

_OBJECT_TYPE = "systems.externalsystem"


@dataclass(frozen=True)
class SystemDetails:
    """The editable description of an external system."""

    name: str
    owner: str
    kind: str
    access_method: str
    has_agreement: bool = False
    agreement_reference: str = ""
    privacy_assessment: str = PrivacyAssessment.NOT_STARTED.value
    in_service: bool = True
    recertify_every_days: int = 365
    required_course_codes: Sequence[str] = ()
    reached_through_code: str = ""


def _apply(system: ExternalSystem, details: SystemDetails) -> list[Course]:
    errors: dict[str, str] = {}
    if not details.name.strip():
        errors["name"] = "a name is required"
    if not details.owner.strip():
        errors["owner"] = "the system's owner is required"
    if details.kind not in SystemKind.values:
        errors["kind"] = f"unknown kind {details.kind!r}; one of {', '.join(SystemKind.values)}"
    if details.access_method not in AccessMethod.values:
        errors["access_method"] = f"unknown access method {details.access_method!r}"
    if details.privacy_assessment not in PrivacyAssessment.values:
        errors["privacy_assessment"] = f"unknown status {details.privacy_assessment!r}"
    if not 30 <= details.recertify_every_days <= 3 * 365:
        errors["recertify_every_days"] = "must be between 30 and 1095 days"
    courses = list(Course.objects.filter(code__in=details.required_course_codes))
    missing = sorted(set(details.required_course_codes) - {c.code for c in courses})
    if missing:
        errors["required_courses"] = f"no such course: {', '.join(missing)}"
    portal = None
    if details.reached_through_code:
        portal = ExternalSystem.objects.filter(code=details.reached_through_code).first()
        if portal is None or portal.pk == system.pk:
            errors["reached_through"] = f"no other system {details.reached_through_code!r}"
    if errors:
        raise ValidationError(errors)
    system.name = details.name.strip()
    system.owner = details.owner.strip()
    system.kind = details.kind
    system.access_method = details.access_method
    system.has_agreement = details.has_agreement
    system.agreement_reference = details.agreement_reference.strip()
    system.privacy_assessment = details.privacy_assessment
    system.in_service = details.in_service
    system.recertify_every_days = details.recertify_every_days
    system.reached_through = portal
    return courses


def _data(system: ExternalSystem) -> dict[str, object]:
    """Catalogue facts are not personal: they go on the ledger in clear."""
    return {
        "code": system.code,
        "name": system.name,
        "owner": system.owner,
        "kind": system.kind,
        "access_method": system.access_method,
        "reached_through": system.reached_through.code if system.reached_through else None,
        "has_agreement": system.has_agreement,
        "agreement_reference": system.agreement_reference,
        "privacy_assessment": system.privacy_assessment,
        "in_service": system.in_service,
        "recertify_every_days": system.recertify_every_days,
        "required_courses": sorted(c.code for c in system.required_courses.all()),
    }


def _lock(system_id: int) -> ExternalSystem:
    """Lock the system's row FOR NO KEY UPDATE: the key does not change, and a search
    request or grant that refers to the system checks that foreign key at COMMIT (FOR KEY
    SHARE) after taking the ledger head, so it must not wait for this lock (a deadlock,
    since this transaction then waits for the head)."""
    return ExternalSystem.objects.select_for_update(no_key=True).get(pk=system_id)


@transaction.atomic
def do_create_system(code: str, details: SystemDetails, *, actor: Actor) -> ExternalSystem:
    """Add a system to the catalogue."""
    require(actor, Permission.MANAGE_SYSTEMS)
    code = code.strip()
    if not code:
        raise ValidationError({"code": "a short code is required"})
    if ExternalSystem.objects.filter(code=code).exists():
        raise ValidationError({"code": f"a system with code {code!r} exists"})
    system = ExternalSystem(code=code)
    courses = _apply(system, details)
    system.full_clean()
    system.save(force_insert=True)
    system.required_courses.set(courses)
    writer.append(
        LedgerEventType.SYSTEM_CREATED,
        object_type=_OBJECT_TYPE,
        object_id=system.pk,
        actor=actor,
        data=_data(system),
    )
    return system


@transaction.atomic
def do_update_system(system_id: int, details: SystemDetails, *, actor: Actor) -> ExternalSystem:
    """Change a system's description; the ledger keeps the before and after."""
    require(actor, Permission.MANAGE_SYSTEMS)
    system = _lock(system_id)
    before = _data(system)
    courses = _apply(system, details)
    system.full_clean()
    system.save()
    system.required_courses.set(courses)
    after = _data(system)
    changed = sorted(k for k in after if after[k] != before[k])
    if not changed:
        raise ValidationError({"__all__": "nothing changed"})
    writer.append(
        LedgerEventType.SYSTEM_UPDATED,
        object_type=_OBJECT_TYPE,
        object_id=system.pk,
        actor=actor,
        data={"changed": changed, "before": before, "after": after},
    )
    return system


@transaction.atomic
def do_publish_rules(system_id: int, *, text: str, actor: Actor) -> RulesVersion:
    """Publish a new version of a system's rules of behaviour. Everyone with a grant must
    acknowledge it before their next search."""
    require(actor, Permission.MANAGE_SYSTEMS)
    system = _lock(system_id)
    text = text.strip()
    if len(text) < 20:
        raise ValidationError({"text": "the rules of behaviour text is missing or too short"})
    current = system.current_rules()
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if current is not None and current.text_sha256 == digest:
        raise ValidationError({"text": "identical to the current version"})
    rules = RulesVersion(
        system=system,
        version=(current.version + 1) if current else 1,
        text=text,
        text_sha256=digest,
        published_at=timezone.now(),
        published_by_id=None if actor.is_system else actor.account_id,
    )
    rules.save(force_insert=True)
    writer.append(
        LedgerEventType.SYSTEM_RULES_PUBLISHED,
        object_type="systems.rulesversion",
        object_id=rules.pk,
        actor=actor,
        # The rules are a public document: their hash is enough to pin the exact text.
        data={"system": system.code, "version": rules.version, "text_sha256": digest},
    )
    return rules
