"""Whom an account may act for or see: the constrained half of authorization.

A permission says *what* a role may do; the scope says *for whom*. Administrators, auditors
and oversight reach everyone; a supervisor reaches their direct reports and everyone in their
org unit and the units below it; an officer reaches only themself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from searchledger.core.roles import Role

__all__ = ["Person", "in_scope", "units_below"]

_AGENCY_WIDE = frozenset({Role.ADMINISTRATOR, Role.AUDITOR, Role.OVERSIGHT})


@dataclass(frozen=True)
class Person:
    """What scope decisions need to know about an account."""

    account_id: int
    role: Role
    supervisor_id: int | None
    unit_path: tuple[int, ...]  # org unit ids from the root down to the person's unit


def in_scope(actor: Person, target: Person) -> bool:
    """Whether ``actor`` may act for or see ``target``."""
    if actor.role in _AGENCY_WIDE:
        return True
    if actor.account_id == target.account_id:
        return True
    if actor.role is not Role.SUPERVISOR:
        return False
    if target.supervisor_id == actor.account_id:
        return True
    if not actor.unit_path:
        return False
    own_unit = actor.unit_path[-1]
    return own_unit in target.unit_path


def units_below(unit_id: int, parents: Iterable[tuple[int, int | None]]) -> set[int]:
    """``unit_id`` and every unit under it, from (unit id, parent id) pairs."""
    children: dict[int | None, list[int]] = {}
    for child, parent in parents:
        children.setdefault(parent, []).append(child)
    found = {unit_id}
    stack = [unit_id]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found
