"""Pages for external access logs: the systems and their imports, the column mapping, the
upload (run in a background thread after it is recorded, with a progress bar polled by
htmx), one import with its counts and rejected rows, resuming a failed or interrupted
import, and the external accounts with the form that maps one to a person.

Reading (import reports, external accounts) needs ``RECONCILE`` (auditors and
administrators); importing, mapping columns and mapping accounts need
``IMPORT_ACCESS_LOGS`` (administrators). Every change goes through ``accesslogs.actions``.
"""

from __future__ import annotations

import logging
import threading
import uuid
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import close_old_connections, connection, transaction
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from searchledger.apps.accesslogs import actions, selectors
from searchledger.apps.accesslogs.forms import (
    AccountMapForm,
    AccountMappingsForm,
    MappingForm,
    UploadForm,
)
from searchledger.apps.accesslogs.models import AccessLogImport, ExternalAccount, ImportStatus
from searchledger.apps.accounts.models import Account
from searchledger.apps.systems.models import ExternalSystem
from searchledger.apps.web.forms import add_validation_errors
from searchledger.apps.web.permissions import actor_from_request, requires, signed_in
from searchledger.core.accesslogs import parse_account_mappings, sanitise_filename
from searchledger.core.actor import Actor
from searchledger.core.roles import Permission

__all__ = [
    "account_map",
    "account_mappings_upload",
    "account_unmap",
    "external_accounts",
    "import_detail",
    "import_progress",
    "import_rejects",
    "import_resume",
    "index",
    "mapping_set",
    "system_imports",
    "upload",
]

_READ = Permission.RECONCILE
_WRITE = Permission.IMPORT_ACCESS_LOGS
_log = logging.getLogger("searchledger.accesslogs")


def _system(code: str) -> ExternalSystem:
    return get_object_or_404(ExternalSystem, code=code)


def _import(request: HttpRequest, pk: int) -> AccessLogImport:
    found = selectors.access_import_by_id(pk, actor_from_request(request))
    if found is None:
        raise Http404("no such import")
    return found


# --------------------------------------------------------------------------- running


def _run_in_background(import_id: int, actor: Actor) -> None:
    """Run an import in this thread with its own database connection, closed at the end."""
    close_old_connections()
    try:
        actions.do_run_access_log_import(import_id, actor=actor)
    except Exception:  # the import is already marked failed with the reason
        _log.exception("access-log import %s stopped on an error", import_id)
    finally:
        connection.close()


def _launch(import_id: int, actor: Actor) -> None:
    """Run the import: at once in this request when ``SEARCHLEDGER_ACCESS_LOG_SYNC`` is set
    (tests), else in a background thread started once the recorded start has committed
    (the thread's own connection must see it)."""
    if getattr(settings, "SEARCHLEDGER_ACCESS_LOG_SYNC", False):
        try:
            actions.do_run_access_log_import(import_id, actor=actor)
        except Exception:  # the import is already marked failed with the reason
            _log.exception("access-log import %s stopped on an error", import_id)
        return
    thread = threading.Thread(
        target=_run_in_background,
        args=(import_id, actor),
        name=f"access-log-import-{import_id}",
        daemon=True,
    )
    transaction.on_commit(thread.start)


# --------------------------------------------------------------------------- lists


@requires(_READ)
def index(request: HttpRequest) -> HttpResponse:
    """Every system with its column mapping, its latest import and its unmapped accounts
    that searched."""
    rows = []
    for system in ExternalSystem.objects.order_by("name"):
        latest = AccessLogImport.objects.filter(system=system).order_by("-started_at").first()
        rows.append(
            {
                "system": system,
                "mapping": selectors.current_mapping(system.pk),
                "latest": latest,
                "unknown": ExternalAccount.objects.filter(
                    system=system, account__isnull=True, searches__gt=0
                ).count(),
            }
        )
    return render(
        request,
        "accesslogs/index.html",
        {"rows": rows, "can_import": signed_in(request).may(_WRITE)},
    )


