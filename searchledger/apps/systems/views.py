"""Pages for the external systems catalogue."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from searchledger.apps.authz import scoped_accounts
from searchledger.apps.grants import selectors as grant_selectors
from searchledger.apps.systems import actions
from searchledger.apps.systems.forms import RulesForm, SystemForm
from searchledger.apps.systems.models import ExternalSystem
from searchledger.apps.training.actions import do_acknowledge_rules
from searchledger.apps.training.models import RulesAcknowledgment
from searchledger.apps.web.forms import add_validation_errors
from searchledger.apps.web.permissions import actor_from_request, requires, signed_in
from searchledger.core.roles import Permission

__all__ = [
    "rules_acknowledge",
    "rules_publish",
    "system_create",
    "system_detail",
    "system_edit",
    "system_list",
]


def _details(data: dict[str, object]) -> actions.SystemDetails:
    portal = data.get("reached_through")
    return actions.SystemDetails(
        name=str(data["name"]),
        owner=str(data["owner"]),
        kind=str(data["kind"]),
        access_method=str(data["access_method"]),
        has_agreement=bool(data["has_agreement"]),
        agreement_reference=str(data["agreement_reference"]),
        privacy_assessment=str(data["privacy_assessment"]),
        in_service=bool(data["in_service"]),
        recertify_every_days=int(str(data["recertify_every_days"])),
        required_course_codes=[c.code for c in data["required_courses"]],  # type: ignore[attr-defined]  # QuerySet of Course
        reached_through_code=portal.code if isinstance(portal, ExternalSystem) else "",
    )


@requires(Permission.VIEW_SYSTEMS)
def system_list(request: HttpRequest) -> HttpResponse:
    """The catalogue, with how many people the viewer can see hold grants in force."""
    user = signed_in(request)
    summaries = None
    if user.may(Permission.VIEW_ACCESS_COUNTS):
        summaries = {
            s.system.pk: s
            for s in grant_selectors.access_overview(scoped_accounts(actor_from_request(request)))
        }
    systems = ExternalSystem.objects.select_related("reached_through").order_by("name")
    rows = [(s, summaries.get(s.pk) if summaries else None) for s in systems]
    return render(
        request,
        "systems/system_list.html",
        {"rows": rows, "can_manage": user.may(Permission.MANAGE_SYSTEMS)},
    )


@requires(Permission.VIEW_SYSTEMS)
def system_detail(request: HttpRequest, code: str) -> HttpResponse:
    """One system: its description, rules of behaviour, and who can reach it."""
    system = get_object_or_404(
        ExternalSystem.objects.prefetch_related("required_courses"), code=code
    )
    user = signed_in(request)
    rules = system.current_rules()
    acknowledged = (
        rules is not None
        and RulesAcknowledgment.objects.filter(account_id=user.pk, rules=rules).exists()
    )
    summary = None
    if user.may(Permission.VIEW_ACCESS_COUNTS):
        summary = next(
            s
            for s in grant_selectors.access_overview(scoped_accounts(actor_from_request(request)))
            if s.system.pk == system.pk
        )
    return render(
        request,
        "systems/system_detail.html",
        {
            "system": system,
            "rules": rules,
            "acknowledged": acknowledged,
            "my_access": grant_selectors.check_access(user, system),
            "summary": summary,
            "can_manage": user.may(Permission.MANAGE_SYSTEMS),
            "can_acknowledge": user.may(Permission.ACKNOWLEDGE_RULES),
        },
    )


@requires(Permission.MANAGE_SYSTEMS)
@require_http_methods(["GET", "POST"])
def system_create(request: HttpRequest) -> HttpResponse:
    """Add a system to the catalogue."""
    form = SystemForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            system = actions.do_create_system(
                form.cleaned_data["code"],
                _details(form.cleaned_data),
                actor=actor_from_request(request),
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, f"{system.name} added to the catalogue.")
            return redirect("systems:detail", code=system.code)
    return render(request, "systems/system_form.html", {"form": form, "system": None})


@requires(Permission.MANAGE_SYSTEMS)
@require_http_methods(["GET", "POST"])
def system_edit(request: HttpRequest, code: str) -> HttpResponse:
    """Change a system's description."""
    system = get_object_or_404(ExternalSystem, code=code)
    initial = {
        "code": system.code,
        "name": system.name,
        "owner": system.owner,
        "kind": system.kind,
        "access_method": system.access_method,
        "reached_through": system.reached_through.code if system.reached_through else None,
        "has_agreement": system.has_agreement,
        "agreement_reference": system.agreement_reference,
        "privacy_assessment": system.privacy_assessment,
        "in_service": system.in_service,
        "recertify_every_days": system.recertify_every_days,
        "required_courses": [c.code for c in system.required_courses.all()],
    }
    form = SystemForm(request.POST or None, initial=initial)
    form.fields["code"].disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            actions.do_update_system(
                system.pk, _details(form.cleaned_data), actor=actor_from_request(request)
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, f"{system.name} updated.")
            return redirect("systems:detail", code=system.code)
    return render(request, "systems/system_form.html", {"form": form, "system": system})


@requires(Permission.MANAGE_SYSTEMS)
@require_http_methods(["GET", "POST"])
def rules_publish(request: HttpRequest, code: str) -> HttpResponse:
    """Publish a new rules-of-behaviour version."""
    system = get_object_or_404(ExternalSystem, code=code)
    current = system.current_rules()
    form = RulesForm(request.POST or None, initial={"text": current.text if current else ""})
    if request.method == "POST" and form.is_valid():
        try:
            rules = actions.do_publish_rules(
                system.pk, text=form.cleaned_data["text"], actor=actor_from_request(request)
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, f"Rules of behaviour version {rules.version} published.")
            return redirect("systems:detail", code=system.code)
    return render(request, "systems/rules_form.html", {"form": form, "system": system})


@requires(Permission.ACKNOWLEDGE_RULES)
@require_POST
def rules_acknowledge(request: HttpRequest, code: str) -> HttpResponse:
    """The signed-in person acknowledges the current rules of behaviour."""
    system = get_object_or_404(ExternalSystem, code=code)
    rules = system.current_rules()
    if rules is None or str(rules.pk) != request.POST.get("rules"):
        messages.error(request, "The rules changed while you were reading; read them again.")
        return redirect("systems:detail", code=system.code)
    try:
        do_acknowledge_rules(rules.pk, actor=actor_from_request(request))
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, f"You acknowledged version {rules.version} of the rules.")
    return redirect("systems:detail", code=system.code)
