"""Pages for access grants: list, request, decide, recertify, revoke; who can reach what;
and the work list of expiring grants, due recertifications and lapsing training."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from searchledger.apps.authz import scoped_accounts
from searchledger.apps.grants import actions, selectors
from searchledger.apps.grants.forms import DecisionForm, GrantRequestForm, RecertifyForm
from searchledger.apps.grants.models import AccessGrant
from searchledger.apps.ledger import selectors as ledger_selectors
from searchledger.apps.systems.models import ExternalSystem
from searchledger.apps.web.forms import add_validation_errors
from searchledger.apps.web.permissions import actor_from_request, requires, signed_in
from searchledger.apps.web.worklist import work_rows
from searchledger.core.access import GrantStatus
from searchledger.core.roles import Permission

__all__ = [
    "access_overview",
    "grant_decide",
    "grant_detail",
    "grant_list",
    "grant_request",
    "person_access",
    "work_list",
]


def _visible_grants(request: HttpRequest) -> Any:
    return AccessGrant.objects.filter(
        account__in=scoped_accounts(actor_from_request(request))
    ).select_related("account", "system")


@requires(Permission.VIEW_GRANTS)
def grant_list(request: HttpRequest) -> HttpResponse:
    """Grants the viewer may see, filtered by system and status."""
    grants = _visible_grants(request).order_by("system__name", "account__username")
    system = request.GET.get("system", "")
    status = request.GET.get("status", "")
    if system:
        grants = grants.filter(system__code=system)
    if status in {s.value for s in GrantStatus}:
        grants = grants.filter(status=status)
    return render(
        request,
        "grants/grant_list.html",
        {
            "grants": grants,
            "systems": ExternalSystem.objects.order_by("name"),
            "statuses": [s.value for s in GrantStatus],
            "selected_system": system,
            "selected_status": status,
            "can_request": signed_in(request).may(Permission.REQUEST_GRANT),
        },
    )


@requires(Permission.REQUEST_GRANT)
@require_http_methods(["GET", "POST"])
def grant_request(request: HttpRequest) -> HttpResponse:
    """Request access for yourself or, for supervisors and administrators, someone you
    supervise."""
    accounts = scoped_accounts(actor_from_request(request))
    form = GrantRequestForm(request.POST or None, accounts=accounts)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            grant = actions.do_request_grant(
                account_id=data["account"].pk,
                system_code=data["system"].code,
                job_function=data["job_function"],
                justification=data["justification"],
                starts_on=data["starts_on"],
                expires_on=data["expires_on"],
                external_account_id=data["external_account_id"],
                actor=actor_from_request(request),
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Access requested; it awaits a decision.")
            return redirect("grants:detail", pk=grant.pk)
    return render(request, "grants/grant_form.html", {"form": form})


@requires(Permission.VIEW_GRANTS)
def grant_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One grant, whether it is in force and why, its history from the ledger, and the
    decisions the viewer may take."""
    grant = _visible_grants(request).filter(pk=pk).first()
    if grant is None:
        raise Http404("no such grant, or it is outside your unit")
    user = signed_in(request)
    may_decide = (
        user.may(Permission.DECIDE_GRANT)
        and user.pk != grant.account_id
        and (user.role == "administrator" or grant.account.supervisor_id == user.pk)
    )
    return render(
        request,
        "grants/grant_detail.html",
        {
            "grant": grant,
            "decision": selectors.check_access(grant.account, grant.system),
            "history": ledger_selectors.object_history("grants.accessgrant", grant.pk),
            "may_decide": may_decide,
            "decision_form": DecisionForm(),
            "recertify_form": RecertifyForm(),
        },
    )


_DECISIONS: dict[str, Callable[..., AccessGrant]] = {
    "approve": actions.do_approve_grant,
    "refuse": actions.do_refuse_grant,
    "revoke": actions.do_revoke_grant,
    "recertify": actions.do_recertify_grant,
}


@requires(Permission.DECIDE_GRANT)
@require_POST
def grant_decide(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    """Approve, refuse, revoke or recertify a grant."""
    if decision not in _DECISIONS or not _visible_grants(request).filter(pk=pk).exists():
        raise Http404("no such grant, or it is outside your unit")
    form: DecisionForm | RecertifyForm = (
        RecertifyForm(request.POST) if decision == "recertify" else DecisionForm(request.POST)
    )
    if not form.is_valid():
        problems = [f"{k}: {' '.join(str(e) for e in v)}" for k, v in form.errors.items()]
        messages.error(request, "; ".join(problems))
        return redirect("grants:detail", pk=pk)
    kwargs: dict[str, Any] = {"reason": form.cleaned_data["reason"]}
    if decision == "recertify":
        kwargs["expires_on"] = form.cleaned_data["expires_on"]
    try:
        _DECISIONS[decision](pk, actor=actor_from_request(request), **kwargs)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, f"Grant {decision}d." if decision != "recertify" else "Grant recertified."
        )
    return redirect("grants:detail", pk=pk)


@requires(Permission.VIEW_ACCESS_COUNTS)
def access_overview(request: HttpRequest) -> HttpResponse:
    """Per system: how many people hold grants in force, how many lapsed, and who."""
    summaries = selectors.access_overview(scoped_accounts(actor_from_request(request)))
    return render(request, "grants/access_overview.html", {"summaries": summaries})


@requires(Permission.VIEW_GRANTS)
def work_list(request: HttpRequest) -> HttpResponse:
    """What needs doing soon: expiring grants, recertifications, lapsing training; search
    requests awaiting the viewer's approval; search outcomes due soon or overdue."""
    items = work_rows(actor_from_request(request))
    return render(request, "grants/work_list.html", {"items": items})


@requires(Permission.VIEW_GRANTS)
def person_access(request: HttpRequest, pk: int) -> HttpResponse:
    """What one person can reach: every system, and whether their access is in force."""
    person = scoped_accounts(actor_from_request(request)).filter(pk=pk).first()
    if person is None:
        raise Http404("no such person, or they are outside your unit")
    rows = [
        (system, selectors.check_access(person, system))
        for system in ExternalSystem.objects.order_by("name")
    ]
    return render(request, "grants/person_access.html", {"person": person, "rows": rows})
