"""Pages for findings: the list (filters: status, severity, kind, system, overdue; the table
is replaced in place with htmx), the CSV export per system for the system owner's auditor
(a ledger entry, written before the first byte), one finding with its ledger history, and
the forms that work it (assign, remediation, close, reopen).

Reading needs ``VIEW_FINDINGS`` (supervisors, auditors, oversight, administrators) and the
selectors limit a supervisor to their own findings and their scope's; working a finding
needs ``MANAGE_FINDINGS`` and the action checks the scope again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
)
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from searchledger.apps.accounts.models import Account
from searchledger.apps.authz import scoped_accounts
from searchledger.apps.findings import actions, selectors
from searchledger.apps.findings.forms import (
    AssignForm,
    CloseForm,
    FindingFilterForm,
    RaiseFindingForm,
    RemediationForm,
    ReopenForm,
)
from searchledger.apps.findings.models import Finding
from searchledger.apps.ledger import selectors as ledger_selectors
from searchledger.apps.web.permissions import actor_from_request, requires, signed_in
from searchledger.apps.web.tabular import FORMATS, export_response, neutralised_rows
from searchledger.core.reviews import FindingStatus, is_overdue
from searchledger.core.roles import Permission, Role

__all__ = [
    "CSV_COLUMNS",
    "finding_assign",
    "finding_close",
    "finding_detail",
    "finding_export",
    "finding_list",
    "finding_raise",
    "finding_remediation",
    "finding_reopen",
]

_REFUSED = "Your role does not allow this page."
_OBJECT_TYPE = "findings.finding"
_PAGE_LIMIT = 500


def _not_found() -> Http404:
    return Http404("no such finding, or it is outside your scope")


def _filtered(request: HttpRequest) -> tuple[FindingFilterForm, QuerySet[Finding]]:
    form = FindingFilterForm(request.GET or None)
    if form.is_bound:
        form.is_valid()
    return form, selectors.list_findings(actor_from_request(request), form.filters())


@requires(Permission.VIEW_FINDINGS)
def finding_list(request: HttpRequest) -> HttpResponse:
    """The findings the viewer may see, soonest due first, filtered in place."""
    form, findings = _filtered(request)
    total = findings.count()
    today = timezone.localdate()
    rows = [(f, is_overdue(FindingStatus(f.status), f.due, today)) for f in findings[:_PAGE_LIMIT]]
    return render(
        request,
        "findings/finding_list.html",
        {
            "form": form,
            "rows": rows,
            "total": total,
            "limited": total > _PAGE_LIMIT,
            "query": request.GET.urlencode(),
            "may_raise": signed_in(request).may(Permission.MANAGE_FINDINGS),
        },
    )


CSV_COLUMNS: tuple[tuple[str, Callable[[Finding], object]], ...] = (
    ("finding", lambda f: f.pk),
    ("system", lambda f: f.system.code if f.system else ""),
    ("source", lambda f: f.source),
    ("kind", lambda f: f.kind),
    ("severity", lambda f: f.severity),
    ("status", lambda f: f.status),
    ("raised_at", lambda f: timezone.localtime(f.raised_at).isoformat()),
    ("subject", lambda f: f.subject.username if f.subject else ""),
    ("org_unit", lambda f: f.org_unit.code if f.org_unit else ""),
    ("search", lambda f: f.search_id or ""),
    ("summary", lambda f: f.summary),
    ("detail", lambda f: json.dumps(f.detail, sort_keys=True, ensure_ascii=False)),
    ("due", lambda f: f.due.isoformat()),
    ("remediation", lambda f: f.remediation),
    ("resolution", lambda f: f.resolution),
    ("closure_note", lambda f: f.closure_note),
    ("closed_at", lambda f: timezone.localtime(f.closed_at).isoformat() if f.closed_at else ""),
)


def _chunks(ids: list[int]) -> Iterator[Iterable[Finding]]:
    for start in range(0, len(ids), 500):
        yield (
            Finding.objects.filter(pk__in=ids[start : start + 500])
            .select_related("system", "subject", "org_unit")
            .order_by("due", "pk")
        )


@requires(Permission.VIEW_FINDINGS)
def finding_export(request: HttpRequest) -> HttpResponseBase:
    """The list's findings under the same filters as CSV, or ``?format=xlsx`` an Excel
    workbook (choose a system to tell that system's owner the outcome). Cells a spreadsheet
    would run as formulas are neutralised. The export is a ledger entry
    (``FINDING_EXPORTED``) written before the first byte."""
    fmt = request.GET.get("format", "csv")
    if fmt not in FORMATS:
        return HttpResponseBadRequest(
            f"format must be one of {', '.join(FORMATS)}\n", content_type="text/plain"
        )
    form, findings = _filtered(request)
    ids = list(findings.values_list("pk", flat=True))
    system = form.cleaned_data.get("system") if hasattr(form, "cleaned_data") else None
    actions.do_log_findings_export(
        ids,
        system_id=system.pk if system else None,
        actor=actor_from_request(request),
        channel="export",
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    name = f"findings-{system.code}-{stamp}" if system else f"findings-{stamp}"
    return export_response(
        fmt,
        name,
        [column for column, _ in CSV_COLUMNS],
        neutralised_rows(_chunks(ids), CSV_COLUMNS),
        sheet="findings",
    )


def _owners(finding: Finding) -> QuerySet[Account]:
    """Who could own ``finding``: active supervisors, auditors and administrators, never its
    subject (the action checks the subject is in the new owner's scope)."""
    roles = [Role.SUPERVISOR.value, Role.AUDITOR.value, Role.ADMINISTRATOR.value]
    owners = Account.objects.filter(is_active=True, role__in=roles)
    if finding.subject_id is not None:
        owners = owners.exclude(pk=finding.subject_id)
    return owners


def _may_manage(user: Account, finding: Finding) -> bool:
    """Whether to show the forms; the actions decide."""
    return user.may(Permission.MANAGE_FINDINGS) and user.pk != finding.subject_id


@requires(Permission.VIEW_FINDINGS)
def finding_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One finding: what, whom, where, its state, its history from the ledger and, for those
    who work findings, the forms."""
    try:
        finding = selectors.access_finding_by_id(pk, actor_from_request(request))
    except PermissionDenied:
        raise _not_found() from None
    user = signed_in(request)
    closed = finding.status == FindingStatus.CLOSED.value
    return render(
        request,
        "findings/finding_detail.html",
        {
            "finding": finding,
            "detail": sorted(finding.detail.items()),
            "overdue": is_overdue(FindingStatus(finding.status), finding.due, timezone.localdate()),
            "history": ledger_selectors.object_history(_OBJECT_TYPE, finding.pk),
            "may_manage": _may_manage(user, finding),
            "closed": closed,
            "assign_form": AssignForm(initial={"owner": finding.owner_id}, owners=_owners(finding)),
            "remediation_form": RemediationForm(),
            "close_form": CloseForm(),
            "reopen_form": ReopenForm(),
        },
    )


def _work(
    request: HttpRequest,
    pk: int,
    form: Any,
    run: Callable[[dict[str, Any]], object],
    done: str,
) -> HttpResponse:
    """Check that the finding is visible, validate ``form``, run the action, report."""
    try:
        selectors.access_finding_by_id(pk, actor_from_request(request))
    except PermissionDenied:
        raise _not_found() from None
    if not form.is_valid():
        problems = [f"{k}: {' '.join(str(e) for e in v)}" for k, v in form.errors.items()]
        messages.error(request, "; ".join(problems))
        return redirect("findings:detail", pk=pk)
    try:
        run(form.cleaned_data)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    except PermissionDenied:
        return HttpResponseForbidden(_REFUSED)
    else:
        messages.success(request, done)
    return redirect("findings:detail", pk=pk)


@requires(Permission.MANAGE_FINDINGS)
@require_POST
def finding_assign(request: HttpRequest, pk: int) -> HttpResponse:
    """Give the finding to someone, or back to the queue."""
    actor = actor_from_request(request)
    form = AssignForm(request.POST, owners=Account.objects.filter(is_active=True))
    return _work(
        request,
        pk,
        form,
        lambda d: actions.do_assign_finding(
            pk, d["owner"].pk if d.get("owner") else None, actor=actor
        ),
        "The finding's owner is changed.",
    )


@requires(Permission.MANAGE_FINDINGS)
@require_POST
def finding_remediation(request: HttpRequest, pk: int) -> HttpResponse:
    """Record what was done about the finding."""
    actor = actor_from_request(request)
    return _work(
        request,
        pk,
        RemediationForm(request.POST),
        lambda d: actions.do_record_remediation(pk, d["remediation"], actor=actor),
        "The remediation is recorded.",
    )


@requires(Permission.MANAGE_FINDINGS)
@require_POST
def finding_close(request: HttpRequest, pk: int) -> HttpResponse:
    """Close the finding with a resolution."""
    actor = actor_from_request(request)
    return _work(
        request,
        pk,
        CloseForm(request.POST),
        lambda d: actions.do_close_finding(pk, d["resolution"], note=d["note"], actor=actor),
        "The finding is closed.",
    )


@requires(Permission.MANAGE_FINDINGS)
@require_POST
def finding_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    """Reopen a closed finding."""
    actor = actor_from_request(request)
    return _work(
        request,
        pk,
        ReopenForm(request.POST),
        lambda d: actions.do_reopen_finding(pk, reason=d["reason"], actor=actor),
        "The finding is reopened.",
    )


@requires(Permission.MANAGE_FINDINGS)
@require_http_methods(["GET", "POST"])
def finding_raise(request: HttpRequest) -> HttpResponse:
    """Raise a finding by hand, about someone in the viewer's scope (never themself)."""
    actor = actor_from_request(request)
    subjects = scoped_accounts(actor).exclude(pk=actor.account_id)
    form = RaiseFindingForm(request.POST or None, subjects=subjects)
    if request.method == "POST" and form.is_valid():
        try:
            finding = actions.do_raise_finding(form.draft(), actor=actor)
        except ValidationError as exc:
            for name, problems in exc.message_dict.items():
                form.add_error(name if name in form.fields else None, problems)
        except PermissionDenied:
            return HttpResponseForbidden(_REFUSED)
        else:
            messages.success(request, f"Finding {finding.pk} raised.")
            return redirect("findings:detail", pk=finding.pk)
    return render(request, "findings/finding_raise.html", {"form": form})
