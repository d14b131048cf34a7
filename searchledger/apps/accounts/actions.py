"""The only writers of accounts. Each action checks permission, changes the rows and appends
the ledger entry in one transaction."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from searchledger.apps.accounts.models import Account, OrgUnit, OrgUnitKind
from searchledger.apps.ledger import writer
from searchledger.core.actor import Actor
from searchledger.core.roles import Permission, Role
from searchledger.ledger.events import LedgerEventType

__all__ = [
    "do_assign_account",
    "do_change_account_role",
    "do_create_account",
    "do_create_org_unit",
    "do_deactivate_account",
    "do_reactivate_account",
    "do_set_account_password",
]

_OBJECT_TYPE = "accounts.account"


def _require(actor: Actor, permission: Permission) -> None:
    if not actor.is_system and not actor.may(permission):
        raise PermissionDenied(f"role {actor.role} may not {permission.value}")


def _lock(account_id: int) -> Account:
    # FOR NO KEY UPDATE: records that refer to the account (a search request, a grant)
    # check that foreign key at COMMIT after taking the ledger head; they must not wait for
    # this lock, or the two transactions deadlock (this one then waits for the head).
    try:
        return Account.objects.select_for_update(no_key=True).get(pk=account_id)
    except Account.DoesNotExist as exc:
        raise ValidationError({"account": f"no account with id {account_id}"}) from exc


@transaction.atomic
def do_create_account(
    *,
    username: str,
    role: Role,
    password: str | None,
    full_name: str = "",
    email: str = "",
    actor: Actor,
    reason: str = "",
) -> Account:
    """Create an account. The username, name, e-mail and reason go on the ledger only as
    salted commitments."""
    _require(actor, Permission.MANAGE_ACCOUNTS)
    username = username.strip()
    if not username:
        raise ValidationError({"username": "a username is required"})
    if Account.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": f"the username {username!r} is taken"})
    first, _, last = full_name.strip().partition(" ")
    account = Account(username=username, role=Role(role).value, email=email.strip())
    account.first_name, account.last_name = first, last
    if password is None:
        account.set_unusable_password()
    else:
        try:
            validate_password(password, account)
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from exc
        account.set_password(password)
    account.full_clean(exclude=["password"])
    account.save(force_insert=True)
    writer.append(
        LedgerEventType.ACCOUNT_CREATED,
        object_type=_OBJECT_TYPE,
        object_id=account.pk,
        actor=actor,
        data={"role": account.role, "has_password": password is not None},
        personal={
            "username": account.username,
            "full_name": full_name.strip(),
            "email": account.email,
            "reason": reason,
        },
    )
    return account


@transaction.atomic
def do_change_account_role(account_id: int, *, role: Role, actor: Actor, reason: str) -> Account:
    """Give an account another role."""
    _require(actor, Permission.MANAGE_ACCOUNTS)
    account = _lock(account_id)
    new_role = Role(role)
    if account.role == new_role.value:
        raise ValidationError({"role": f"the account already has the role {new_role.value}"})
    before = account.role
    account.role = new_role.value
    account.save(update_fields=["role"])
    writer.append(
        LedgerEventType.ACCOUNT_ROLE_CHANGED,
        object_type=_OBJECT_TYPE,
        object_id=account.pk,
        actor=actor,
        data={"before": before, "after": account.role},
        personal={"reason": reason},
    )
    return account


@transaction.atomic
def do_deactivate_account(account_id: int, *, actor: Actor, reason: str) -> Account:
    """Deactivate an account (accounts are never deleted)."""
    _require(actor, Permission.MANAGE_ACCOUNTS)
    account = _lock(account_id)
    if account.pk == actor.account_id:
        raise ValidationError({"account": "you cannot deactivate your own account"})
    if not account.is_active:
        raise ValidationError({"account": "the account is already deactivated"})
    account.is_active = False
    account.save(update_fields=["is_active"])
    writer.append(
        LedgerEventType.ACCOUNT_DEACTIVATED,
        object_type=_OBJECT_TYPE,
        object_id=account.pk,
        actor=actor,
        personal={"reason": reason},
    )
    return account


@transaction.atomic
def do_reactivate_account(account_id: int, *, actor: Actor, reason: str) -> Account:
    """Reactivate a deactivated account."""
    _require(actor, Permission.MANAGE_ACCOUNTS)
    account = _lock(account_id)
    if account.is_active:
        raise ValidationError({"account": "the account is already active"})
    account.is_active = True
    account.save(update_fields=["is_active"])
    writer.append(
        LedgerEventType.ACCOUNT_REACTIVATED,
        object_type=_OBJECT_TYPE,
        object_id=account.pk,
        actor=actor,
        personal={"reason": reason},
    )
    return account


@transaction.atomic
def do_set_account_password(account_id: int, *, password: str, actor: Actor) -> Account:
    """Set an account's password (an administrator, or the account holder themself).

    The ledger records that the password changed, never the password or its hash.
    """
    if actor.account_id != account_id:
        _require(actor, Permission.MANAGE_ACCOUNTS)
    account = _lock(account_id)
    try:
        validate_password(password, account)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    account.set_password(password)
    account.save(update_fields=["password"])
    writer.append(
        LedgerEventType.ACCOUNT_PASSWORD_SET,
        object_type=_OBJECT_TYPE,
        object_id=account.pk,
        actor=actor,
        data={"by_self": actor.account_id == account_id},
    )
    return account


@transaction.atomic
def do_create_org_unit(
    *, code: str, name: str, kind: str, parent_code: str = "", actor: Actor
) -> OrgUnit:
    """Add a unit to the organisation tree (agency, component, field office, unit)."""
    _require(actor, Permission.MANAGE_ACCOUNTS)
    errors: dict[str, str] = {}
    code = code.strip()
    if not code:
        errors["code"] = "a short code is required"
    elif OrgUnit.objects.filter(code=code).exists():
        errors["code"] = f"a unit with code {code!r} exists"
    if not name.strip():
        errors["name"] = "a name is required"
    if kind not in OrgUnitKind.values:
        errors["kind"] = f"unknown kind {kind!r}; one of {', '.join(OrgUnitKind.values)}"
    parent = None
    if parent_code:
        parent = OrgUnit.objects.filter(code=parent_code).first()
        if parent is None:
            errors["parent"] = f"no unit with code {parent_code!r}"
    if errors:
        raise ValidationError(errors)
    unit = OrgUnit(code=code, name=name.strip(), kind=kind, parent=parent)
    unit.save(force_insert=True)
    writer.append(
        LedgerEventType.ORG_UNIT_CREATED,
        object_type="accounts.orgunit",
        object_id=unit.pk,
        actor=actor,
        data={"code": unit.code, "name": unit.name, "kind": kind, "parent": parent_code or None},
    )
    return unit


@transaction.atomic
def do_assign_account(
    account_id: int,
    *,
    org_unit_code: str | None,
    supervisor_id: int | None,
    job_title: str = "",
    actor: Actor,
) -> Account:
    """Place a person in a unit, under a supervisor, with a job title."""
    _require(actor, Permission.MANAGE_ACCOUNTS)
    account = _lock(account_id)
    errors: dict[str, str] = {}
    unit = None
    if org_unit_code:
        unit = OrgUnit.objects.filter(code=org_unit_code).first()
        if unit is None:
            errors["org_unit"] = f"no unit with code {org_unit_code!r}"
    supervisor = None
    if supervisor_id is not None:
        supervisor = Account.objects.filter(pk=supervisor_id, is_active=True).first()
        if supervisor is None:
            errors["supervisor"] = f"no active account with id {supervisor_id}"
        elif supervisor.pk == account.pk:
            errors["supervisor"] = "a person cannot supervise themself"
        elif supervisor.role not in {Role.SUPERVISOR.value, Role.ADMINISTRATOR.value}:
            errors["supervisor"] = f"{supervisor.username} is not a supervisor"
    if errors:
        raise ValidationError(errors)
    before = {
        "org_unit": account.org_unit.code if account.org_unit else None,
        "supervisor": account.supervisor_id,
    }
    account.org_unit = unit
    account.supervisor = supervisor
    account.job_title = job_title.strip()
    account.save(update_fields=["org_unit", "supervisor", "job_title"])
    writer.append(
        LedgerEventType.ACCOUNT_ASSIGNED,
        object_type=_OBJECT_TYPE,
        object_id=account.pk,
        actor=actor,
        data={
            "before": before,
            "after": {"org_unit": org_unit_code or None, "supervisor": supervisor_id},
        },
        personal={"job_title": account.job_title},
    )
    return account
