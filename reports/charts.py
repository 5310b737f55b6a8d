"""Server-rendered SVG charts: horizontal bars, stacked by series.

Each chart is an image with a title (``role="img"``, ``aria-labelledby``); the page puts a
data table with the same figures next to it, for screen readers and for reading exact
numbers. No script, no style attribute (the CSP allows neither inline): colours are SVG
presentation attributes, each with at least 3:1 contrast against white (WCAG 1.4.11), and
each series also has a legend with its name.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

# for, against, question, no stance
SERIES_COLOURS = ("#1a7f37", "#b3261e", "#0b5cad", "#5f6368")
ROW_HEIGHT = 22
LABEL_WIDTH = 150
BAR_WIDTH = 360
WIDTH = LABEL_WIDTH + BAR_WIDTH + 60


def stacked_bars(
    chart_id: str,
    title: str,
    rows: Sequence[tuple[str, Sequence[int]]],
    series: Sequence[str],
) -> Markup:
    """An SVG of one bar per row (label, values per series), stacked, scaled to the largest
    row total, with the total at the end of each bar and a legend below."""
    biggest = max((sum(v) for _label, v in rows), default=0) or 1
    legend_y = len(rows) * ROW_HEIGHT + 12
    height = legend_y + (ROW_HEIGHT if len(series) > 1 else 0) + 4
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'aria-labelledby="{chart_id}-t" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
    ]
    for i, (label, values) in enumerate(rows):
        y = i * ROW_HEIGHT
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 15}" text-anchor="end" font-size="12" '
            f'fill="#1f1f1f">{escape(_short(label))}</text>'
        )
        x = float(LABEL_WIDTH)
        for j, v in enumerate(values):
            if v <= 0:
                continue
            w = BAR_WIDTH * v / biggest
            colour = SERIES_COLOURS[j % len(SERIES_COLOURS)]
            parts.append(
                f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{ROW_HEIGHT - 6}" '
                f'fill="{colour}"/>'
            )
            x += w
        parts.append(
            f'<text x="{x + 4:.1f}" y="{y + 15}" font-size="12" fill="#1f1f1f">{sum(values)}</text>'
        )
    if len(series) > 1:
        x = 0
        for j, name in enumerate(series):
            colour = SERIES_COLOURS[j % len(SERIES_COLOURS)]
            parts.append(
                f'<rect x="{x}" y="{legend_y}" width="12" height="12" fill="{colour}"/>'
                f'<text x="{x + 16}" y="{legend_y + 11}" font-size="12" fill="#1f1f1f">'
                f"{escape(name)}</text>"
            )
            x += 16 + 8 * len(name) + 18
    parts.append("</svg>")
    return Markup("".join(parts))


def _short(label: str, limit: int = 22) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
