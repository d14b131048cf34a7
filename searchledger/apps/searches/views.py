"""Pages for search records: my searches, the unit view (filters, CSV export), requesting
a search, the approval queue and decisions, documenting the outcome, the
report-of-investigation number, cancelling, and one search with its ledger history.

Reading a record leaves a trace: the detail page calls ``actions.do_log_search_view``
before showing anything, and the export calls ``actions.do_log_search_export`` before
streaming. The read pages are open to every role (``VIEW_GRANTS``, which every role
holds); what each person sees is limited to their scope by ``selectors.list_searches``
(officers their own searches, supervisors their unit, auditors and oversight everyone).
"""

from __future__ import annotations

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
from searchledger.apps.ledger import selectors as ledger_selectors
from searchledger.apps.searches import actions, selectors
from searchledger.apps.searches.forms import (
    CancelForm,
    DecisionForm,
    OutcomeForm,
    RoiForm,
    SearchFilterForm,
    SearchRequestForm,
)
from searchledger.apps.searches.models import SearchRecord
from searchledger.apps.web.permissions import actor_from_request, requires, signed_in
from searchledger.apps.web.tabular import FORMATS, export_response, neutralised_rows
from searchledger.core.roles import Permission, Role
from searchledger.core.searches import SearchStatus

__all__ = [
    "CSV_COLUMNS",
    "search_approvals",
    "search_approve",
    "search_cancel",
    "search_detail",
    "search_export",
    "search_list_mine",
    "search_list_unit",
    "search_outcome",
    "search_refuse",
    "search_request",
    "search_roi",
]

# Reading search records: every role may open the pages; scope limits the rows.
_READ = Permission.VIEW_GRANTS
_REFUSED = "Your role does not allow this page."
_OBJECT_TYPE = "searches.searchrecord"
_UNIT_PAGE_LIMIT = 500


def _not_found() -> Http404:
    return Http404("no such search record, or it is outside your scope")


def _visible(request: HttpRequest, pk: int) -> SearchRecord:
    """A record the viewer may see (without logging a view: for write pages only)."""
    try:
        return selectors.access_search_by_id(pk, actor_from_request(request))
    except PermissionDenied:
        raise _not_found() from None


def _may_decide(user: Account, search: SearchRecord) -> bool:
    """The rule of ``actions.do_approve_search``: the officer's supervisor or an
    administrator, never the officer."""
    return (
        user.may(Permission.DECIDE_SEARCH)
        and user.pk != search.officer_id
        and (user.role == Role.ADMINISTRATOR.value or search.officer.supervisor_id == user.pk)
    )


def _attach(form: Any, exc: ValidationError, aliases: dict[str, str] | None = None) -> None:
    """Attach an action's errors to the fields they name; errors about something that is
    not a field are shown above the form, prefixed with what they are about."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for name, problems in exc.message_dict.items():
        field = (aliases or {}).get(name, name)
        if field in form.fields:
            form.add_error(field, problems)
        else:
            label = name.replace("_", " ").capitalize()
            form.add_error(None, [f"{label}: {p}" for p in problems])


# --------------------------------------------------------------------------- lists


@requires(_READ)
def search_list_mine(request: HttpRequest) -> HttpResponse:
    """The viewer's own searches, newest first."""
    user = signed_in(request)
    searches = selectors.list_searches(
        actor_from_request(request), selectors.SearchFilters(officer_id=user.pk)
    )
    return render(
        request,
        "searches/search_mine.html",
        {
            "searches": searches,
            "may_request": user.may(Permission.REQUEST_SEARCH),
            "may_decide": user.may(Permission.DECIDE_SEARCH),
        },
    )


def _filtered(request: HttpRequest) -> tuple[SearchFilterForm, QuerySet[SearchRecord]]:
    actor = actor_from_request(request)
    form = SearchFilterForm(request.GET or None, accounts=scoped_accounts(actor))
    if form.is_bound:
        form.is_valid()
    return form, selectors.list_searches(actor, form.filters())


@requires(_READ)
def search_list_unit(request: HttpRequest) -> HttpResponse:
    """Every search the viewer may see, filtered by system, officer, purpose, status and
    date requested; the table is replaced in place (htmx) when a filter changes."""
    form, searches = _filtered(request)
    total = searches.count()
    return render(
        request,
        "searches/search_unit.html",
        {
            "form": form,
            "searches": searches[:_UNIT_PAGE_LIMIT],
            "total": total,
            "limited": total > _UNIT_PAGE_LIMIT,
            "query": request.GET.urlencode(),
        },
    )