@requires(_READ)
def system_imports(request: HttpRequest, code: str) -> HttpResponse:
    """A system's imports, newest first, and its column mapping."""
    system = _system(code)
    return render(
        request,
        "accesslogs/system.html",
        {
            "system": system,
            "mapping": selectors.current_mapping(system.pk),
            "imports": selectors.list_imports(actor_from_request(request), system.pk)[:200],
            "can_import": signed_in(request).may(_WRITE),
        },
    )


# --------------------------------------------------------------------------- writes


@requires(_WRITE)
@require_http_methods(["GET", "POST"])
def mapping_set(request: HttpRequest, code: str) -> HttpResponse:
    """Set a new version of the system's column mapping."""
    system = _system(code)
    current = selectors.current_mapping(system.pk)
    form = MappingForm(
        request.POST or None,
        initial=MappingForm.initial_from(current.spec() if current else None),
    )
    if request.method == "POST" and form.is_valid():
        try:
            mapping = actions.do_set_column_mapping(
                system.code, form.spec(), actor=actor_from_request(request)
            )
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, f"Column mapping version {mapping.version} is in force.")
            return redirect("accesslogs:system", code=system.code)
    return render(
        request,
        "web/form_page.html",
        {
            "form": form,
            "title": f"Column mapping for {system.name}",
            "intro": "How to read this system's access log. Saving makes a new version; "
            "earlier imports keep the version they were read with.",
            "submit": "Save mapping",
            "cancel_url": f"/access-logs/{system.code}/",
        },
    )


def _spool(upload: object, name: str) -> Path:
    """Write an upload to the spool directory, chunk by chunk."""
    spool = selectors.access_log_root() / "spool"
    spool.mkdir(parents=True, exist_ok=True)
    path = spool / f"{uuid.uuid4().hex}-{name}"
    with path.open("wb") as handle:
        for chunk in upload.chunks():  # type: ignore[attr-defined]  # an UploadedFile
            handle.write(chunk)
    return path


@requires(_WRITE)
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest, code: str) -> HttpResponse:
    """Upload a system's log: it is stored in the spool, the import is recorded, and it
    runs after this request (the import's page shows its progress)."""
    system = _system(code)
    mapping = selectors.current_mapping(system.pk)
    form = UploadForm(
        request.POST or None,
        request.FILES or None,
        encoding=mapping.encoding if mapping else "utf-8",
    )
    if request.method == "POST" and form.is_valid():
        received = form.cleaned_data["file"]
        name = sanitise_filename(received.name or "upload")
        path = _spool(received, name)
        actor = actor_from_request(request)
        try:
            started = actions.do_start_access_log_import(
                system.code,
                path,
                original_name=name,
                strict=form.cleaned_data["strict"],
                actor=actor,
            )
        except ValidationError as exc:
            path.unlink(missing_ok=True)
            add_validation_errors(form, exc)
        else:
            _launch(started.pk, actor)
            return redirect("accesslogs:detail", pk=started.pk)
    return render(
        request,
        "accesslogs/upload.html",
        {"system": system, "form": form, "mapping": mapping},
    )


@requires(_WRITE)
@require_POST
def import_resume(request: HttpRequest, pk: int) -> HttpResponse:
    """Run a failed or interrupted import again under the same id."""
    log_import = _import(request, pk)
    actor = actor_from_request(request)
    try:
        actions.do_reopen_access_log_import(log_import.pk, actor=actor)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        _launch(log_import.pk, actor)
    return redirect("accesslogs:detail", pk=log_import.pk)


# --------------------------------------------------------------------------- one import


@requires(_READ)
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One import: progress while it runs; counts, period, rejected rows when done."""
    log_import = _import(request, pk)
    return render(
        request,
        "accesslogs/detail.html",
        {
            "imp": log_import,
            "rejected": log_import.rejected_rows.all()[:1000],
            "can_import": signed_in(request).may(_WRITE),
            "resumable": actions.may_resume(log_import),
        },
    )


@requires(_READ)
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress fragment that the import's page polls while it runs."""
    log_import = _import(request, pk)
    response = render(request, "accesslogs/_progress.html", {"imp": log_import})
    if log_import.status != ImportStatus.RUNNING:
        response["HX-Refresh"] = "true"  # done: reload the page to show the report
    return response


