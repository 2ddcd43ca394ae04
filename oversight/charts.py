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


def _svg(
    key: str, title: str, desc: str, body: list[str], height: int = HEIGHT, width: int = WIDTH
) -> Markup:
    # Every piece of text in `body` went through `escape`, so the whole is safe markup.
    return Markup(  # noqa: S704
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
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


# A student's trend is drawn narrower than a dashboard's chart, so that its words stay readable
# where the page shrinks it (a phone shows it about 350 pixels wide).
TREND_WIDTH, TREND_HEIGHT, TREND_BOTTOM = 480, 240, 50
TREND_FONT = 16
# Room one day's label needs under the axis ("12月6日", "6 Dec"); closer points show fewer.
DAY_LABEL_ROOM = 76


def _labelled_points(count: int, slot: float) -> list[int]:
    """Which points of `count`, `slot` apart, get a day under them: every one where there is
    room, else every n-th, always the first and the last (dropping the one before the last
    where the two would run into each other)."""
    every = max(1, math.ceil(DAY_LABEL_ROOM / slot)) if count > 1 else 1
    shown = list(range(0, count, every))
    if shown and shown[-1] != count - 1:
        if len(shown) > 1 and (count - 1 - shown[-1]) < every:
            shown.pop()
        shown.append(count - 1)
    return shown


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
    axis: Sequence[tuple[str, str]] = (),
    colon: str = ": ",
) -> Markup:
    """One score over time (a student's results on one instrument, oldest first): a line through
    the points, points in `marked` (a reliable worsening) drawn larger in red and named
    `marked_name` in their tooltip. A missing value leaves a gap. `top` is the scale's maximum
    (the instrument's highest score), else the data's. `labels` name the points in their
    tooltips; `axis` (default: the labels) is what stands under them, in two lines (a short day,
    and its year where it changes), thinned where the points stand too close. While the points
    have room each carries its score above it; a score of 0, which lies on the axis, always
    does, and is drawn as a ring that stands out from the axis line. `colon` stands between a
    point's label and its score in its tooltip, as the reader's language writes it (：)."""
    known = [v for v in values if v is not None]
    top = top or _nice_max(max(known, default=0))
    width, height, font = TREND_WIDTH, TREND_HEIGHT, TREND_FONT
    left, right = LEFT, 28
    plot_h = height - TREND_BOTTOM - TOP - 6
    slot = (width - left - right) / max(len(values) - 1, 1)
    axis_y = TOP + 6 + plot_h
    body = [
        f'<line x1="{left}" y1="{axis_y}" x2="{width - 8}" y2="{axis_y}" stroke="#5b6878"/>',
        f'<text x="{left - 8}" y="{TOP + 6 + 5}" text-anchor="end" font-size="{font}">'
        f"{top:g}</text>",
        f'<text x="{left - 8}" y="{axis_y + 5}" text-anchor="end" font-size="{font}">0</text>',
    ]
    under = list(axis) if axis else [(label, "") for label in labels]
    shown = set(_labelled_points(len(values), slot))
    roomy = len(shown) == len(values)
    points: list[tuple[float, float]] = []
    year = ""
    for i, value in enumerate(values):
        x = left + 12 + i * slot
        day, year = under[i][0], under[i][1] or year  # a year a thinned-out day began shows
        if i in shown:
            last = i == len(values) - 1 and i > 0
            anchor = "end" if last else "middle"
            at = f'x="{x + (14 if last else 0):.1f}" text-anchor="{anchor}"'
            body.append(f'<text {at} y="{axis_y + 24}" font-size="{font}">{escape(day)}</text>')
            if year:
                body.append(
                    f'<text {at} y="{axis_y + 43}" font-size="{font - 1}" fill="#5b6878">'
                    f"{escape(year)}</text>"
                )
            year = ""
        if value is None:
            points.append((x, math.nan))
            continue
        points.append((x, TOP + 6 + plot_h * (1 - min(value, top) / top)))
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
        colour, radius = (COLOURS["red"], 6) if flag else (COLOURS["bar"], 4)
        note = f" · {escape(marked_name)}" if flag else ""
        tip = f"<title>{escape(label)}{escape(colon)}{value:g}{note}</title>"
        if value == 0:
            # On the axis line a dot is lost in it: a ring, white inside, stands out.
            body.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius + 1.5}" fill="#ffffff" '
                f'stroke="{colour}" stroke-width="2.5">{tip}</circle>'
            )
        else:
            body.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius}" fill="{colour}">{tip}</circle>'
            )
        if roomy or value == 0:
            body.append(
                f'<text x="{x:.1f}" y="{y - radius - 6:.1f}" text-anchor="middle" '
                f'font-size="{font - 1}" fill="{colour}">{value:g}</text>'
            )
    return _svg(key, title, desc, body, height, width)