CSV_COLUMNS: tuple[tuple[str, Callable[[SearchRecord], object]], ...] = (
    ("search", lambda s: s.pk),
    ("requested_at", lambda s: timezone.localtime(s.requested_at).isoformat()),
    ("officer", lambda s: s.officer.username),
    ("org_unit", lambda s: s.org_unit.code if s.org_unit else ""),
    ("system", lambda s: s.system.code),
    ("purpose", lambda s: s.purpose.code),
    ("case_system", lambda s: s.case_system),
    ("case_number", lambda s: s.case_number),
    ("justification", lambda s: s.justification),
    ("lead_posture", lambda s: s.lead_posture),
    ("status", lambda s: s.status),
    ("verdict", lambda s: s.verdict),
    ("policy", lambda s: s.policy_id),
    ("policy_version", lambda s: s.policy_version),
    ("decided_by", lambda s: s.decided_by.username if s.decided_by else ""),
    ("decision_note", lambda s: s.decision_note),
    ("documentation_due", lambda s: s.documentation_due or ""),
    (
        "searched_at",
        lambda s: timezone.localtime(s.searched_at).isoformat() if s.searched_at else "",
    ),
    (
        "candidates_returned",
        lambda s: "" if s.candidates_returned is None else s.candidates_returned,
    ),
    (
        "lead_derived",
        lambda s: "" if s.lead_derived is None else ("yes" if s.lead_derived else "no"),
    ),
    ("further_action", lambda s: s.further_action),
    ("roi_number", lambda s: s.roi_number),
)


def _chunks(ids: list[int]) -> Iterator[Iterable[SearchRecord]]:
    for start in range(0, len(ids), 500):
        yield (
            SearchRecord.objects.filter(pk__in=ids[start : start + 500])
            .select_related("officer", "system", "purpose", "org_unit", "decided_by")
            .order_by("-requested_at", "-pk")
        )


@requires(_READ)
def search_export(request: HttpRequest) -> HttpResponseBase:
    """The unit view's records under the same filters, as CSV (``?format=xlsx``: an Excel
    workbook). The export is a ledger entry naming the records, written before the first
    byte is sent."""
    fmt = request.GET.get("format", "csv")
    if fmt not in FORMATS:
        return HttpResponseBadRequest(
            f"format must be one of {', '.join(FORMATS)}\n", content_type="text/plain"
        )
    _, searches = _filtered(request)
    ids = list(searches.values_list("pk", flat=True))
    actions.do_log_search_export(ids, actor=actor_from_request(request), channel="export")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return export_response(
        fmt,
        f"searches-{stamp}",
        [name for name, _ in CSV_COLUMNS],
        neutralised_rows(_chunks(ids), CSV_COLUMNS),
        sheet="searches",
    )


# --------------------------------------------------------------------------- the request


@requires(Permission.REQUEST_SEARCH)
@require_http_methods(["GET", "POST"])
def search_request(request: HttpRequest) -> HttpResponse:
    """Ask to run a search. Allowed: authorised at once; otherwise it waits for approval,
    or is refused with every reason (the refused request is kept on the record)."""
    form = SearchRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            search = actions.do_request_search(form.to_request(), actor=actor_from_request(request))
        except actions.SearchRefused as refused:
            return render(
                request,
                "searches/search_refused.html",
                {"search": refused.search, "reasons": refused.search.decision_reasons},
            )
        except ValidationError as exc:
            _attach(form, exc, {"attestation": "attested_not_protected"})
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            if search.status == SearchStatus.PENDING_APPROVAL:
                messages.success(
                    request, f"Search {search.pk} requested; it awaits your supervisor's approval."
                )
            else:
                messages.success(
                    request,
                    f"Search {search.pk} authorised: document its outcome by "
                    f"{search.documentation_due:%A %d %B %Y}.",
                )
            return redirect("searches:detail", pk=search.pk)
    return render(request, "searches/search_request.html", {"form": form})


# --------------------------------------------------------------------------- approvals


@requires(Permission.DECIDE_SEARCH)
def search_approvals(request: HttpRequest) -> HttpResponse:
    """Requests waiting for the viewer's decision, oldest first."""
    waiting = selectors.pending_approvals(actor_from_request(request))
    return render(request, "searches/search_approvals.html", {"searches": waiting})


def _decide(
    request: HttpRequest,
    pk: int,
    act: Callable[..., SearchRecord],
    done: str,
) -> HttpResponse:
    search = _visible(request, pk)
    if not _may_decide(signed_in(request), search):
        return HttpResponseForbidden(_REFUSED)
    form = DecisionForm(request.POST)
    form.is_valid()
    try:
        act(pk, actor=actor_from_request(request), reason=form.cleaned_data.get("reason", ""))
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done.format(pk=pk))
    return redirect("searches:detail", pk=pk)


