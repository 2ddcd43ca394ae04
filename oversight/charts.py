"""Charts as server-side SVG: no JavaScript, no network, no inline styles (the CSP forbids them).

Colours are SVG presentation attributes, which the style-src policy does not cover. Each chart has
a <title> and <desc> for screen readers; the page shows the same numbers in a table next to it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from xml.sax.saxutils import escape

from markupsafe import Markup

COLOURS = {"red": "#b3261e", "yellow": "#e0a800", "blue": "#1f5fa8", "bar": "#2f6f8f"}
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 640, 260, 48, 40, 16
LEGEND_HEIGHT = 22


def _svg(key: str, title: str, desc: str, body: list[str], height: int = HEIGHT) -> Markup:
    # Every piece of text in `body` went through `escape`, so the whole is safe markup.
    return Markup(  # noqa: S704
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{key}-t {key}-d" focusable="false">'
        f'<title id="{key}-t">{escape(title)}</title>'
        f'<desc id="{key}-d">{escape(desc)}</desc>{"".join(body)}</svg>'
    )


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    return math.ceil(value / magnitude) * magnitude


def stacked_bars(
    key: str,
    title: str,
    labels: Sequence[str],
    series: dict[str, Sequence[int]],
    desc: str,
    names: dict[str, str] | None = None,
    axis: Sequence[tuple[str, str]] = (),
) -> Markup:
    """Vertical bars per label, stacked by series (e.g. warnings per month by level); `names`
    gives each series' name for the reader, its key picks the colour. With names, a legend under
    the labels says which colour is which (a tooltip alone is no legend on a phone or paper).
    `axis`, where given, is what stands under each bar instead of its label, in two lines (a
    short month, and its year where it changes): the label itself stays in the tooltip."""
    totals = [sum(values[i] for values in series.values()) for i in range(len(labels))]
    top = _nice_max(max(totals, default=0))
    plot_h = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT) / max(len(labels), 1)
    axis_y = TOP + plot_h
    body = [
        f'<line x1="{LEFT}" y1="{axis_y}" x2="{WIDTH}" y2="{axis_y}" stroke="#5b6878"/>',
        f'<text x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end" font-size="11">{top:g}</text>',
        f'<text x="{LEFT - 6}" y="{TOP + plot_h}" text-anchor="end" font-size="11">0</text>',
    ]
    y: float  # bars stack up from the axis in fractions of a pixel
    for i, label in enumerate(labels):
        x, y = LEFT + i * slot + slot * 0.15, TOP + plot_h
        for name, values in series.items():
            h = plot_h * values[i] / top
            y -= h
            fill = COLOURS.get(name, COLOURS["bar"])
            body.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
                f'fill="{fill}"><title>{escape(label)} {escape((names or {}).get(name, name))}: '
                f"{values[i]}</title></rect>"
            )
        under, second = axis[i] if axis else (label, "")
        body.append(
            f'<text x="{x + slot * 0.35:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" '
            f'font-size="11">{escape(under)}</text>'
        )
        if second:
            body.append(
                f'<text x="{x + slot * 0.35:.1f}" y="{HEIGHT - BOTTOM + 30}" '
                f'text-anchor="middle" font-size="10">{escape(second)}</text>'
            )
    if not names:
        return _svg(key, title, desc, body)
    body += _legend([(COLOURS.get(name, COLOURS["bar"]), names.get(name, name)) for name in series])
    return _svg(key, title, desc, body, HEIGHT + LEGEND_HEIGHT)


def _legend(entries: list[tuple[str, str]]) -> list[str]:
    """A row of colour swatches with their names, below the chart's own height."""
    body, x, y = [], LEFT, HEIGHT + 4
    for colour, name in entries:
        body.append(f'<rect x="{x}" y="{y}" width="12" height="12" fill="{colour}"/>')
        body.append(f'<text x="{x + 18}" y="{y + 11}" font-size="12">{escape(name)}</text>')
        x += 110
    return body


def percent_bars(
    key: str, title: str, labels: Sequence[str], values: Sequence[float], desc: str
) -> Markup:
    """Horizontal bars of rates in 0..1; a missing rate (NaN) is drawn as "—", not as 0."""
    row_h = 28
    height = TOP + row_h * max(len(labels), 1) + 8
    label_w = 180
    plot_w = WIDTH - label_w - 60
    body = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = TOP + i * row_h
        body.append(
            f'<text x="{label_w - 6}" y="{y + 17}" text-anchor="end" font-size="12">'
            f"{escape(label)}</text>"
        )
        if value is None or (isinstance(value, float) and math.isnan(value)):
            shown = "—"
        else:
            shown = f"{value:.0%}"
            w = plot_w * max(0.0, min(1.0, value))
            body.append(
                f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="18" '
                f'fill="{COLOURS["bar"]}"/>'
            )
        body.append(f'<text x="{label_w + plot_w + 8}" y="{y + 17}" font-size="12">{shown}</text>')
    return _svg(key, title, desc, body, height)


def trend_line(
    key: str,
    title: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    desc: str,
    *,
    marked: Sequence[bool] = (),
    marked_name: str = "",
    top: float | None = None,
) -> Markup:
    """One score over time (a student's results on one instrument, oldest first): a line through
    the points, points in `marked` (a reliable worsening) drawn larger in red and named
    `marked_name` in their tooltip. A missing value leaves a gap. `top` is the scale's maximum
    (the instrument's highest score), else the data's."""
    known = [v for v in values if v is not None]
    top = top or _nice_max(max(known, default=0))
    plot_h = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT - 16) / max(len(values) - 1, 1)
    axis_y = TOP + plot_h
    body = [
        f'<line x1="{LEFT}" y1="{axis_y}" x2="{WIDTH}" y2="{axis_y}" stroke="#5b6878"/>',
        f'<text x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end" font-size="11">{top:g}</text>',
        f'<text x="{LEFT - 6}" y="{TOP + plot_h}" text-anchor="end" font-size="11">0</text>',
    ]
    points: list[tuple[float, float]] = []
    # At most about ten dates under the axis, however long the history.
    every = max(1, math.ceil(len(labels) / 10))
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = LEFT + 8 + i * slot
        last = i == len(labels) - 1
        if i % every == 0 or last:
            # The last date ends at the right edge instead of running off it.
            anchor = "end" if last and i else "middle"
            body.append(
                f'<text x="{x + (8 if anchor == "end" else 0):.1f}" y="{HEIGHT - BOTTOM + 16}" '
                f'text-anchor="{anchor}" font-size="10">{escape(label)}</text>'
            )
        if value is None:
            points.append((x, math.nan))
            continue
        points.append((x, TOP + plot_h * (1 - min(value, top) / top)))
    run: list[str] = []
    for x, y in [*points, (0.0, math.nan)]:
        if math.isnan(y):
            if len(run) > 1:
                body.append(
                    f'<polyline points="{" ".join(run)}" fill="none" '
                    f'stroke="{COLOURS["bar"]}" stroke-width="2"/>'
                )
            run = []
        else:
            run.append(f"{x:.1f},{y:.1f}")
    flags = list(marked) + [False] * (len(values) - len(marked))
    for (x, y), label, value, flag in zip(points, labels, values, flags, strict=True):
        if value is None:
            continue
        fill, radius = (COLOURS["red"], 6) if flag else (COLOURS["bar"], 3.5)
        note = f" · {escape(marked_name)}" if flag else ""
        body.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius}" fill="{fill}">'
            f"<title>{escape(label)}: {value:g}{note}</title></circle>"
        )
    return _svg(key, title, desc, body)
