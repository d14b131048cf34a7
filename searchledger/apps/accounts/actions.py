"""The only writers of accounts. Each action checks permission, changes the rows and appends
the ledger entry in one transaction."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from searchledger.apps.accounts.models import Account
from searchledger.apps.ledger import writer
from searchledger.core.actor import Actor
from searchledger.core.roles import Permission, Role
from searchledger.ledger.events import LedgerEventType

__all__ = [
    "do_change_account_role",
    "do_create_account",
    "do_deactivate_account",
    "do_reactivate_account",
    "do_set_account_password",
]

_OBJECT_TYPE = "accounts.account"


def _require(actor: Actor, permission: Permission) -> None:
    if not actor.is_system and not actor.may(permission):
        raise PermissionDenied(f"role {actor.role} may not {permission.value}")


def _lock(account_id: int) -> Account:
    try:
        return Account.objects.select_for_update().get(pk=account_id)
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
