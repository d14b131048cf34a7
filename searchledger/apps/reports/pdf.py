"""HTML to PDF with WeasyPrint, which draws the report's inline SVG charts as they appear
on the page. WeasyPrint needs the Pango library of the operating system; when it cannot be
loaded, :class:`PdfUnavailable` says so and the page answers 503 instead of failing."""

from __future__ import annotations

__all__ = ["PdfUnavailable", "html_to_pdf"]


class PdfUnavailable(RuntimeError):
    """WeasyPrint (or the Pango library it needs) cannot be loaded on this server."""


def html_to_pdf(html: str) -> bytes:
    """The PDF of a self-contained HTML document (no external stylesheets or images)."""
    try:
        import weasyprint  # noqa: PLC0415  # loaded on first use: it opens Pango via cffi
    except (ImportError, OSError) as exc:
        raise PdfUnavailable(
            "PDF rendering is not available on this server: WeasyPrint or the Pango "
            f"library it needs cannot be loaded ({exc}). Install libpango-1.0-0 and "
            "libpangoft2-1.0-0, or use the HTML or CSV version of this report."
        ) from exc
    return bytes(weasyprint.HTML(string=html).write_pdf())
