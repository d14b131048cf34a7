"""The bulk import page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from searchledger.apps.bulk.actions import do_bulk_import
from searchledger.apps.bulk.forms import ImportForm
from searchledger.apps.bulk.parsing import KINDS, describe
from searchledger.apps.web.permissions import actor_from_request, requires
from searchledger.core.roles import Permission

__all__ = ["bulk_import"]


@requires(Permission.BULK_IMPORT)
@require_http_methods(["GET", "POST"])
def bulk_import(request: HttpRequest) -> HttpResponse:
    """Upload people, grants or training completions; every bad row is reported with its
    line number and nothing is imported until the file is clean."""
    form = ImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        report = do_bulk_import(
            form.cleaned_data["kind"],
            form.cleaned_data["file"],
            dry_run=form.cleaned_data["dry_run"],
            actor=actor_from_request(request),
            filename=form.filename,
        )
    return render(
        request,
        "bulk/import.html",
        {
            "form": form,
            "report": report,
            "specs": [(kind, describe(spec)) for kind, spec in KINDS.items()],
        },
    )
