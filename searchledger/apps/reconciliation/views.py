"""Pages for reconciliation: the runs, the reconcile form and a run's report (counts by
kind, then the discrepancies grouped by kind with links to their findings and search
records; htmx narrows the report to one kind). Every page needs ``RECONCILE``."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from searchledger.apps.reconciliation import actions, selectors
from searchledger.apps.reconciliation.forms import ReconcileForm
from searchledger.apps.web.permissions import actor_from_request, requires
from searchledger.core.reconciliation import DiscrepancyKind
from searchledger.core.roles import Permission

__all__ = ["run_detail", "run_list", "run_new"]

_REFUSED = "Your role does not allow this page."
KINDS = [(k.value, k.value.replace("_", " ").capitalize()) for k in DiscrepancyKind]


@requires(Permission.RECONCILE)
def run_list(request: HttpRequest) -> HttpResponse:
    """Every reconciliation run, newest first."""
    runs = selectors.list_runs(actor_from_request(request))[:200]
    return render(request, "reconciliation/run_list.html", {"runs": runs})


@requires(Permission.RECONCILE)
@require_http_methods(["GET", "POST"])
def run_new(request: HttpRequest) -> HttpResponse:
    """Reconcile a system's imported logs for a period; on success, the run's report."""
    actor = actor_from_request(request)
    form = ReconcileForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            run = actions.do_reconcile(
                data["system"],
                start=data["start"],
                end=data["end"],
                params=actions.default_params(data["tolerance"]),
                actor=actor,
            )
        except PermissionDenied:
            return HttpResponseForbidden(_REFUSED)
        except ValidationError as exc:
            for name, problems in exc.message_dict.items():
                form.add_error(name if name in form.fields else None, problems)
        else:
            messages.success(request, f"Reconciled: {run.total} discrepancies.")
            return redirect("reconciliation:detail", pk=run.pk)
    return render(request, "reconciliation/run_new.html", {"form": form})


@requires(Permission.RECONCILE)
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A run's report; ``?kind=`` narrows it to one kind (htmx swaps the list only)."""
    run = selectors.access_run_by_id(pk, actor_from_request(request))
    if run is None:
        raise Http404("no such reconciliation run")
    kind = request.GET.get("kind", "")
    if kind not in {k for k, _ in KINDS}:
        kind = ""
    groups = [
        {
            "kind": name,
            "rows": list(selectors.list_discrepancies(run, name)[: selectors.REPORT_LIMIT]),
            "total": run.counts.get(name, 0),
        }
        for name, _ in KINDS
        if run.counts.get(name, 0) and (not kind or name == kind)
    ]
    counts = [(k, label, run.counts.get(k, 0)) for k, label in KINDS]
    return render(
        request,
        "reconciliation/run_detail.html",
        {"run": run, "counts": counts, "groups": groups, "kinds": KINDS, "kind": kind},
    )
