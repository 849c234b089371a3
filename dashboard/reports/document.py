"""The printable report: one plain HTML document with print CSS for A4 (`report.css`).

Why a server-rendered document and not the Dash page: the browser's print-to-PDF then sees
only the report (no navigation, no pickers, no scripts still loading), and headless Chromium
`--print-to-pdf` can print it from its URL. Every text is escaped here.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from dashboard.i18n import t
from dashboard.reports.view import ReportView, Table

_CSS = (Path(__file__).parent / "report.css").read_text(encoding="utf-8")


def _table(table: Table) -> str:
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in table.head)
    rows = "".join(
        f'<tr><th scope="row">{escape(row)}</th>'
        + "".join(f'<td class="num">{escape(c)}</td>' for c in cells) + "</tr>"
        for row, cells in table.rows)
    note = f'<p class="r-note">{escape(table.note)}</p>' if table.note else ""
    # On a narrow screen a wide table scrolls in its own box (focusable and named, so the
    # keyboard can scroll it too), not the whole page; on paper the box does nothing.
    return (f'<section class="r-section" id="r-{escape(table.key)}">'
            f'<div class="r-scroll" role="region" tabindex="0" '
            f'aria-label="{escape(table.caption)}">'
            f'<table class="r-table"><caption>{escape(table.caption)}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>{note}"
            "</section>")


def _css_string(text: str) -> str:
    """`text` as a quoted CSS string that cannot end the string or the <style> element."""
    escaped = "".join(c if c.isalnum() or c in " ·–-.,()" else f"\\{ord(c):x} " for c in text)
    return f'"{escaped}"'


def _page_margins(view: ReportView, lang: str) -> str:
    """Title and generation time at the top, site and period and "page n of m" at the bottom
    of every printed page (CSS page-margin boxes, printed by Chromium ≥ 131). Every box is
    filled: one left empty, Chromium fills with its own date, title or URL."""
    boxes = {
        "top-left": _css_string(view.title),
        "top-right": _css_string(view.generated),
        "bottom-left": _css_string(f"Stadtpuls · {view.site} · {view.period}"),
        "bottom-right": (_css_string(f"{t('report.page', lang)} ") + " counter(page) "
                         + _css_string(f" {t('report.page_of', lang)} ") + " counter(pages)"),
    }
    inner = " ".join(f"@{box} {{ content: {content}; font-size: 8pt; color: #4f5b69; }}"
                     for box, content in boxes.items())
    return f"@page {{ {inner} }}"


def render(view: ReportView, lang: str, csv_href: str, back_href: str) -> str:
    figures = "".join(f'<div class="r-figure"><dt>{escape(label)}</dt><dd>{escape(value)}</dd>'
                      "</div>" for label, value in view.figures)
    notes = "".join(f"<li>{escape(n)}</li>" for n in view.notes)
    title = f"{view.title} – {view.site} – {view.period}"
    return f"""<!DOCTYPE html>
<html lang="{escape(lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>{escape(title)}</title>
<style>{_CSS}
{_page_margins(view, lang)}</style>
</head>
<body>
<nav class="r-actions" aria-label="{escape(t("report.title", lang))}">
<a href="{escape(back_href)}">{escape(t("report.back", lang))}</a>
<button type="button" onclick="window.print()">{escape(t("report.print_button", lang))}</button>
<a href="{escape(csv_href)}" download>{escape(t("report.csv", lang))}</a>
</nav>
<main class="r-page">
<header class="r-head">
<p class="r-brand">Stadtpuls · {escape(view.title)}</p>
<h1>{escape(view.site)} · {escape(view.period)}</h1>
<p class="r-status">{escape(view.status)}</p>
</header>
<section class="r-section" aria-labelledby="r-figures-title">
<h2 id="r-figures-title">{escape(t("report.key_figures", lang))}</h2>
<dl class="r-figures">{figures}</dl>
</section>
<figure class="r-section r-chart"><div class="r-chart-wide">{view.chart_svg}</div>
<div class="r-chart-narrow">{view.chart_svg_narrow}</div>
<figcaption>{escape(view.chart_title)}</figcaption></figure>
{"".join(_table(table) for table in view.tables)}
<footer class="r-foot"><ul>{notes}</ul></footer>
</main>
</body>
</html>
"""