@requires(Permission.DECIDE_SEARCH)
@require_POST
def search_approve(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve a pending request (the officer's supervisor or an administrator)."""
    return _decide(request, pk, actions.do_approve_search, "Search {pk} approved.")


@requires(Permission.DECIDE_SEARCH)
@require_POST
def search_refuse(request: HttpRequest, pk: int) -> HttpResponse:
    """Refuse a pending request, with the reason the officer is told."""
    return _decide(request, pk, actions.do_refuse_search, "Search {pk} refused.")


@requires(Permission.REQUEST_SEARCH)
@require_POST
def search_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Withdraw a request not yet documented: the officer, or whoever may decide on it."""
    search = _visible(request, pk)
    user = signed_in(request)
    if user.pk != search.officer_id and not _may_decide(user, search):
        return HttpResponseForbidden(_REFUSED)
    form = CancelForm(request.POST)
    form.is_valid()
    try:
        actions.do_cancel_search(
            pk, actor=actor_from_request(request), reason=form.cleaned_data.get("reason", "")
        )
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(request, f"Search {pk} cancelled.")
    return redirect("searches:detail", pk=pk)


# --------------------------------------------------------------------------- afterwards


@requires(Permission.REQUEST_SEARCH)
@require_http_methods(["GET", "POST"])
def search_outcome(request: HttpRequest, pk: int) -> HttpResponse:
    """Document what an authorised search returned: only the officer who ran it."""
    search = _visible(request, pk)
    if search.officer_id != signed_in(request).pk:
        return HttpResponseForbidden(_REFUSED)
    if search.status != SearchStatus.AUTHORISED.value:
        messages.error(
            request,
            f"Search {pk} is {search.get_status_display().lower()}; no outcome to document.",
        )
        return redirect("searches:detail", pk=pk)
    form = OutcomeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.do_document_outcome(pk, form.to_outcome(), actor=actor_from_request(request))
        except ValidationError as exc:
            _attach(form, exc)
        else:
            messages.success(request, f"The outcome of search {pk} is documented.")
            return redirect("searches:detail", pk=pk)
    return render(request, "searches/search_outcome.html", {"form": form, "search": search})


@requires(Permission.REQUEST_SEARCH)
@require_POST
def search_roi(request: HttpRequest, pk: int) -> HttpResponse:
    """Record the report-of-investigation number: the officer, or a supervisor in scope."""
    search = _visible(request, pk)
    user = signed_in(request)
    if user.pk != search.officer_id and not user.may(Permission.DECIDE_SEARCH):
        return HttpResponseForbidden(_REFUSED)
    form = RoiForm(request.POST)
    if not form.is_valid():
        problems = [f"{k}: {' '.join(str(e) for e in v)}" for k, v in form.errors.items()]
        messages.error(request, "; ".join(problems))
        return redirect("searches:detail", pk=pk)
    try:
        actions.do_record_roi_number(
            pk, form.cleaned_data["roi_number"], actor=actor_from_request(request)
        )
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    except PermissionDenied:
        return HttpResponseForbidden(_REFUSED)
    else:
        messages.success(request, f"Report-of-investigation number recorded for search {pk}.")
    return redirect("searches:detail", pk=pk)


# --------------------------------------------------------------------------- one record


@requires(_READ)
def search_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One search record, everything about it and its history from the ledger. The view
    itself is logged first: nobody reads a record without a ledger entry saying so."""
    try:
        search = actions.do_log_search_view(pk, actor=actor_from_request(request), channel="web")
    except PermissionDenied:
        raise _not_found() from None
    user = signed_in(request)
    own = user.pk == search.officer_id
    may_decide = _may_decide(user, search)
    status = search.status
    open_statuses = {SearchStatus.PENDING_APPROVAL.value, SearchStatus.AUTHORISED.value}
    roi_statuses = {SearchStatus.AUTHORISED.value, SearchStatus.DOCUMENTED.value}
    return render(
        request,
        "searches/search_detail.html",
        {
            "search": search,
            "vettings": search.vettings.select_related("vetter"),
            "techniques": [t.replace("_", " ") for t in search.techniques_tried],
            "history": ledger_selectors.object_history(_OBJECT_TYPE, search.pk),
            "may_decide": may_decide and status == SearchStatus.PENDING_APPROVAL.value,
            "may_document": own and status == SearchStatus.AUTHORISED.value,
            "may_cancel": (own or may_decide) and status in open_statuses,
            "may_record_roi": (
                (own or user.may(Permission.DECIDE_SEARCH))
                and user.may(Permission.REQUEST_SEARCH)
                and status in roi_statuses
                and not search.roi_number
            ),
            "roi_form": RoiForm(),
        },
    )
