"""Pages for one's own sign-in security: the TOTP authenticator (enrol, verify at sign-in,
remove) and personal API tokens; and, for administrators, everyone's authenticators and
tokens. Views parse input and call one action each."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from searchledger.apps.accounts import mfa
from searchledger.apps.accounts import security_actions as actions
from searchledger.apps.accounts.forms import AccountStatusForm, ApiTokenForm, TotpCodeForm
from searchledger.apps.accounts.models import Account, ApiToken
from searchledger.apps.web.forms import add_validation_errors
from searchledger.apps.web.permissions import actor_from_request, requires, signed_in
from searchledger.core.roles import Permission

__all__ = [
    "credentials_overview",
    "mfa_enrol",
    "mfa_remove",
    "mfa_reset",
    "mfa_status",
    "mfa_verify",
    "token_create",
    "token_list",
    "token_revoke",
]

_REFUSED = "Your role does not allow this page."


@requires(Permission.MANAGE_OWN_CREDENTIALS)
def mfa_status(request: HttpRequest) -> HttpResponse:
    """Whether the signed-in account has an authenticator, with the way to add or remove
    one, and a link to API tokens."""
    account = signed_in(request)
    return render(
        request,
        "accounts/mfa_status.html",
        {
            "device": mfa.device_for(account),
            "required": settings.SEARCHLEDGER_REQUIRE_MFA,
            "by_sso": mfa.signed_in_by_sso(request),
            "can_manage": account.may(Permission.MANAGE_ACCOUNTS),
        },
    )


@requires(Permission.MANAGE_OWN_CREDENTIALS)
@mfa.allowed_while_owing("enrol")
@never_cache
@require_http_methods(["GET", "POST"])
def mfa_enrol(request: HttpRequest) -> HttpResponse:
    """Show a new secret (QR code and text) and enrol it once the person types a code."""
    account = signed_in(request)
    if mfa.device_for(account) is not None:
        messages.info(request, "You already have an authenticator. Remove it to enrol another.")
        return redirect("accounts:mfa")
    key = mfa.enrolment_key(request)
    form = TotpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = actions.do_confirm_totp_device(
                account.pk,
                key=key,
                code=form.cleaned_data["code"],
                actor=actor_from_request(request),
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            mfa.forget_enrolment_key(request)
            # The person has just shown a code from this device: the session is verified.
            mfa.mark_verified(request, device)
            messages.success(
                request, "Your authenticator is enrolled. Sign-in will ask for a code."
            )
            return redirect(mfa.safe_next(request, reverse("accounts:mfa")))
    uri = mfa.otpauth_uri(account, key)
    return render(
        request,
        "accounts/mfa_enrol.html",
        {
            "form": form,
            "otpauth_uri": uri,
            "qr_svg": mfa.qr_svg(uri),
            "secret": mfa.secret_for_typing(key),
            "required": settings.SEARCHLEDGER_REQUIRE_MFA,
            "next": mfa.safe_next(request, ""),
            # A session that must enrol first cannot use the other pages yet.
            **({"nav_links": []} if mfa.second_factor_owed(request) else {}),
        },
    )


@requires(Permission.MANAGE_OWN_CREDENTIALS)
@mfa.allowed_while_owing("verify")
@never_cache
@require_http_methods(["GET", "POST"])
def mfa_verify(request: HttpRequest) -> HttpResponse:
    """The second step of signing in: a code from the account's authenticator."""
    account = signed_in(request)
    destination = mfa.safe_next(request, reverse("home"))
    device = mfa.device_for(account)
    if device is None or mfa.second_factor_owed(request) != "verify":
        return redirect(destination)
    form = TotpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if mfa.verify_code(request, device, form.cleaned_data["code"]):
            return redirect(destination)
        form.add_error(
            "code",
            "That code is not right, or came too soon after a wrong one. Wait for the next "
            "code and try again.",
        )
    return render(
        request,
        "accounts/mfa_verify.html",
        {"form": form, "next": mfa.safe_next(request, ""), "nav_links": []},
    )


@requires(Permission.MANAGE_OWN_CREDENTIALS)
@require_POST
def mfa_remove(request: HttpRequest) -> HttpResponse:
    """Remove one's own authenticator (the session has passed it already)."""
    account = signed_in(request)
    try:
        actions.do_remove_totp_device(account.pk, actor=actor_from_request(request))
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(request, "Your authenticator was removed.")
    return redirect("accounts:mfa")


@requires(Permission.MANAGE_ACCOUNTS)
@require_POST
def mfa_reset(request: HttpRequest, pk: int) -> HttpResponse:
    """An administrator removes someone's authenticator (a lost phone), with a reason."""
    target = get_object_or_404(Account, pk=pk)
    form = AccountStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a reason for removing the authenticator.")
        return redirect("accounts:credentials")
    try:
        actions.do_remove_totp_device(
            target.pk, actor=actor_from_request(request), reason=form.cleaned_data["reason"]
        )
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(request, f"The authenticator of {target.username} was removed.")
    return redirect("accounts:credentials")


@requires(Permission.MANAGE_OWN_CREDENTIALS)
def token_list(request: HttpRequest) -> HttpResponse:
    """The signed-in account's API tokens, newest first."""
    account = signed_in(request)
    return render(
        request,
        "accounts/token_list.html",
        {
            "tokens": ApiToken.objects.filter(account=account),
            "now": timezone.now(),
        },
    )


@requires(Permission.MANAGE_OWN_CREDENTIALS)
@never_cache
@require_http_methods(["GET", "POST"])
def token_create(request: HttpRequest) -> HttpResponse:
    """Issue a token; the page that answers shows its secret, once."""
    account = signed_in(request)
    form = ApiTokenForm(request.POST or None, role=account.role)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            issued = actions.do_issue_api_token(
                account.pk,
                name=data["name"],
                scopes=data["scopes"],
                expires_at=timezone.now() + timedelta(days=data["lifetime_days"]),
                actor=actor_from_request(request),
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            return render(
                request,
                "accounts/token_created.html",
                {"token": issued.token, "secret": issued.secret},
            )
    return render(request, "accounts/token_form.html", {"form": form})


@requires(Permission.MANAGE_OWN_CREDENTIALS)
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke one's own token, or (administrators) anyone's."""
    account = signed_in(request)
    token = get_object_or_404(ApiToken, pk=pk)
    own = token.account_id == account.pk
    if not own and not account.may(Permission.MANAGE_ACCOUNTS):
        return HttpResponseForbidden(_REFUSED)
    try:
        actions.do_revoke_api_token(
            token.pk, actor=actor_from_request(request), reason=request.POST.get("reason", "")
        )
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(request, f"The token {token.name!r} was revoked.")
    return redirect("accounts:tokens" if own else "accounts:credentials")


@requires(Permission.MANAGE_ACCOUNTS)
def credentials_overview(request: HttpRequest) -> HttpResponse:
    """For administrators: who has an authenticator, and every API token still in force."""
    now = timezone.now()
    accounts = Account.objects.annotate(
        has_totp=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True))
    ).order_by("-is_active", "username")
    live = (
        ApiToken.objects.filter(revoked_at__isnull=True, expires_at__gt=now)
        .select_related("account")
        .order_by("account__username", "-created_at")
    )
    return render(
        request,
        "accounts/credentials.html",
        {"accounts": accounts, "tokens": live},
    )
