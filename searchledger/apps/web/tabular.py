"""Tabular downloads (CSV streamed, or an XLSX workbook) of rows whose text cells are
neutralised so a spreadsheet never runs one as a formula. Shared by every export page."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TypeVar

from django.http import HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from openpyxl import Workbook

from searchledger.core.audit_formats import neutralise

__all__ = ["FORMATS", "Column", "export_response", "neutralised_rows"]

T = TypeVar("T")
Column = tuple[str, Callable[[T], object]]
FORMATS = ("csv", "xlsx")
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class _Echo:
    """A file-like object whose ``write`` returns what it was given, for streaming CSV."""

    def write(self, value: str) -> str:
        return value


def neutralised_rows(
    chunks: Iterable[Iterable[T]], columns: Sequence[Column[T]]
) -> Iterator[list[object]]:
    """Each object of each chunk as a row of ``columns``, every cell neutralised."""
    for chunk in chunks:
        for item in chunk:
            yield [neutralise(value(item)) for _, value in columns]


def _csv(header: list[str], rows: Iterator[list[object]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow(row)


def export_response(
    fmt: str, stem: str, header: list[str], rows: Iterator[list[object]], *, sheet: str
) -> HttpResponseBase:
    """The rows as a download named ``stem.csv`` (streamed) or ``stem.xlsx``."""
    if fmt == "xlsx":
        book = Workbook(write_only=True)
        worksheet = book.create_sheet(sheet[:31])
        worksheet.append(header)
        for row in rows:
            worksheet.append(row)
        buffer = io.BytesIO()
        book.save(buffer)
        response: HttpResponseBase = HttpResponse(buffer.getvalue(), content_type=_XLSX)
    else:
        response = StreamingHttpResponse(_csv(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{stem}.{fmt}"'
    return response
