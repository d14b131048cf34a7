"""The SVG charts (``core.charts``): well-formed SVG, labelled for screen readers, values
drawn to scale, missing values drawn as gaps and never as zero, every string escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from searchledger.core.charts import Chart, bar_chart, line_chart, nice_axis

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    """Our own output, parsed to check it is well-formed XML."""
    return ET.fromstring(svg)  # noqa: S314  # the chart module's output, not untrusted input


def chart(**change: object) -> Chart:
    values: dict[str, object] = {
        "chart_id": "c1",
        "title": "Searches per month",
        "description": "Searches requested each month.",
        "x_label": "Month",
        "y_label": "Searches",
        "labels": ["Jan", "Feb", "Mar"],
        "values": [10.0, None, 5.0],
        "missing_label": "suppressed",
    }
    values.update(change)
    return Chart(**values)  # type: ignore[arg-type]  # the test's keyword overrides


@pytest.mark.parametrize("draw", [bar_chart, line_chart])
def test_a_chart_is_labelled_svg_that_lists_its_values(draw):
    root = parse(draw(chart()))
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "c1-title c1-desc"
    assert root.findtext(f"{SVG}title", default="") == "Searches per month"
    desc = root.findtext(f"{SVG}desc", default="")
    assert desc == "Searches requested each month. Jan: 10; Feb: suppressed; Mar: 5."
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert {"Searches per month", "Month", "Searches", "Jan", "Feb", "Mar", "suppressed"} <= set(
        texts
    )
    assert not root.findall(f".//{SVG}script")


def test_bars_are_drawn_to_scale_and_a_missing_value_is_no_bar():
    root = parse(bar_chart(chart()))
    bars = root.findall(f".//{SVG}rect")
    assert len(bars) == 2  # Feb is missing: no bar, not a zero-height one
    heights = [float(b.get("height", "")) for b in bars]
    assert heights[0] == pytest.approx(2 * heights[1])
    assert [b.findtext(f"{SVG}title", default="") for b in bars] == ["Jan: 10", "Mar: 5"]


def test_a_line_breaks_at_a_missing_value():
    root = parse(line_chart(chart(values=[0.5, None, 0.25, 1.0], labels=list("abcd"))))
    assert len(root.findall(f".//{SVG}circle")) == 3
    lines = root.findall(f".//{SVG}polyline")
    assert len(lines) == 1  # c-d; a stands alone
    assert len(lines[0].get("points", "").split()) == 2


def test_shares_are_drawn_as_percentages():
    svg = line_chart(chart(values=[0.5, 1.0, None], y_max=1.0, percent=True))
    root = parse(svg)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "100%" in texts
    assert "Jan: 50%" in root.findtext(f"{SVG}desc", default="")


def test_every_string_is_escaped():
    svg = bar_chart(chart(title="<script>alert(1)</script>", labels=["a&b", "<c>", '"d"']))
    assert "<script>" not in svg
    root = parse(svg)
    assert root.findtext(f"{SVG}title", default="") == "<script>alert(1)</script>"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"values": [1.0]}, "3 labels for 1 values"),
        ({"values": [1.0, -1.0, 2.0]}, "not negative"),
        ({"values": [1.0, float("nan"), 2.0]}, "finite"),
        ({"chart_id": 'x" onload="y'}, "chart id"),
    ],
)
def test_bad_input_is_refused(change, message):
    with pytest.raises(ValueError, match=message):
        bar_chart(chart(**change))


def test_no_data_draws_an_empty_chart():
    root = parse(bar_chart(chart(labels=[], values=[])))
    assert root.findtext(f"{SVG}desc", default="").endswith("No data.")
    assert not root.findall(f".//{SVG}rect")


@pytest.mark.parametrize(
    ("value", "axis"),
    [(0, (1, 1)), (1, (1, 1)), (3, (3, 3)), (7, (8, 4)), (11, (15, 3)), (33, (40, 4)),
     (240, (300, 3)), (1001, (1500, 3))],
)  # fmt: skip
def test_the_axis_ticks_fall_on_round_whole_numbers(value, axis):
    top, intervals = nice_axis(value)
    assert (top, intervals) == axis
    assert (top / intervals).is_integer()
    assert top >= value


def test_shares_get_fractional_steps():
    assert nice_axis(0.3, whole=False) == pytest.approx((0.3, 3))
