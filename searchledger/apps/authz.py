"""Authorization checks shared by every app's actions and selectors.

Actions call :func:`require` (what) and :func:`require_scope` (for whom) before they change
anything; selectors use :func:`scoped_accounts` to filter reads. Deny by default.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from searchledger.core.actor import Actor
from searchledger.core.roles import Permission, Role
from searchledger.core.scope import Person, in_scope, units_below

if TYPE_CHECKING:
    from searchledger.apps.accounts.models import Account

__all__ = ["person_of", "require", "require_scope", "scoped_accounts"]


def require(actor: Actor, permission: Permission) -> None:
    """Raise PermissionDenied unless the actor (or the system itself) holds ``permission``."""
    if actor.is_system:
        return
    if not actor.may(permission):
        raise PermissionDenied(f"the role {actor.role} may not {permission.value}")


def person_of(account: Account) -> Person:
    """The scope view of an account."""
    path: tuple[int, ...] = ()
    if account.org_unit is not None:
        path = tuple(unit.pk for unit in account.org_unit.path())
    return Person(
        account_id=account.pk,
        role=Role(account.role),
        supervisor_id=account.supervisor_id,
        unit_path=path,
    )


def _actor_account(actor: Actor) -> Account:
    from searchledger.apps.accounts.models import Account  # noqa: PLC0415  # avoid app cycle

    return Account.objects.select_related("org_unit").get(pk=actor.account_id)


def require_scope(actor: Actor, target: Account) -> None:
    """Raise PermissionDenied unless ``actor`` may act for ``target`` (see core.scope)."""
    if actor.is_system:
        return
    if not in_scope(person_of(_actor_account(actor)), person_of(target)):
        raise PermissionDenied("that person is outside your unit and your reports")


def scoped_accounts(actor: Actor) -> QuerySet[Account]:
    """The accounts ``actor`` may see or act for, as a queryset."""
    from searchledger.apps.accounts.models import Account, OrgUnit  # noqa: PLC0415

    everyone = Account.objects.all()
    if actor.is_system or actor.role in {Role.ADMINISTRATOR, Role.AUDITOR, Role.OVERSIGHT}:
        return everyone
    me = _actor_account(actor)
    if actor.role is not Role.SUPERVISOR:
        return everyone.filter(pk=me.pk)
    condition = Q(pk=me.pk) | Q(supervisor_id=me.pk)
    if me.org_unit_id is not None:
        units = units_below(me.org_unit_id, OrgUnit.objects.values_list("pk", "parent_id"))
        condition |= Q(org_unit_id__in=units)
    return everyone.filter(condition)
