"""A bar chart of PV production per day or month as a small SVG: prints crisply at any
size, needs no script, and the same picture serves the page (as an image) and the print
view (inline). The numbers themselves are in the table below it, so the chart carries a
short text alternative only."""

from __future__ import annotations

from html import escape

_W, _H = 720, 170
_LEFT, _BOTTOM, _TOP = 92, 22, 12
_BAR = "#9a6200"  # PV amber, darkened to 4.6:1 on white
_INK = "#4f5b69"


def bars_svg(labels: list[str], values: list[float | None], top_label: str, title: str,
             scale_max: float) -> str:
    """Bars of `values` (None: no bar) under a line at `scale_max` labelled `top_label`."""
    n = max(1, len(values))
    plot_w = _W - _LEFT - 8
    plot_h = _H - _BOTTOM - _TOP
    step = plot_w / n
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {_H}" role="img" '
             f'aria-label="{escape(title)}" font-family="system-ui, sans-serif" font-size="11">',
             f"<title>{escape(title)}</title>",
             f'<line x1="{_LEFT}" y1="{_TOP}" x2="{_W - 8}" y2="{_TOP}" stroke="#c9d1d9"/>',
             f'<line x1="{_LEFT}" y1="{_TOP + plot_h}" x2="{_W - 8}" y2="{_TOP + plot_h}" '
             'stroke="#8a96a3"/>',
             f'<text x="{_LEFT - 6}" y="{_TOP + 4}" text-anchor="end" fill="{_INK}">'
             f"{escape(top_label)}</text>",
             f'<text x="{_LEFT - 6}" y="{_TOP + plot_h}" text-anchor="end" fill="{_INK}">0</text>']
    every = 1 if n <= 12 else 5
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = _LEFT + i * step
        if value is not None and scale_max > 0:
            h = max(0.0, min(1.0, value / scale_max)) * plot_h
            parts.append(f'<rect x="{x + step * 0.15:.1f}" y="{_TOP + plot_h - h:.1f}" '
                         f'width="{step * 0.7:.1f}" height="{h:.1f}" fill="{_BAR}"/>')
        if i % every == 0 or i == n - 1:
            parts.append(f'<text x="{x + step / 2:.1f}" y="{_H - 6}" text-anchor="middle" '
                         f'fill="{_INK}">{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)
