"""Small server-rendered SVG line charts, no JavaScript.

Each series is drawn with its own dash pattern and marker shape (and a legend naming
both), so a chart reads without colour; the ``<svg>`` has a ``<title>`` and ``<desc>``
and the page puts the same numbers in a table (``<details>``) beside it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

from django.utils.safestring import SafeString, mark_safe

# (stroke dash array, marker shape, css class) per series, in order.
STYLES: tuple[tuple[str, str, str], ...] = (
    ("", "circle", "series-1"),
    ("6 3", "square", "series-2"),
    ("2 3", "triangle", "series-3"),
    ("8 3 2 3", "diamond", "series-4"),
)
MARKER_NAMES = {
    "circle": "circles",
    "square": "squares",
    "triangle": "triangles",
    "diamond": "diamonds",
}
LINE_NAMES = {
    "": "solid line",
    "6 3": "dashed line",
    "2 3": "dotted line",
    "8 3 2 3": "dash-dot line",
}

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 28
MAX_MARKERS = 60  # more points than this: the line only (markers would merge)


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float | int | Decimal | None]  # None: no value (a gap in the line)


def _fmt(value: float) -> str:
    # One decimal is finer than a pixel; the trailing ".0" is kept (shorter code, and
    # a chart formats thousands of numbers).
    return f"{value:.1f}"


def _marker(shape: str, x: float, y: float) -> str:
    if shape == "circle":
        return f'<circle cx="{_fmt(x)}" cy="{_fmt(y)}" r="3"/>'
    if shape == "square":
        return f'<rect x="{_fmt(x - 3)}" y="{_fmt(y - 3)}" width="6" height="6"/>'
    if shape == "triangle":
        return f'<path d="M{_fmt(x)} {_fmt(y - 4)}L{_fmt(x + 4)} {_fmt(y + 3)}L{_fmt(x - 4)} {_fmt(y + 3)}Z"/>'
    return f'<path d="M{_fmt(x)} {_fmt(y - 4)}L{_fmt(x + 4)} {_fmt(y)}L{_fmt(x)} {_fmt(y + 4)}L{_fmt(x - 4)} {_fmt(y)}Z"/>'


def nice_max(value: float) -> float:
    """The axis top: ``value`` rounded up to 1, 2 or 5 times a power of ten."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1) if value >= 1 else 1
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(10 * magnitude)


def path_data(
    values: Sequence[float | None], *, top: float, width: int = WIDTH, height: int = HEIGHT
) -> tuple[str, list[tuple[float, float]]]:
    """The ``d`` of a line through ``values`` (a ``None`` breaks it) and its points."""
    inner_w, inner_h = width - LEFT - RIGHT, height - TOP - BOTTOM
    n = len(values)
    step = inner_w / (n - 1) if n > 1 else 0
    parts: list[str] = []
    points: list[tuple[float, float]] = []
    pen_down = False
    for index, value in enumerate(values):
        if value is None:
            pen_down = False
            continue
        x = LEFT + index * step if n > 1 else LEFT + inner_w / 2
        y = TOP + inner_h - (float(value) / top) * inner_h if top else TOP + inner_h
        parts.append(f"{'L' if pen_down else 'M'}{_fmt(x)} {_fmt(y)}")
        points.append((x, y))
        pen_down = True
    return "".join(parts), points


def line_chart(
    *,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
    y_max: float | None = None,
    unit: str = "",
) -> SafeString:
    """An accessible SVG line chart of ``series`` over ``labels`` (the x axis)."""
    numbers = [float(v) for s in series for v in s.values if v is not None]
    top = y_max if y_max is not None else nice_max(max(numbers, default=0))
    inner_h = HEIGHT - TOP - BOTTOM
    legend_text = "; ".join(
        f"{item['label']}: {item['line']}{' with ' + item['marker'] if item['marker'] else ''}"
        for item in legend(series, points=len(labels))
    )
    out = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{_id(title)}-t {_id(title)}-d" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{_id(title)}-t">{escape(title)}</title>',
        f'<desc id="{_id(title)}-d">{escape(description)} Legend: {escape(legend_text)}.</desc>',
        '<g class="chart-grid" aria-hidden="true">',
    ]
    for fraction in (0, 0.5, 1):
        y = TOP + inner_h - fraction * inner_h
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_fmt(y)}" y2="{_fmt(y)}"/>'
            f'<text x="{LEFT - 6}" y="{_fmt(y + 4)}" text-anchor="end">'
            f"{top * fraction:g}{escape(unit)}</text>"
        )
    if labels:
        for index in sorted({0, len(labels) // 2, len(labels) - 1}):
            inner_w = WIDTH - LEFT - RIGHT
            x = LEFT + (index * inner_w / (len(labels) - 1) if len(labels) > 1 else inner_w / 2)
            anchor = "start" if index == 0 else "end" if index == len(labels) - 1 else "middle"
            out.append(
                f'<text x="{_fmt(x)}" y="{HEIGHT - 8}" text-anchor="{anchor}">'
                f"{escape(labels[index])}</text>"
            )
    out.append("</g>")
    for index, item in enumerate(series):
        dash, shape, css = STYLES[index % len(STYLES)]
        values = [None if v is None else float(v) for v in item.values]
        d, points = path_data(values, top=top)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<g class="chart-series {css}" aria-hidden="true">')
        if d:
            out.append(f'<path class="chart-line" d="{d}" fill="none"{dash_attr}/>')
        if len(values) <= MAX_MARKERS:
            out.append('<g class="chart-markers">')
            out.extend(_marker(shape, x, y) for x, y in points)
            out.append("</g>")
        out.append("</g>")
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 - every text is escaped above


def legend(series: Sequence[Series], *, points: int = 0) -> list[dict[str, str]]:
    """What the page's legend prints per series: label, css class, line and marker (no
    marker when the chart has more than ``MAX_MARKERS`` points: none are drawn then)."""
    markers = points <= MAX_MARKERS
    return [
        {
            "label": s.label,
            "css": STYLES[i % len(STYLES)][2],
            "line": LINE_NAMES[STYLES[i % len(STYLES)][0]],
            "marker": MARKER_NAMES[STYLES[i % len(STYLES)][1]] if markers else "",
        }
        for i, s in enumerate(series)
    ]


def _id(title: str) -> str:
    return "chart-" + "".join(c if c.isalnum() else "-" for c in title.lower())[:40]
