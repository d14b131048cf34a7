"""The only writers of access grants.

A grant is requested (by the person, their supervisor or an administrator), then approved or
refused by the person's supervisor or an administrator (never by the person themself),
recertified periodically, and revoked when the need ends.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from searchledger.apps.accounts.models import Account
from searchledger.apps.authz import require, require_scope
from searchledger.apps.grants.models import AccessGrant
from searchledger.apps.ledger import writer
from searchledger.apps.systems.models import ExternalSystem
from searchledger.core.access import GrantStatus
from searchledger.core.actor import Actor
from searchledger.core.roles import Permission, Role
from searchledger.ledger.events import LedgerEventType

__all__ = [
    "MAX_GRANT_DAYS",
    "do_approve_grant",
    "do_recertify_grant",
    "do_refuse_grant",
    "do_request_grant",
    "do_revoke_grant",
]

MAX_GRANT_DAYS = 3 * 365
_OBJECT_TYPE = "grants.accessgrant"


def _lock(grant_id: int) -> AccessGrant:
    grant = (
        # of=("self",): the grant only. Locking the joined account and system rows too
        # would deadlock against requests whose foreign-key checks on them run at COMMIT,
        # after they took the ledger head that this transaction then waits for.
        AccessGrant.objects.select_for_update(of=("self",))
        .select_related("account", "system")
        .filter(pk=grant_id)
        .first()
    )
    if grant is None:
        raise ValidationError({"grant": f"no access grant with id {grant_id}"})
    return grant


def _require_decider(actor: Actor, grant: AccessGrant) -> None:
    """Only the grantee's supervisor or an administrator decides, and never the grantee."""
    require(actor, Permission.DECIDE_GRANT)
    if actor.is_system:
        return
    if actor.account_id == grant.account_id:
        raise PermissionDenied("no one may decide on their own access grant")
    if actor.role is Role.ADMINISTRATOR:
        return
    if grant.account.supervisor_id != actor.account_id:
        raise PermissionDenied("only the person's supervisor or an administrator may decide")


def _append(event: LedgerEventType, grant: AccessGrant, actor: Actor, **extra: object) -> None:
    reason = extra.pop("reason", None)
    writer.append(
        event,
        object_type=_OBJECT_TYPE,
        object_id=grant.pk,
        actor=actor,
        data={
            "account": grant.account_id,
            "system": grant.system.code,
            "status": grant.status,
            "starts_on": grant.starts_on.isoformat(),
            "expires_on": grant.expires_on.isoformat(),
            "certified_on": grant.certified_on.isoformat() if grant.certified_on else None,
            **extra,
        },
        personal={"reason": str(reason)} if reason is not None else None,
    )


@transaction.atomic
def do_request_grant(
    *,
    account_id: int,
    system_code: str,
    job_function: str,
    justification: str,
    starts_on: date,
    expires_on: date,
    external_account_id: str = "",
    actor: Actor,
) -> AccessGrant:
    """Request access for a person to a system, with the need to know for it."""
    require(actor, Permission.REQUEST_GRANT)
    errors: dict[str, str] = {}
    account = Account.objects.select_related("org_unit").filter(pk=account_id).first()
    if account is None:
        errors["account"] = f"no account with id {account_id}"
    elif not account.is_active:
        errors["account"] = f"{account.username} is deactivated"
    system = ExternalSystem.objects.filter(code=system_code).first()
    if system is None:
        errors["system"] = f"no system with code {system_code!r}"
    elif not system.in_service:
        errors["system"] = f"{system.name} is not in service"
    if not job_function.strip():
        errors["job_function"] = "the job function that needs this access is required"
    if len(justification.strip()) < 20:
        errors["justification"] = "explain the need to know (at least 20 characters)"
    if expires_on <= starts_on:
        errors["expires_on"] = "the expiry must be after the start"
    elif (expires_on - starts_on).days > MAX_GRANT_DAYS:
        errors["expires_on"] = f"a grant may last at most {MAX_GRANT_DAYS} days"
    if errors or account is None or system is None:
        raise ValidationError(errors)
    require_scope(actor, account)
    if AccessGrant.objects.filter(
        account=account, system=system, status__in=[GrantStatus.REQUESTED, GrantStatus.APPROVED]
    ).exists():
        raise ValidationError(
            {"system": f"{account.username} already has an open grant for {system.name}"}
        )
    grant = AccessGrant(
        account=account,
        system=system,
        status=GrantStatus.REQUESTED.value,
        job_function=job_function.strip(),
        justification=justification.strip(),
        external_account_id=external_account_id.strip(),
        starts_on=starts_on,
        expires_on=expires_on,
        recertify_every_days=system.recertify_every_days,
        requested_by_id=None if actor.is_system else actor.account_id,
        requested_at=timezone.now(),
    )
    grant.save(force_insert=True)
    writer.append(
        LedgerEventType.GRANT_REQUESTED,
        object_type=_OBJECT_TYPE,
        object_id=grant.pk,
        actor=actor,
        data={
            "account": account.pk,
            "system": system.code,
            "starts_on": starts_on.isoformat(),
            "expires_on": expires_on.isoformat(),
            "recertify_every_days": grant.recertify_every_days,
        },
        personal={
            "job_function": grant.job_function,
            "justification": grant.justification,
            "external_account_id": grant.external_account_id,
        },
    )
    return grant


