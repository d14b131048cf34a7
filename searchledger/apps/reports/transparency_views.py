"""Pages of the transparency report: the draft computed live (for roles that see access
counts) with the publish form (administrators), and the public pages of each published
report as HTML, CSV and PDF, open to anyone without signing in."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_POST

from searchledger.apps.reports import transparency
from searchledger.apps.reports.actions import do_publish_transparency_report
from searchledger.apps.reports.forms import PublishReportForm, ReportPeriodForm
from searchledger.apps.reports.models import PublishedReport
from searchledger.apps.reports.pdf import PdfUnavailable, html_to_pdf
from searchledger.apps.web.permissions import actor_from_request, public, requires, signed_in
from searchledger.core.charts import Chart, bar_chart
from searchledger.core.published import (
    PublishedTable,
    ReportMeta,
    cell_value,
    group_tables,
    report_csv,
)
from searchledger.core.roles import Permission
from searchledger.core.transparency import build_report

__all__ = [
    "public_csv",
    "public_detail",
    "public_list",
    "public_pdf",
    "transparency_draft",
    "transparency_publish",
]

SUPPRESSED = "suppressed"


def _notes() -> dict[str, str]:
    """Each table's explanatory note, by title (the titles do not depend on the data)."""
    empty = build_report([], start=date(2000, 1, 1), end=date(2000, 1, 2))
    return {table.title: table.note for table in empty.tables}


def _chart(
    chart_id: str,
    title: str,
    table: PublishedTable | None,
    *,
    x_label: str,
    column: str = "",
    row: str = "",
) -> SafeString:
    """A bar chart of one column (or one row) of a published table; suppressed cells are
    drawn as gaps marked "suppressed", never as a number."""
    labels: list[str] = []
    cells: list[str] = []
    if table is not None and column:
        labels, cells = table.column(column)
    elif table is not None and row and any(label == row for label, _ in table.rows):
        labels, cells = table.row(row)
    chart = Chart(
        chart_id=chart_id,
        title=title,
        description=f"{title}, as published.",
        x_label=x_label,
        y_label="Count",
        labels=labels,
        values=[cell_value(cell) for cell in cells],
        missing_label=SUPPRESSED,
    )
    # bar_chart escapes every string it is given.
    return mark_safe(bar_chart(chart))  # noqa: S308


def report_context(
    rows: list[list[str]] | list[tuple[str, str, str, str]], meta: ReportMeta
) -> dict[str, Any]:
    """What the report's body template needs, from the published cells alone."""
    tables = group_tables(rows)
    by_title = {t.title: t for t in tables}
    notes = _notes()
    systems = by_title.get("Systems, people with access and searches")
    outcomes = by_title.get("Searches by system and outcome")
    return {
        "meta": meta,
        "tables": [(t, notes.get(t.title, "")) for t in tables],
        "suppressed_word": SUPPRESSED,
        "charts": [
            _chart(
                "chart-searches",
                "Searches by system",
                systems,
                x_label="System",
                column="Searches",
            ),
            _chart(
                "chart-people",
                "People with access by system",
                systems,
                x_label="System",
                column="People with access",
            ),
            _chart(
                "chart-outcomes",
                "Searches by outcome",
                outcomes,
                x_label="Outcome",
                row="Total",
            ),
        ],
    }


def _default_period() -> tuple[date, date]:
    today = timezone.localdate()
    return today.replace(month=1, day=1), today


@requires(Permission.VIEW_ACCESS_COUNTS)
@require_GET
def transparency_draft(request: HttpRequest) -> HttpResponse:
    """The report for a period and threshold, computed live from the whole ledger, as it
    would be published; administrators publish it from here."""
    first, last = _default_period()
    form = ReportPeriodForm(request.GET or {"start": first, "end": last, "threshold": 5})
    context: dict[str, Any] = {"form": form, "published": transparency.list_published()[:10]}
    if form.is_valid():
        data = form.cleaned_data
        live = transparency.compute_report(data["start"], data["end"], data["threshold"])
        meta = ReportMeta(
            first_day=data["start"],
            last_day=data["end"],
            time_zone=transparency.report_zone(),
            threshold=data["threshold"],
            checkpoint_size=live.size,
            checkpoint_root=live.root,
        )
        context.update(report_context(live.report.rows(), meta))
        context["draft"] = True
        if signed_in(request).may(Permission.PUBLISH_REPORTS):
            context["publish_form"] = PublishReportForm(initial=data, prefix="publish")
    return render(request, "reports/transparency_draft.html", context)


@requires(Permission.PUBLISH_REPORTS)
@require_POST
def transparency_publish(request: HttpRequest) -> HttpResponse:
    """Publish the report for the period and threshold posted."""
    form = PublishReportForm(request.POST, prefix="publish")
    if form.is_valid():
        data = form.cleaned_data
        try:
            published = do_publish_transparency_report(
                data["start"],
                data["end"],
                data["threshold"],
                agency_title=data["agency_title"],
                actor=actor_from_request(request),
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(
                request,
                f"Published: computed from checkpoint {published.checkpoint_size}.",
            )
            return redirect("transparency:detail", pk=published.pk)
    return render(
        request,
        "reports/transparency_draft.html",
        {"form": ReportPeriodForm(), "publish_form": form, "publish_failed": True},
        status=400,
    )


def _published(pk: int) -> PublishedReport:
    found = transparency.list_published().filter(pk=pk).first()
    if found is None:
        raise Http404("no such published report")
    return found


@public
@require_GET
def public_list(request: HttpRequest) -> HttpResponse:
    """Every published transparency report, newest first."""
    return render(
        request, "reports/transparency_list.html", {"reports": transparency.list_published()}
    )


def _detail_context(published: PublishedReport) -> dict[str, Any]:
    return {"report": published, **report_context(published.rows, published.meta)}


@public
@require_GET
def public_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One published report as a page."""
    return render(request, "reports/transparency_detail.html", _detail_context(_published(pk)))


def _file_name(published: PublishedReport, suffix: str) -> str:
    return f"transparency-{published.period_start}-{published.period_end}.{suffix}"


@public
@require_GET
def public_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """One published report as CSV (``table,row,column,value``): the bytes whose SHA-256
    the ledger recorded."""
    published = _published(pk)
    response = HttpResponse(
        report_csv(published.meta, published.rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{_file_name(published, "csv")}"'
    return response


@public
@require_GET
def public_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """One published report as PDF, with the same tables and charts as the page; 503 with
    a reason when this server cannot render PDF."""
    published = _published(pk)
    html = render_to_string("reports/transparency_pdf.html", _detail_context(published))
    try:
        pdf = html_to_pdf(html)
    except PdfUnavailable as exc:
        return HttpResponse(f"{exc}\n", status=503, content_type="text/plain; charset=utf-8")
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{_file_name(published, "pdf")}"'
    return response
