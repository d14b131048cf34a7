"""Pages for administering accounts. Views parse input and call one action each."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from searchledger.apps.accounts import actions, selectors
from searchledger.apps.accounts.forms import AccountCreateForm, AccountStatusForm
from searchledger.apps.accounts.models import Account
from searchledger.apps.web.forms import add_validation_errors
from searchledger.apps.web.permissions import actor_from_request, requires
from searchledger.core.roles import Permission, Role

__all__ = ["account_create", "account_list", "account_status"]


@requires(Permission.VIEW_ACCOUNTS)
def account_list(request: HttpRequest) -> HttpResponse:
    """Every account with its role and status."""
    return render(
        request,
        "accounts/account_list.html",
        {
            "accounts": selectors.list_accounts(),
            "can_manage": request.user.may(Permission.MANAGE_ACCOUNTS),  # type: ignore[union-attr]  # Account.may
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
