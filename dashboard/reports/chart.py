"""A bar chart of PV production per day or month as a small SVG: prints crisply at any
size, needs no script, and the same picture serves the page (as an image) and the print
view (inline). The numbers themselves are in the table below it, so the chart carries a
short text alternative only.

Two shapes of the same chart: a wide one, and a narrow one with larger type for phones and
400 % zoom, where the wide picture shrank its labels to a few pixels (the pages pick one by
a media query)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape


@dataclass(frozen=True)
class _Frame:
    width: int
    height: int
    left: int  # room for the scale's labels
    bottom: int
    top: int
    font: int


_WIDE = _Frame(720, 170, 92, 22, 12, 11)
_NARROW = _Frame(360, 200, 84, 26, 14, 14)
_BAR = "#9a6200"  # PV amber, darkened to 4.6:1 on white
_INK = "#4f5b69"


def bars_svg(labels: list[str], values: list[float | None], top_label: str, title: str,
             scale_max: float, *, narrow: bool = False) -> str:
    """Bars of `values` (None: no bar) under a line at `scale_max` labelled `top_label`."""
    f = _NARROW if narrow else _WIDE
    n = max(1, len(values))
    plot_w = f.width - f.left - 8
    plot_h = f.height - f.bottom - f.top
    step = plot_w / n
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {f.width} {f.height}" '
             f'role="img" aria-label="{escape(title)}" font-family="system-ui, sans-serif" '
             f'font-size="{f.font}">',
             f"<title>{escape(title)}</title>",
             f'<line x1="{f.left}" y1="{f.top}" x2="{f.width - 8}" y2="{f.top}" '
             'stroke="#c9d1d9"/>',
             f'<line x1="{f.left}" y1="{f.top + plot_h}" x2="{f.width - 8}" '
             f'y2="{f.top + plot_h}" stroke="#8a96a3"/>',
             f'<text x="{f.left - 6}" y="{f.top + 4}" text-anchor="end" fill="{_INK}">'
             f"{escape(top_label)}</text>",
             f'<text x="{f.left - 6}" y="{f.top + plot_h}" text-anchor="end" fill="{_INK}">'
             "0</text>"]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = f.left + i * step
        if value is not None and scale_max > 0:
            h = max(0.0, min(1.0, value / scale_max)) * plot_h
            parts.append(f'<rect x="{x + step * 0.15:.1f}" y="{f.top + plot_h - h:.1f}" '
                         f'width="{step * 0.7:.1f}" height="{h:.1f}" fill="{_BAR}"/>')
        if i in _labelled(n, step, f.font, narrow):
            parts.append(f'<text x="{x + step / 2:.1f}" y="{f.height - 6}" '
                         f'text-anchor="middle" fill="{_INK}">{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _labelled(n: int, step: float, font: int, narrow: bool) -> set[int]:
    """Which bars get a label: all of a few, else every 5th (every 3rd of a narrow year),
    and the last one if it does not crowd the one before."""
    every = 1 if n <= (6 if narrow else 12) else 3 if n <= 12 else 5
    shown = set(range(0, n, every))
    if (n - 1 - max(shown)) * step >= 2.5 * font:
        shown.add(n - 1)
    return shown
