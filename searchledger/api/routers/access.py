"""Access endpoints: the systems catalogue, access grants, and "may this person search this
system now"."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.errors import HttpError

from searchledger.api.auth import allow
from searchledger.api.schemas import answers
from searchledger.apps.accounts.models import Account
from searchledger.apps.authz import scoped_accounts
from searchledger.apps.grants import actions, selectors
from searchledger.apps.grants.models import AccessGrant
from searchledger.apps.systems.models import ExternalSystem
from searchledger.apps.web.permissions import actor_from_request
from searchledger.core.access import AccessDecision
from searchledger.core.roles import Permission

__all__ = ["router"]

router = Router(tags=["access"])


class SystemOut(Schema):
    """An external system in the catalogue."""

    code: str
    name: str
    owner: str
    kind: str
    access_method: str
    reached_through: str | None
    has_agreement: bool
    privacy_assessment: str
    in_service: bool
    recertify_every_days: int
    required_courses: list[str]
    rules_version: int | None


class RefusalOut(Schema):
    """One reason access is not in force."""

    reason: str
    message: str


class AccessOut(Schema):
    """The answer to "may this person search this system now"."""

    account_id: int
    system: str
    allowed: bool
    refusals: list[RefusalOut]


class GrantOut(Schema):
    """An access grant (the justification is for people inside the agency)."""

    id: int
    account_id: int
    username: str
    system: str
    status: str
    job_function: str
    justification: str
    starts_on: date
    expires_on: date
    certified_on: date | None


class GrantIn(Schema):
    """A request for access."""

    account_id: int
    system: str
    job_function: str
    justification: str
    starts_on: date
    expires_on: date
    external_account_id: str = ""


class DecisionIn(Schema):
    """A decision's reason (and, for recertification, an optional new expiry)."""

    reason: str = ""
    expires_on: date | None = None


class SystemCountOut(Schema):
    """How many people can reach one system."""

    system: str
    in_force: int
    not_in_force: int
    awaiting_decision: int
    in_force_accounts: list[str]
    not_in_force_accounts: list[str]


def _system_out(system: ExternalSystem) -> SystemOut:
    rules = system.current_rules()
    return SystemOut(
        code=system.code,
        name=system.name,
        owner=system.owner,
        kind=system.kind,
        access_method=system.access_method,
        reached_through=system.reached_through.code if system.reached_through else None,
        has_agreement=system.has_agreement,
        privacy_assessment=system.privacy_assessment,
        in_service=system.in_service,
        recertify_every_days=system.recertify_every_days,
        required_courses=sorted(c.code for c in system.required_courses.all()),
        rules_version=rules.version if rules else None,
    )


def _access_out(account: Account, system: ExternalSystem, decision: AccessDecision) -> AccessOut:
    return AccessOut(
        account_id=account.pk,
        system=system.code,
        allowed=decision.allowed,
        refusals=[RefusalOut(reason=r.reason.value, message=r.message) for r in decision.refusals],
    )


def _grant_out(grant: AccessGrant) -> GrantOut:
    return GrantOut(
        id=grant.pk,
        account_id=grant.account_id,
        username=grant.account.username,
        system=grant.system.code,
        status=grant.status,
        job_function=grant.job_function,
        justification=grant.justification,
        starts_on=grant.starts_on,
        expires_on=grant.expires_on,
        certified_on=grant.certified_on,
    )


def _system(code: str) -> ExternalSystem:
    system = ExternalSystem.objects.filter(code=code).first()
    if system is None:
        raise HttpError(404, f"no system with code {code!r}")
    return system


def _visible_account(request: HttpRequest, account_id: int) -> Account:
    account = scoped_accounts(actor_from_request(request)).filter(pk=account_id).first()
    if account is None:
        raise HttpError(404, f"no account {account_id} within your unit")
    return account


def _errors(exc: ValidationError) -> HttpError:
    if hasattr(exc, "error_dict"):
        detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
    else:
        detail = "; ".join(exc.messages)
    return HttpError(400, detail)


@router.get(
    "/systems", response=answers({200: list[SystemOut]}), auth=allow(Permission.VIEW_SYSTEMS)
)
def list_systems(request: HttpRequest) -> list[SystemOut]:
    """The catalogue of external systems."""
    systems = ExternalSystem.objects.select_related("reached_through").prefetch_related(
        "required_courses"
    )
    return [_system_out(s) for s in systems.order_by("name")]


@router.get(
    "/systems/{code}",
    response=answers({200: SystemOut}, 404),
    auth=allow(Permission.VIEW_SYSTEMS),
)
def get_system(request: HttpRequest, code: str) -> SystemOut:
    """One external system."""
    return _system_out(_system(code))


