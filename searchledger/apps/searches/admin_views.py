"""Administrator pages for searches: the search policies (per unit and system, every
version) and setting a new version; the offence categories (purposes), adding and retiring
them; and the known cases, which supervisors manage for their own unit and the units below
it. Every change goes through ``searches.actions``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from searchledger.apps.accounts.models import OrgUnit
from searchledger.apps.searches import actions
from searchledger.apps.searches.admin_forms import CaseForm, OffenceCategoryForm, PolicyForm
from searchledger.apps.searches.models import Case, CaseStatus, OffenceCategory, SearchPolicy
from searchledger.apps.systems.models import ExternalSystem
from searchledger.apps.web.forms import add_validation_errors
from searchledger.apps.web.permissions import actor_from_request, requires, signed_in
from searchledger.core.roles import Permission, Role
from searchledger.core.scope import units_below

__all__ = [
    "case_close",
    "case_list",
    "case_open",
    "policy_list",
    "policy_set",
    "purpose_create",
    "purpose_list",
    "purpose_retire",
]


# --------------------------------------------------------------------------- policies


@dataclass(frozen=True)
class PolicySeries:
    """Every version of the policy for one unit (or the agency) and one system (or every
    system), newest first."""

    unit: OrgUnit | None
    system_code: str | None
    system_name: str
    versions: list[SearchPolicy]

    @property
    def current(self) -> SearchPolicy:
        """The version in force."""
        return self.versions[0]


def _series(policies: Iterable[SearchPolicy]) -> list[PolicySeries]:
    grouped: dict[str, list[SearchPolicy]] = {}
    for policy in policies:
        grouped.setdefault(policy.scope_key, []).append(policy)
    found = []
    for versions in grouped.values():
        versions.sort(key=lambda p: -p.version)
        newest = versions[0]
        found.append(
            PolicySeries(
                unit=newest.org_unit,
                system_code=newest.system.code if newest.system else None,
                system_name=newest.system.name if newest.system else "Every system",
                versions=versions,
            )
        )
    # The agency-wide policies first, then by unit; every-system before one system.
    found.sort(
        key=lambda s: (
            s.unit is not None,
            s.unit.code if s.unit else "",
            s.system_code is not None,
            s.system_name,
        )
    )
    return found


@requires(Permission.MANAGE_SEARCH_POLICY)
def policy_list(request: HttpRequest) -> HttpResponse:
    """Every search policy, per unit and system, with all its versions."""
    policies = SearchPolicy.objects.select_related("org_unit", "system", "created_by")
    return render(request, "searches/admin/policy_list.html", {"series": _series(policies)})


@requires(Permission.MANAGE_SEARCH_POLICY)
@require_http_methods(["GET", "POST"])
def policy_set(request: HttpRequest) -> HttpResponse:
    """Publish a new version of a policy. ``?unit=<code>&system=<code>`` starts from the
    settings of that scope's current version."""
    initial = {}
    unit, system = request.GET.get("unit") or None, request.GET.get("system") or None
    if request.method == "GET":
        unit_id = OrgUnit.objects.filter(code=unit).values_list("pk", flat=True).first()
        system_id = ExternalSystem.objects.filter(code=system).values_list("pk", flat=True).first()
        if (unit is None or unit_id) and (system is None or system_id):
            key = SearchPolicy.key_for(unit_id, system_id)
            current = SearchPolicy.objects.filter(scope_key=key).order_by("-version").first()
            if current is not None:
                initial = PolicyForm.initial_from(current)
    form = PolicyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            policy = actions.do_set_search_policy(
                org_unit_code=data["org_unit"].code if data["org_unit"] else None,
                system_code=data["system"].code if data["system"] else None,
                settings=form.settings(),
                actor=actor_from_request(request),
                reason=data["reason"],
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, f"{policy} published.")
            return redirect("searches:policies")
    return render(
        request,
        "web/form_page.html",
        {
            "form": form,
            "title": "Set a search policy",
            "intro": "A change is a new version; earlier versions stay, with the decisions "
            "they made.",
            "submit": "Publish the new version",
            "cancel_url": reverse("searches:policies"),
        },
    )


