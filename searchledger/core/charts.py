"""Charts drawn as SVG text on the server, with no script: a bar chart and a line chart.

The same SVG goes into a page and into its PDF (WeasyPrint draws SVG), so a figure looks the
same in both. Each chart is an ``<svg role="img">`` labelled by its ``<title>`` and
``<desc>``; the description lists every value, so a screen reader gets the data, not the
shape. A value of ``None`` is a figure that is not shown (suppressed, or no data): it is
drawn as a gap with the word given as ``missing_label`` and never as zero.

Every string is escaped; the caller gives plain text.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

__all__ = ["Chart", "bar_chart", "line_chart", "nice_axis"]

_WIDTH = 640
_HEIGHT = 260
_LEFT = 56
_RIGHT = 16
_TOP = 36
_BOTTOM = 72
_TICKS = 4
_UPRIGHT_LABELS = 6
_FONT = 'font-family="Source Sans Pro, Helvetica, Arial, sans-serif" font-size="12"'
_INK = "#1b1b1b"
_GRID = "#dfe1e2"
_BAR = "#005ea2"
_LINE = "#005ea2"
_MISSING = "#71767a"


@dataclass(frozen=True)
class Chart:
    """What a chart shows: its title, a one-sentence description, the axis labels, the
    category labels along the x axis and one value (or None) per label."""

    chart_id: str
    title: str
    description: str
    x_label: str
    y_label: str
    labels: Sequence[str]
    values: Sequence[float | None]
    # The y axis's top: None to fit the data; 1.0 for shares drawn as percentages.
    y_max: float | None = None
    percent: bool = False
    missing_label: str = "not shown"


def nice_axis(value: float, *, whole: bool = True) -> tuple[float, int]:
    """The top of the y axis and its number of intervals for data up to ``value``: a step
    of 1, 2 or 5 times a power of ten (at least 1 for ``whole`` counts), about four steps,
    so that every tick is a round number."""
    if value <= 0:
        return 1.0, 1 if whole else 4
    rough = value / _TICKS
    power = 10 ** math.floor(math.log10(rough))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= rough)
    if whole:
        step = max(step, 1)
    intervals = max(math.ceil(value / step - 1e-9), 1)
    return float(step * intervals), intervals


def _number(value: float, percent: bool) -> str:
    if percent:
        return f"{value * 100:.0f}%"
    return f"{value:g}" if value != int(value) else f"{int(value)}"


def _check(chart: Chart) -> None:
    if len(chart.labels) != len(chart.values):
        raise ValueError(f"{len(chart.labels)} labels for {len(chart.values)} values")
    if not chart.chart_id.replace("-", "").replace("_", "").isalnum():
        raise ValueError(f"chart id {chart.chart_id!r} must be letters, digits, - and _")
    for value in chart.values:
        if value is not None and (value < 0 or math.isnan(value) or math.isinf(value)):
            raise ValueError(f"chart values must be finite and not negative, got {value!r}")


def _frame(chart: Chart, top: float, ticks: int) -> list[str]:
    """The opening tag, title, description, grid, y ticks and axis labels."""
    ident = escape(chart.chart_id)
    values = "; ".join(
        f"{label}: {chart.missing_label if value is None else _number(value, chart.percent)}"
        for label, value in zip(chart.labels, chart.values, strict=True)
    )
    desc = f"{chart.description} {values}." if values else f"{chart.description} No data."
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="sl-chart" '
        f'viewBox="0 0 {_WIDTH} {_HEIGHT}" width="100%" '
        f'aria-labelledby="{ident}-title {ident}-desc">',
        f'<title id="{ident}-title">{escape(chart.title)}</title>',
        f'<desc id="{ident}-desc">{escape(desc)}</desc>',
        f'<g {_FONT} fill="{_INK}">',
        # The title drawn for sighted readers (role="img" hides it from screen readers,
        # which read <title> and <desc>).
        f'<text x="{_LEFT}" y="16" font-size="14" font-weight="bold">{escape(chart.title)}</text>',
    ]
    plot_h = _HEIGHT - _TOP - _BOTTOM
    for tick in range(ticks + 1):
        value = top * tick / ticks
        y = _TOP + plot_h - plot_h * tick / ticks
        parts.append(
            f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{_WIDTH - _RIGHT}" y2="{y:.1f}" '
            f'stroke="{_GRID}" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(_number(value, chart.percent))}</text>"
        )
    parts.append(
        f'<text x="14" y="{_TOP + plot_h / 2:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 14 {_TOP + plot_h / 2:.1f})">{escape(chart.y_label)}</text>'
    )
    parts.append(
        f'<text x="{_LEFT + (_WIDTH - _LEFT - _RIGHT) / 2:.1f}" y="{_HEIGHT - 6}" '
        f'text-anchor="middle">{escape(chart.x_label)}</text>'
    )
    return parts


def _top(chart: Chart) -> tuple[float, int]:
    if chart.y_max is not None:
        return chart.y_max, _TICKS
    highest = max((v for v in chart.values if v is not None), default=0.0)
    return nice_axis(highest, whole=not chart.percent)


def _x_labels(chart: Chart, centres: list[float]) -> list[str]:
    """The category labels under the axis, slanted when there are many so they never
    overlap (a year of months)."""
    base = _HEIGHT - _BOTTOM
    slant = len(chart.labels) > _UPRIGHT_LABELS
    out = []
    for x, label in zip(centres, chart.labels, strict=True):
        y = base + 16
        if slant:
            out.append(
                f'<text x="{x:.1f}" y="{y}" text-anchor="end" '
                f'transform="rotate(-35 {x:.1f} {y})">{escape(label)}</text>'
            )
        else:
            out.append(f'<text x="{x:.1f}" y="{y}" text-anchor="middle">{escape(label)}</text>')
    return out


def bar_chart(chart: Chart) -> str:
    """A vertical bar per label; a value of None is drawn as a labelled gap."""
    _check(chart)
    top, ticks = _top(chart)
    parts = _frame(chart, top, ticks)
    plot_w = _WIDTH - _LEFT - _RIGHT
    plot_h = _HEIGHT - _TOP - _BOTTOM
    count = max(len(chart.values), 1)
    slot = plot_w / count
    bar_w = max(slot * 0.6, 1.0)
    centres = [_LEFT + slot * (i + 0.5) for i in range(len(chart.values))]
    base = _TOP + plot_h
    for x, value, label in zip(centres, chart.values, chart.labels, strict=True):
        if value is None:
            parts.append(
                f'<text x="{x:.1f}" y="{base - 4}" text-anchor="middle" fill="{_MISSING}" '
                f'font-style="italic">{escape(chart.missing_label)}</text>'
            )
            continue
        height = plot_h * min(value / top, 1.0)
        parts.append(
            f'<rect x="{x - bar_w / 2:.1f}" y="{base - height:.1f}" width="{bar_w:.1f}" '
            f'height="{height:.1f}" fill="{_BAR}"><title>{escape(label)}: '
            f"{escape(_number(value, chart.percent))}</title></rect>"
        )
    parts.extend(_x_labels(chart, centres))
    parts.append(
        f'<line x1="{_LEFT}" y1="{base}" x2="{_WIDTH - _RIGHT}" y2="{base}" '
        f'stroke="{_INK}" stroke-width="1"/>'
    )
    parts.append("</g></svg>")
    return "".join(parts)


def line_chart(chart: Chart) -> str:
    """A line through the values with a dot on each; None breaks the line."""
    _check(chart)
    top, ticks = _top(chart)
    parts = _frame(chart, top, ticks)
    plot_w = _WIDTH - _LEFT - _RIGHT
    plot_h = _HEIGHT - _TOP - _BOTTOM
    count = max(len(chart.values), 1)
    slot = plot_w / count
    centres = [_LEFT + slot * (i + 0.5) for i in range(len(chart.values))]
    base = _TOP + plot_h
    run: list[str] = []
    runs: list[list[str]] = []
    for x, value in zip(centres, chart.values, strict=True):
        if value is None:
            if run:
                runs.append(run)
            run = []
            parts.append(
                f'<text x="{x:.1f}" y="{base - 4}" text-anchor="middle" fill="{_MISSING}" '
                f'font-style="italic">{escape(chart.missing_label)}</text>'
            )
            continue
        y = base - plot_h * min(value / top, 1.0)
        run.append(f"{x:.1f},{y:.1f}")
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{_LINE}"/>')
    if run:
        runs.append(run)
    for points in runs:
        if len(points) > 1:
            parts.append(
                f'<polyline points="{" ".join(points)}" fill="none" stroke="{_LINE}" '
                'stroke-width="2"/>'
            )
    parts.extend(_x_labels(chart, centres))
    parts.append(
        f'<line x1="{_LEFT}" y1="{base}" x2="{_WIDTH - _RIGHT}" y2="{base}" '
        f'stroke="{_INK}" stroke-width="1"/>'
    )
    parts.append("</g></svg>")
    return "".join(parts)
