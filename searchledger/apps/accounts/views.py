"""Pages for administering accounts. Views parse input and call one action each."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from searchledger.apps.accounts import actions, selectors
from searchledger.apps.accounts.forms import (
    AccountCreateForm,
    AccountStatusForm,
    AssignForm,
    OrgUnitForm,
)
from searchledger.apps.accounts.models import Account, OrgUnit
from searchledger.apps.web.forms import add_validation_errors
from searchledger.apps.web.permissions import actor_from_request, requires, signed_in
from searchledger.core.roles import Permission, Role

__all__ = [
    "account_assign",
    "account_create",
    "account_list",
    "account_status",
    "unit_create",
    "unit_list",
]


@requires(Permission.VIEW_ACCOUNTS)
def account_list(request: HttpRequest) -> HttpResponse:
    """Every account with its role and status."""
    return render(
        request,
        "accounts/account_list.html",
        {
            "accounts": selectors.list_accounts(),
            "can_manage": signed_in(request).may(Permission.MANAGE_ACCOUNTS),
        },
    )


@requires(Permission.MANAGE_ACCOUNTS)
@require_http_methods(["GET", "POST"])
def account_create(request: HttpRequest) -> HttpResponse:
    """Create an account."""
    form = AccountCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            account = actions.do_create_account(
                username=data["username"],
                role=Role(data["role"]),
                password=data["password"],
                full_name=data["full_name"],
                email=data["email"],
                actor=actor_from_request(request),
                reason=data["reason"],
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, f"Account {account.username} created.")
            return redirect("accounts:list")
    return render(request, "accounts/account_form.html", {"form": form})


@requires(Permission.MANAGE_ACCOUNTS)
@require_POST
def account_status(request: HttpRequest, pk: int, change: str) -> HttpResponse:
    """Deactivate or reactivate an account."""
    account = get_object_or_404(Account, pk=pk)
    form = AccountStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a reason for the change.")
        return redirect("accounts:list")
    action = (
        actions.do_deactivate_account if change == "deactivate" else actions.do_reactivate_account
    )
    try:
        action(account.pk, actor=actor_from_request(request), reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(request, f"Account {account.username}: {change}d.")
    return redirect("accounts:list")


@requires(Permission.VIEW_ACCOUNTS)
def unit_list(request: HttpRequest) -> HttpResponse:
    """The organisation tree, with how many people each unit has."""
    units = list(OrgUnit.objects.annotate(people=Count("members")).order_by("name"))
    children: dict[int | None, list[OrgUnit]] = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit)
    rows: list[tuple[int, OrgUnit]] = []

    def walk(parent: int | None, depth: int) -> None:
        for unit in children.get(parent, []):
            rows.append((depth, unit))
            walk(unit.pk, depth + 1)

    walk(None, 0)
    return render(
        request,
        "accounts/unit_list.html",
        {"rows": rows, "can_manage": signed_in(request).may(Permission.MANAGE_ACCOUNTS)},
    )


@requires(Permission.MANAGE_ACCOUNTS)
@require_http_methods(["GET", "POST"])
def unit_create(request: HttpRequest) -> HttpResponse:
    """Add a unit to the organisation tree."""
    form = OrgUnitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            unit = actions.do_create_org_unit(
                code=data["code"],
                name=data["name"],
                kind=data["kind"],
                parent_code=data["parent"].code if data["parent"] else "",
                actor=actor_from_request(request),
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, f"Unit {unit.name} added.")
            return redirect("accounts:units")
    return render(
        request,
        "web/form_page.html",
        {"form": form, "title": "Add a unit", "cancel_url": reverse("accounts:units")},
    )


@requires(Permission.MANAGE_ACCOUNTS)
@require_http_methods(["GET", "POST"])
def account_assign(request: HttpRequest, pk: int) -> HttpResponse:
    """Place a person in a unit, under a supervisor, with a job title."""
    account = get_object_or_404(Account, pk=pk)
    form = AssignForm(
        request.POST or None,
        initial={
            "org_unit": account.org_unit.code if account.org_unit else None,
            "supervisor": account.supervisor_id,
            "job_title": account.job_title,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.do_assign_account(
                account.pk,
                org_unit_code=data["org_unit"].code if data["org_unit"] else None,
                supervisor_id=data["supervisor"].pk if data["supervisor"] else None,
                job_title=data["job_title"],
                actor=actor_from_request(request),
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, f"{account.username} assigned.")
            return redirect("accounts:list")
    return render(
        request,
        "web/form_page.html",
        {
            "form": form,
            "title": f"Unit and supervisor of {account.username}",
            "cancel_url": reverse("accounts:list"),
        },
    )