def _decide(grant_id: int, actor: Actor) -> AccessGrant:
    grant = _lock(grant_id)
    _require_decider(actor, grant)
    if grant.status != GrantStatus.REQUESTED:
        raise ValidationError({"grant": f"the grant is {grant.status}, not awaiting a decision"})
    return grant


@transaction.atomic
def do_approve_grant(grant_id: int, *, actor: Actor, reason: str = "") -> AccessGrant:
    """Approve a requested grant; approval is its first certification."""
    grant = _decide(grant_id, actor)
    grant.status = GrantStatus.APPROVED.value
    grant.decided_by_id = None if actor.is_system else actor.account_id
    grant.decided_at = timezone.now()
    grant.certified_on = timezone.localdate()
    grant.save(update_fields=["status", "decided_by", "decided_at", "certified_on"])
    _append(LedgerEventType.GRANT_APPROVED, grant, actor, reason=reason)
    return grant


@transaction.atomic
def do_refuse_grant(grant_id: int, *, actor: Actor, reason: str) -> AccessGrant:
    """Refuse a requested grant, with the reason."""
    if not reason.strip():
        raise ValidationError({"reason": "give the reason for refusing"})
    grant = _decide(grant_id, actor)
    grant.status = GrantStatus.REFUSED.value
    grant.decided_by_id = None if actor.is_system else actor.account_id
    grant.decided_at = timezone.now()
    grant.ended_at = grant.decided_at
    grant.save(update_fields=["status", "decided_by", "decided_at", "ended_at"])
    _append(LedgerEventType.GRANT_REFUSED, grant, actor, reason=reason)
    return grant


@transaction.atomic
def do_revoke_grant(grant_id: int, *, actor: Actor, reason: str) -> AccessGrant:
    """End an approved grant early (the need ended, misuse, transfer)."""
    if not reason.strip():
        raise ValidationError({"reason": "give the reason for revoking"})
    grant = _lock(grant_id)
    _require_decider(actor, grant)
    if grant.status != GrantStatus.APPROVED:
        raise ValidationError({"grant": f"the grant is {grant.status}; only approved grants end"})
    grant.status = GrantStatus.REVOKED.value
    grant.ended_at = timezone.now()
    grant.save(update_fields=["status", "ended_at"])
    _append(LedgerEventType.GRANT_REVOKED, grant, actor, reason=reason)
    return grant


@transaction.atomic
def do_recertify_grant(
    grant_id: int, *, actor: Actor, reason: str, expires_on: date | None = None
) -> AccessGrant:
    """Confirm that the need to know continues; optionally move the expiry."""
    if not reason.strip():
        raise ValidationError({"reason": "say why the access is still needed"})
    grant = _lock(grant_id)
    _require_decider(actor, grant)
    if grant.status != GrantStatus.APPROVED:
        raise ValidationError({"grant": f"the grant is {grant.status}; cannot recertify"})
    today = timezone.localdate()
    if expires_on is not None:
        if expires_on <= today:
            raise ValidationError({"expires_on": "the new expiry must be in the future"})
        if expires_on - today > timedelta(days=MAX_GRANT_DAYS):
            raise ValidationError({"expires_on": f"at most {MAX_GRANT_DAYS} days from today"})
        grant.expires_on = expires_on
    grant.certified_on = today
    grant.save(update_fields=["certified_on", "expires_on"])
    _append(LedgerEventType.GRANT_RECERTIFIED, grant, actor, reason=reason)
    return grant