@router.get(
    "/access/check",
    response=answers({200: AccessOut}, 404, 422),
    auth=allow(Permission.VIEW_GRANTS),
)
def check_access(request: HttpRequest, account_id: int, system: str) -> AccessOut:
    """May this person search this system now, and if not, why (every reason)."""
    account = _visible_account(request, account_id)
    target = _system(system)
    return _access_out(account, target, selectors.check_access(account, target))


@router.get(
    "/access/counts",
    response=answers({200: list[SystemCountOut]}),
    auth=allow(Permission.VIEW_ACCESS_COUNTS),
)
def access_counts(request: HttpRequest) -> list[SystemCountOut]:
    """Per system, the people (within your scope) with grants in force and not in force."""
    return [
        SystemCountOut(
            system=s.system.code,
            in_force=len(s.in_force),
            not_in_force=len(s.lapsed),
            awaiting_decision=len(s.pending),
            in_force_accounts=[g.grant.account.username for g in s.in_force],
            not_in_force_accounts=[g.grant.account.username for g in s.lapsed],
        )
        for s in selectors.access_overview(scoped_accounts(actor_from_request(request)))
    ]


@router.get(
    "/people/{account_id}/access",
    response=answers({200: list[AccessOut]}, 404, 422),
    auth=allow(Permission.VIEW_GRANTS),
)
def person_access(request: HttpRequest, account_id: int) -> list[AccessOut]:
    """Everything one person can reach, system by system."""
    account = _visible_account(request, account_id)
    return [
        _access_out(account, system, selectors.check_access(account, system))
        for system in ExternalSystem.objects.order_by("name")
    ]


@router.get(
    "/grants", response=answers({200: list[GrantOut]}, 422), auth=allow(Permission.VIEW_GRANTS)
)
def list_grants(
    request: HttpRequest, system: str | None = None, status: str | None = None
) -> list[GrantOut]:
    """Grants within your scope, optionally for one system or status."""
    grants = AccessGrant.objects.filter(
        account__in=scoped_accounts(actor_from_request(request))
    ).select_related("account", "system")
    if system:
        grants = grants.filter(system__code=system)
    if status:
        grants = grants.filter(status=status)
    return [_grant_out(g) for g in grants.order_by("pk")]


@router.post(
    "/grants",
    response=answers({201: GrantOut}, 400, 422),
    auth=allow(Permission.REQUEST_GRANT),
)
def request_grant(request: HttpRequest, payload: GrantIn) -> Status[GrantOut]:
    """Request access for a person (yourself, or someone in your scope)."""
    try:
        grant = actions.do_request_grant(
            account_id=payload.account_id,
            system_code=payload.system,
            job_function=payload.job_function,
            justification=payload.justification,
            starts_on=payload.starts_on,
            expires_on=payload.expires_on,
            external_account_id=payload.external_account_id,
            actor=actor_from_request(request),
        )
    except ValidationError as exc:
        raise _errors(exc) from exc
    except PermissionDenied as exc:
        raise HttpError(403, str(exc)) from exc
    return Status(201, _grant_out(grant))


@router.get(
    "/grants/{grant_id}",
    response=answers({200: GrantOut}, 404, 422),
    auth=allow(Permission.VIEW_GRANTS),
)
def get_grant(request: HttpRequest, grant_id: int) -> GrantOut:
    """One grant within your scope."""
    grant = (
        AccessGrant.objects.filter(
            pk=grant_id, account__in=scoped_accounts(actor_from_request(request))
        )
        .select_related("account", "system")
        .first()
    )
    if grant is None:
        raise HttpError(404, f"no grant {grant_id} within your unit")
    return _grant_out(grant)


_DECISIONS: dict[str, Callable[..., AccessGrant]] = {
    "approve": actions.do_approve_grant,
    "refuse": actions.do_refuse_grant,
    "revoke": actions.do_revoke_grant,
    "recertify": actions.do_recertify_grant,
}


@router.post(
    "/grants/{grant_id}/{decision}",
    response=answers({200: GrantOut}, 400, 404, 422),
    auth=allow(Permission.DECIDE_GRANT),
)
def decide_grant(
    request: HttpRequest, grant_id: int, decision: str, payload: DecisionIn
) -> GrantOut:
    """Approve, refuse, revoke or recertify a grant (its person's supervisor or an
    administrator only)."""
    if decision not in _DECISIONS:
        raise HttpError(404, f"unknown decision {decision!r}; one of {', '.join(_DECISIONS)}")
    kwargs: dict[str, Any] = {"reason": payload.reason}
    if decision == "recertify":
        kwargs["expires_on"] = payload.expires_on
    elif payload.expires_on is not None:
        raise HttpError(400, "expires_on: only a recertification can change the expiry")
    try:
        grant = _DECISIONS[decision](grant_id, actor=actor_from_request(request), **kwargs)
    except ValidationError as exc:
        raise _errors(exc) from exc
    except PermissionDenied as exc:
        raise HttpError(403, str(exc)) from exc
    return _grant_out(grant)
