"""The dashboard page: per system and month, the figures of ``reports.dashboard`` for the
viewer's scope, filtered by unit, system and months (htmx replaces the figures in place),
with server-drawn SVG charts; every figure links to the records behind it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET

from searchledger.apps.reports.dashboard import Dashboard, DashboardFilters, build_dashboard
from searchledger.apps.reports.forms import DashboardFilterForm
from searchledger.apps.web.permissions import actor_from_request, requires, signed_in
from searchledger.core.charts import Chart, bar_chart, line_chart
from searchledger.core.roles import Permission

__all__ = ["dashboard"]


def _month_end(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def _filters(form: DashboardFilterForm, today: date) -> DashboardFilters:
    """The valid filters; the default period is the last 12 months to this one."""
    data = form.cleaned_data if form.is_valid() else {}
    last = data.get("last_month") or today.replace(day=1)
    first = data.get("first_month") or (last - timedelta(days=335)).replace(day=1)
    return DashboardFilters(
        first_month=first, last_month=last, unit=data.get("unit"), system=data.get("system")
    )


def _searches_url(system: str, month: date | None, filters: DashboardFilters, **extra: str) -> str:
    first = month or filters.first_month
    last = _month_end(month or filters.last_month)
    query = {"requested_from": first.isoformat(), "requested_to": last.isoformat(), **extra}
    if system:
        query["system"] = system
    return f"{reverse('searches:unit')}?{urlencode(query)}"


def _findings_url(system: str, **extra: str) -> str:
    return f"{reverse('findings:list')}?{urlencode({'system': system, **extra})}"


def _charts(board: Dashboard) -> list[SafeString]:
    totals = board.monthly_totals()
    labels = [month.strftime("%b %Y") for month, *_ in totals]
    scope = board.filters.system.name if board.filters.system else "every system"
    charts = [
        bar_chart(
            Chart(
                chart_id="dash-searches",
                title=f"Searches per month, {scope}",
                description="Search records requested each month.",
                x_label="Month requested",
                y_label="Searches",
                labels=labels,
                values=[float(total) for _, total, *_ in totals],
            )
        ),
        line_chart(
            Chart(
                chart_id="dash-documented",
                title=f"Share of searches fully documented, {scope}",
                description="Of the searches authorised to run, the share whose outcome "
                "is documented, by month requested.",
                x_label="Month requested",
                y_label="Documented",
                labels=labels,
                values=[documented.ratio for _, _, documented, _, _ in totals],
                y_max=1.0,
                percent=True,
                missing_label="none",
            )
        ),
        line_chart(
            Chart(
                chart_id="dash-reviewed",
                title=f"Share of documented searches reviewed, {scope}",
                description="Of the documented searches, the share reviewed in a review "
                "campaign, by month requested.",
                x_label="Month requested",
                y_label="Reviewed",
                labels=labels,
                values=[reviewed.ratio for *_, reviewed in totals],
                y_max=1.0,
                percent=True,
                missing_label="none",
            )
        ),
    ]
    # The chart module escapes every string it is given.
    return [mark_safe(svg) for svg in charts]  # noqa: S308


def _rows(board: Dashboard) -> list[dict[str, Any]]:
    out = []
    for row in board.rows:
        if not (row.searches or row.people):
            continue  # nothing happened: the charts still show the month
        code = row.system.code
        out.append(
            {
                "row": row,
                "searches_url": _searches_url(code, row.month, board.filters),
                "documented_url": _searches_url(
                    code, row.month, board.filters, status="documented"
                ),
            }
        )
    return out


@requires(Permission.VIEW_ACCESS_COUNTS)
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Per system and month: searches, people with access, the shares documented, approved
    in advance and reviewed; per system now: open and overdue findings, lapsed training and
    grants. Supervisors see their units; auditors, oversight and administrators everyone."""
    today = timezone.localdate()
    form = DashboardFilterForm(request.GET or None)
    filters = _filters(form, today)
    board = build_dashboard(actor_from_request(request), filters, today)
    user = signed_in(request)
    context: dict[str, Any] = {
        "form": form,
        "board": board,
        "rows": _rows(board),
        "standings": [
            {
                "standing": standing,
                "open_url": _findings_url(standing.system.code, status="active"),
                "overdue_url": _findings_url(standing.system.code, overdue="on"),
            }
            for standing in board.standings
        ],
        "charts": _charts(board),
        "overview_url": reverse("grants:overview"),
        "all_searches_url": _searches_url(
            filters.system.code if filters.system else "", None, filters
        ),
        "may_review": user.may(Permission.REVIEW_SEARCHES),
    }
    return render(request, "reports/dashboard.html", context)
