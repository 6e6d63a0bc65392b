"""The SVG charts: readable without colour (dash pattern and marker per series, named in
the description), escaped text, gaps for missing values, no markers on dense lines."""

from __future__ import annotations

from koastops.quality import charts


def test_series_differ_by_dash_and_marker_and_the_desc_names_them():
    svg = charts.line_chart(
        title="T",
        description="D.",
        labels=["a", "b", "c"],
        series=[charts.Series("Browser", [1, 2, 3]), charts.Series("Server", [3, 2, 1])],
    )
    assert svg.startswith('<svg class="chart"') and 'role="img"' in svg
    assert "<title" in svg and "Browser: solid line with circles" in svg
    assert "Server: dashed line with squares" in svg
    assert 'stroke-dasharray="6 3"' in svg and "<circle" in svg and "<rect" in svg


def test_text_is_escaped():
    svg = charts.line_chart(
        title="<b>", description="<script>", labels=["<x>"], series=[charts.Series("<s>", [1])]
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "<b>" not in svg


def test_none_breaks_the_line_and_dense_series_have_no_markers():
    d, points = charts.path_data([1, None, 2, 3], top=4)
    assert d.count("M") == 2 and len(points) == 3
    svg = charts.line_chart(
        title="Dense",
        description="",
        labels=[str(i) for i in range(200)],
        series=[charts.Series("x", list(range(200)))],
    )
    assert "<circle" not in svg


def test_nice_max():
    assert charts.nice_max(0) == 1
    assert charts.nice_max(7) == 10
    assert charts.nice_max(130) == 200
    assert charts.nice_max(4900) == 5000
    assert charts.nice_max(0.4) == 1


def test_the_legend_names_markers_only_when_drawn():
    series = [charts.Series("a", [1, 2]), charts.Series("b", [2, 1])]
    assert charts.legend(series, points=2)[1]["marker"] == "squares"
    assert charts.legend(series, points=500)[1]["marker"] == ""
    svg = charts.line_chart(title="D", description="", labels=["x"] * 100, series=series)
    assert "a: solid line;" in svg and "with circles" not in svg
