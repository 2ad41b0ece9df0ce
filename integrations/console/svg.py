"""Small server-rendered SVG charts (stacked bars, lines): no JavaScript, no CDN, readable without colour thanks to
a legend and a <title> tooltip on every bar and point."""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = ["#2e7d32", "#c62828", "#f9a825", "#1565c0", "#6a1b9a", "#00838f", "#ef6c00", "#5d4037", "#455a64"]
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 560, 170, 44, 22, 8


def _fmt(v: float) -> str:
    if v >= 1_000_000:
        return f"{v / 1_000_000:.1f}M"
    if v >= 10_000:
        return f"{v / 1000:.0f}k"
    return f"{v:,.0f}" if v >= 10 or v == int(v) else f"{v:.1f}"


def _frame(labels: list[str], top: float, body: list[str], legend: list[tuple[str, str]], title: str) -> SafeString:
    plot_h = HEIGHT - BOTTOM - TOP
    parts = [f'<svg class="so-chart" viewBox="0 0 {WIDTH} {HEIGHT + 18}" role="img" aria-label="{escape(title)}">',
             f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH}" y2="{TOP + plot_h}" stroke="#999"/>',
             f'<text x="{LEFT - 4}" y="{TOP + 8}" text-anchor="end" font-size="10">{_fmt(top)}</text>',
             f'<text x="{LEFT - 4}" y="{TOP + plot_h}" text-anchor="end" font-size="10">0</text>']
    if labels:
        parts.append(f'<text x="{LEFT}" y="{HEIGHT - 6}" font-size="10">{escape(labels[0])}</text>')
        parts.append(f'<text x="{WIDTH}" y="{HEIGHT - 6}" text-anchor="end" font-size="10">{escape(labels[-1])}</text>')
    parts += body
    x = LEFT
    for name, colour in legend:
        parts.append(f'<rect x="{x}" y="{HEIGHT + 6}" width="9" height="9" fill="{colour}"/>'
                     f'<text x="{x + 12}" y="{HEIGHT + 14}" font-size="10">{escape(name)}</text>')
        x += 18 + 6 * len(name)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308  (every text above is escaped)


def stacked_bars(title: str, labels: list[str], series: dict[str, list[float]], colours=None) -> SafeString:
    colours = colours or {}
    names = list(series)
    colour = {n: colours.get(n, PALETTE[i % len(PALETTE)]) for i, n in enumerate(names)}
    totals = [sum(series[n][i] for n in names) for i in range(len(labels))]
    top = max(totals, default=0) or 1
    plot_h, n = HEIGHT - BOTTOM - TOP, max(len(labels), 1)
    step = (WIDTH - LEFT) / n
    body = []
    for i, label in enumerate(labels):
        y = TOP + plot_h
        for name in names:
            v = series[name][i]
            if not v:
                continue
            h = v / top * plot_h
            y -= h
            body.append(f'<rect x="{LEFT + i * step + 1:.1f}" y="{y:.1f}" width="{max(step - 2, 1):.1f}" '
                        f'height="{h:.1f}" fill="{colour[name]}"><title>{escape(label)} {escape(name)}: '
                        f'{_fmt(v)}</title></rect>')
    return _frame(labels, top, body, [(nm, colour[nm]) for nm in names], title)


def lines(title: str, labels: list[str], series: dict[str, list[float]]) -> SafeString:
    names = list(series)
    top = max((v for n in names for v in series[n]), default=0) or 1
    plot_h, n = HEIGHT - BOTTOM - TOP, max(len(labels), 1)
    step = (WIDTH - LEFT) / n
    body = []
    for k, name in enumerate(names):
        colour = PALETTE[(k + 3) % len(PALETTE)]
        pts = [(LEFT + (i + 0.5) * step, TOP + plot_h - v / top * plot_h) for i, v in enumerate(series[name])]
        body.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="'
                    + " ".join(f"{x:.1f},{y:.1f}" for x, y in pts) + '"/>')
        for (x, y), label, v in zip(pts, labels, series[name], strict=True):
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}"><title>{escape(label)} '
                        f'{escape(name)}: {_fmt(v)}</title></circle>')
    return _frame(labels, top, body, [(nm, PALETTE[(k + 3) % len(PALETTE)]) for k, nm in enumerate(names)], title)