# --------------------------------------------------------------------------- purposes


@requires(Permission.MANAGE_SEARCH_POLICY)
def purpose_list(request: HttpRequest) -> HttpResponse:
    """The offence categories, active and retired."""
    return render(
        request,
        "searches/admin/purpose_list.html",
        {"categories": OffenceCategory.objects.order_by("-active", "group", "label")},
    )


@requires(Permission.MANAGE_SEARCH_POLICY)
@require_http_methods(["GET", "POST"])
def purpose_create(request: HttpRequest) -> HttpResponse:
    """Add an offence category."""
    form = OffenceCategoryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            category = actions.do_create_offence_category(
                **form.cleaned_data, actor=actor_from_request(request)
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, f"Purpose {category.label!r} added.")
            return redirect("searches:purposes")
    return render(
        request,
        "web/form_page.html",
        {
            "form": form,
            "title": "Add a purpose (offence category)",
            "cancel_url": reverse("searches:purposes"),
        },
    )


@requires(Permission.MANAGE_SEARCH_POLICY)
@require_POST
def purpose_retire(request: HttpRequest, code: str) -> HttpResponse:
    """Retire an offence category: no new request may name it."""
    try:
        category = actions.do_retire_offence_category(code, actor=actor_from_request(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Purpose {category.label!r} retired.")
    return redirect("searches:purposes")


# --------------------------------------------------------------------------- known cases


def _managed_units(request: HttpRequest) -> QuerySet[OrgUnit]:
    """The units whose cases the viewer manages: all for administrators; a supervisor's
    own unit and the units below it."""
    actor = actor_from_request(request)
    units = OrgUnit.objects.all()
    if actor.role is Role.ADMINISTRATOR:
        return units
    me = signed_in(request)
    if me.org_unit_id is None:
        return units.none()
    return units.filter(pk__in=units_below(me.org_unit_id, units.values_list("pk", "parent_id")))


@requires(Permission.MANAGE_CASES)
def case_list(request: HttpRequest) -> HttpResponse:
    """The known cases of the units the viewer manages, open ones first."""
    status = request.GET.get("status", "")
    cases = Case.objects.filter(org_unit__in=_managed_units(request)).select_related("org_unit")
    if status in CaseStatus.values:
        cases = cases.filter(status=status)
    return render(
        request,
        "searches/admin/case_list.html",
        {
            "cases": cases.order_by("-status", "case_system", "number")[:500],
            "statuses": CaseStatus.choices,
            "selected_status": status,
        },
    )


@requires(Permission.MANAGE_CASES)
@require_http_methods(["GET", "POST"])
def case_open(request: HttpRequest) -> HttpResponse:
    """Register a case known to be open."""
    form = CaseForm(request.POST or None, units=_managed_units(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            case = actions.do_open_case(
                org_unit_code=data["org_unit"].code,
                case_system=data["case_system"],
                number=data["number"],
                actor=actor_from_request(request),
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error("org_unit", str(exc))
        else:
            messages.success(request, f"Case {case} registered as open.")
            return redirect("searches:cases")
    return render(
        request,
        "web/form_page.html",
        {
            "form": form,
            "title": "Register an open case",
            "intro": "Policies that require a known open case refuse searches in cases not "
            "registered here, or closed.",
            "cancel_url": reverse("searches:cases"),
        },
    )


@requires(Permission.MANAGE_CASES)
@require_POST
def case_close(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark a known case closed (a supervisor: only in the units they manage)."""
    if not Case.objects.filter(pk=pk, org_unit__in=_managed_units(request)).exists():
        raise PermissionDenied("that case is outside the units you manage")
    try:
        case = actions.do_close_case(pk, actor=actor_from_request(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Case {case} closed.")
    return redirect("searches:cases")
