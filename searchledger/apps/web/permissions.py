"""Declaring what each view requires. The deny-by-default middleware refuses any view that
declares nothing, so a new page is closed until someone decides who may see it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from searchledger.core.actor import Actor
from searchledger.core.roles import Permission, Role

if TYPE_CHECKING:
    from searchledger.apps.accounts.models import Account

__all__ = [
    "PUBLIC",
    "actor_from_request",
    "public",
    "required_permission",
    "requires",
    "signed_in",
]

PUBLIC = "public"
_ATTR = "searchledger_requires"

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., Any])


def requires(permission: Permission) -> Callable[[ViewFunc], ViewFunc]:
    """Mark a view as needing ``permission``; the middleware enforces it."""

    def mark(view: ViewFunc) -> ViewFunc:
        setattr(view, _ATTR, permission)
        return view

    return mark


def public(view: ViewFunc) -> ViewFunc:
    """Mark a view as open to anyone, signed in or not (sign-in page, health check)."""
    setattr(view, _ATTR, PUBLIC)
    return view


def required_permission(view: Callable[..., Any]) -> Permission | str | None:
    """What ``view`` declared, looking through class-based view wrappers."""
    found = getattr(view, _ATTR, None)
    if found is None and hasattr(view, "view_class"):
        found = getattr(view.view_class, _ATTR, None)
    return found


def actor_from_request(request: HttpRequest) -> Actor:
    """The Actor for the signed-in account, carrying the request id from middleware."""
    user = request.user
    role = Role(user.role) if user.is_authenticated else None
    return Actor(
        account_id=int(user.pk) if user.is_authenticated else 0,
        role=role,
        request_id=getattr(request, "request_id", ""),
    )


def signed_in(request: HttpRequest) -> Account:
    """The signed-in account. Views behind ``@requires`` always have one; anything else is
    refused rather than assumed."""
    user = request.user
    if not user.is_authenticated:
        raise PermissionDenied("sign in first")
    return user
