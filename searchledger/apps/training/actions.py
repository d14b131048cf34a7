"""The only writers of training records and rules-of-behaviour acknowledgments."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from searchledger.apps.accounts.models import Account
from searchledger.apps.authz import require
from searchledger.apps.ledger import writer
from searchledger.apps.systems.models import RulesVersion
from searchledger.apps.training.models import (
    Course,
    CourseProvider,
    RulesAcknowledgment,
    TrainingCompletion,
)
from searchledger.core.actor import Actor
from searchledger.core.roles import Permission
from searchledger.ledger.events import LedgerEventType

__all__ = ["do_acknowledge_rules", "do_create_course", "do_record_completion"]


@transaction.atomic
def do_create_course(
    *, code: str, name: str, provider: str, valid_for_days: int, actor: Actor
) -> Course:
    """Add a training course."""
    require(actor, Permission.MANAGE_SYSTEMS)
    errors: dict[str, str] = {}
    if not code.strip():
        errors["code"] = "a short code is required"
    elif Course.objects.filter(code=code.strip()).exists():
        errors["code"] = f"a course with code {code!r} exists"
    if not name.strip():
        errors["name"] = "a name is required"
    if provider not in CourseProvider.values:
        errors["provider"] = f"unknown provider {provider!r}"
    if not 1 <= valid_for_days <= 5 * 365:
        errors["valid_for_days"] = "must be between 1 and 1825 days"
    if errors:
        raise ValidationError(errors)
    course = Course(
        code=code.strip(), name=name.strip(), provider=provider, valid_for_days=valid_for_days
    )
    course.save(force_insert=True)
    writer.append(
        LedgerEventType.TRAINING_COURSE_CREATED,
        object_type="training.course",
        object_id=course.pk,
        actor=actor,
        data={
            "code": course.code,
            "name": course.name,
            "provider": provider,
            "valid_for_days": valid_for_days,
        },
    )
    return course


@transaction.atomic
def do_record_completion(
    account_id: int,
    *,
    course_code: str,
    completed_on: date,
    evidence: str,
    actor: Actor,
) -> TrainingCompletion:
    """Record that a person completed a course, with the evidence for it."""
    require(actor, Permission.RECORD_TRAINING)
    errors: dict[str, str] = {}
    account = Account.objects.filter(pk=account_id).first()
    if account is None:
        errors["account"] = f"no account with id {account_id}"
    course = Course.objects.filter(code=course_code).first()
    if course is None:
        errors["course"] = f"no course with code {course_code!r}"
    if completed_on > timezone.localdate():
        errors["completed_on"] = f"{completed_on} is in the future"
    if not evidence.strip():
        errors["evidence"] = "evidence (certificate number or roster reference) is required"
    if errors or account is None or course is None:
        raise ValidationError(errors)
    if TrainingCompletion.objects.filter(
        account=account, course=course, completed_on=completed_on
    ).exists():
        raise ValidationError({"completed_on": "this completion is already recorded"})
    completion = TrainingCompletion(
        account=account,
        course=course,
        completed_on=completed_on,
        evidence=evidence.strip(),
        recorded_by_id=None if actor.is_system else actor.account_id,
        recorded_at=timezone.now(),
    )
    completion.save(force_insert=True)
    writer.append(
        LedgerEventType.TRAINING_COMPLETED,
        object_type="training.trainingcompletion",
        object_id=completion.pk,
        actor=actor,
        data={
            "account": account.pk,
            "course": course.code,
            "completed_on": completed_on.isoformat(),
        },
        personal={"evidence": completion.evidence},
    )
    return completion


@transaction.atomic
def do_acknowledge_rules(rules_id: int, *, actor: Actor) -> RulesAcknowledgment:
    """The acting person acknowledges a rules-of-behaviour version (only for themself, and
    only the current version of its system)."""
    require(actor, Permission.ACKNOWLEDGE_RULES)
    if actor.is_system:
        raise PermissionDenied("only a person can acknowledge rules of behaviour")
    rules = RulesVersion.objects.select_related("system").filter(pk=rules_id).first()
    if rules is None:
        raise ValidationError({"rules": f"no rules of behaviour with id {rules_id}"})
    current = rules.system.current_rules()
    if current is None or current.pk != rules.pk:
        raise ValidationError(
            {"rules": f"version {rules.version} is not the current version for {rules.system}"}
        )
    if RulesAcknowledgment.objects.filter(account_id=actor.account_id, rules=rules).exists():
        raise ValidationError({"rules": "you have already acknowledged this version"})
    ack = RulesAcknowledgment(
        account_id=actor.account_id, rules=rules, acknowledged_at=timezone.now()
    )
    ack.save(force_insert=True)
    writer.append(
        LedgerEventType.TRAINING_RULES_ACKNOWLEDGED,
        object_type="training.rulesacknowledgment",
        object_id=ack.pk,
        actor=actor,
        data={
            "account": actor.account_id,
            "system": rules.system.code,
            "version": rules.version,
            "text_sha256": rules.text_sha256,
        },
    )
    return ack