@requires(_READ)
def import_rejects(request: HttpRequest, pk: int) -> FileResponse:
    """The rejects report (every rejected row; formula-like cells already neutralised)."""
    log_import = _import(request, pk)
    path = Path(log_import.rejects_path) if log_import.rejects_path else None
    if path is None or not path.is_file():
        raise Http404("this import has no rejects report")
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"import-{log_import.pk}-rejects.csv",
        content_type="text/csv; charset=utf-8",
    )


# --------------------------------------------------------------------------- accounts


@requires(_READ)
def external_accounts(request: HttpRequest, code: str) -> HttpResponse:
    """A system's external accounts, unmapped accounts that searched first, with a
    suggested person where a username or e-mail matches the external id."""
    system = _system(code)
    accounts = selectors.list_external_accounts(actor_from_request(request), system.pk)
    unmapped = [a.external_id for a in accounts if a.account_id is None]
    suggestions: dict[str, str] = {}
    if unmapped:
        matches = Account.objects.filter(is_active=True).filter(
            Q(username__in=unmapped) | Q(email__in=unmapped)
        )
        for person in matches:
            suggestions.setdefault(person.username, person.username)
            if person.email:
                suggestions.setdefault(person.email, person.username)
    people = list(
        Account.objects.filter(is_active=True)
        .order_by("username")
        .values_list("username", flat=True)
    )
    rows = [(a, suggestions.get(a.external_id, "")) for a in accounts]
    return render(
        request,
        "accesslogs/accounts.html",
        {
            "system": system,
            "rows": rows,
            "people": people,
            "can_map": signed_in(request).may(_WRITE),
            "unknown": sum(1 for a in accounts if a.account_id is None and a.searches),
            "mappings_form": AccountMappingsForm(),
        },
    )


@requires(_WRITE)
@require_POST
def account_mappings_upload(request: HttpRequest, code: str) -> HttpResponse:
    """Map many external accounts from a CSV file: all or nothing, every problem listed."""
    system = _system(code)
    form = AccountMappingsForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(str(e) for e in errors))
        return redirect("accesslogs:accounts", code=system.code)
    rows, problems = parse_account_mappings(form.cleaned_data["file"])
    if not problems:
        try:
            mapped = actions.do_map_external_accounts(
                system.code, rows, actor=actor_from_request(request)
            )
        except ValidationError as exc:
            problems = [str(m) for m in exc.messages]
        else:
            messages.success(request, f"{mapped} account{'' if mapped == 1 else 's'} mapped.")
    if problems:
        messages.error(request, "Nothing was mapped: " + "; ".join(problems))
    return redirect("accesslogs:accounts", code=system.code)


@requires(_WRITE)
@require_POST
def account_map(request: HttpRequest, pk: int) -> HttpResponse:
    """Map an external account to a person."""
    external = get_object_or_404(ExternalAccount.objects.select_related("system"), pk=pk)
    form = AccountMapForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a person to map the account to.")
    else:
        try:
            actions.do_map_external_account(
                external.pk, form.cleaned_data["account"].pk, actor=actor_from_request(request)
            )
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(
                request, f"{external.external_id} is mapped to {form.cleaned_data['account']}."
            )
    return redirect("accesslogs:accounts", code=external.system.code)


@requires(_WRITE)
@require_POST
def account_unmap(request: HttpRequest, pk: int) -> HttpResponse:
    """Remove an external account's link to a person."""
    external = get_object_or_404(ExternalAccount.objects.select_related("system"), pk=pk)
    try:
        actions.do_unmap_external_account(external.pk, actor=actor_from_request(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{external.external_id} is no longer mapped.")
    return redirect("accesslogs:accounts", code=external.system.code)
