"""Pages for reports: the audit trail for other tools."""

from __future__ import annotations

import io

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render

from searchledger.apps.ledger import selectors as ledger_selectors
from searchledger.apps.reports.audit import AuditFormat, AuditRange, lines, write_audit
from searchledger.apps.web.permissions import requires
from searchledger.core.roles import Permission

__all__ = ["audit_export", "audit_trail"]


@requires(Permission.VIEW_LEDGER)
def audit_trail(request: HttpRequest) -> HttpResponse:
    """The audit-trail exports on offer, and how to send the trail to a SIEM."""
    size, _ = ledger_selectors.get_tree_head()
    return render(
        request,
        "reports/audit_trail.html",
        {"size": size, "formats": list(AuditFormat)},
    )


def _bound(request: HttpRequest, name: str) -> int | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise ValueError(f"{name} must be an entry number (0 or more), not {raw[:40]!r}")
    return int(raw)


@requires(Permission.VIEW_LEDGER)
def audit_export(request: HttpRequest) -> HttpResponseBase:
    """The audit trail (``?format=csv|xlsx|ocsf|syslog``, optional ``since`` and ``until``
    entry numbers) as a download."""
    try:
        fmt = AuditFormat(request.GET.get("format", "csv"))
    except ValueError:
        return HttpResponseBadRequest(
            f"format must be one of {', '.join(AuditFormat)}\n", content_type="text/plain"
        )
    try:
        since, until = _bound(request, "since"), _bound(request, "until")
    except ValueError as exc:
        return HttpResponseBadRequest(f"{exc}\n", content_type="text/plain")
    window = AuditRange(since or 0, until)
    name = f"searchledger-audit-{window.since}-{'end' if until is None else until}.{fmt.suffix}"
    if fmt is AuditFormat.XLSX:
        buffer = io.BytesIO()
        write_audit(fmt, window, buffer)
        response: HttpResponseBase = HttpResponse(buffer.getvalue(), content_type=fmt.content_type)
    else:
        response = StreamingHttpResponse(lines(fmt, window), content_type=fmt.content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response
