"""A dataset's file list (`/opendata/files/<site>/<sensor>/`), in German or English.

The language: `?lang=de|en`, else the dashboard's language cookie, else the browser's
Accept-Language, else German (the sites are German). A plain page with no script: it is
also what a harvester or `curl` reads.
"""

from __future__ import annotations

from datetime import date
from html import escape

from opendata import urls
from opendata.datasets import Dataset

LANGUAGES = ("de", "en")
_TEXT = {
    "de": {"files": "Dateien", "licence": "Lizenz", "months": "Monate",
           "none": "noch keine Messwerte",
           "intro": "Unten eine CSV-Datei je Monat (Ortszeit); eine je Tag unter {day}.",
           "about": "Über diese Dateien", "other": "English"},
    "en": {"files": "files", "licence": "Licence", "months": "Months",
           "none": "no readings yet",
           "intro": "One CSV file per local month below; one per day at {day}.",
           "about": "About these files", "other": "Deutsch"},
}


# The dashboard's look in a few lines (no stylesheet to fetch); the long file path breaks at
# any character rather than scroll a phone's page.
_STYLE = ("body { margin: 0; background: #f3f4f6; color: #1f2937; font: 16px/1.5 system-ui, "
          "sans-serif; } main { max-width: 46rem; margin: 0 auto; padding: 1.5rem 1rem; } "
          "h1 { font-size: 1.6rem; line-height: 1.25; } a { color: #0b5f7a; } "
          "code { overflow-wrap: anywhere; background: #e5e7eb; padding: 0 .2em; } "
          "ul { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; "
          "padding: .75rem 2rem; }")


def language(asked: str | None, cookie: str | None, accept_best: str | None) -> str:
    """The first of these we have: the query's `lang`, the cookie, the browser's best match;
    else de."""
    for lang in (asked, cookie, accept_best):
        if lang in LANGUAGES:
            return lang
    return "de"


def render(dataset: Dataset, months: list[date], lang: str) -> str:
    """The page's HTML: newest month first, a link to the other language."""
    text = _TEXT[lang]
    other = "en" if lang == "de" else "de"
    title = escape(dataset.title(lang))
    day = f"<code>{escape(urls.file_path(dataset, 'YYYY-MM-DD'))}</code>"
    items = "".join(
        f'<li><a href="{escape(urls.file_path(dataset, m.strftime("%Y-%m")))}">'
        f'{m.strftime("%Y-%m")}.csv</a></li>' for m in reversed(months))
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title} – {text['files']}</title>"
        f"<style>{_STYLE}</style></head><body><main>"
        f'<p><a href="?lang={other}" hreflang="{other}" lang="{other}">{text["other"]}</a></p>'
        f"<h1>{title}</h1>"
        f"<p>{text['licence']}: <a href=\"{escape(dataset.publication.licence_text_url or '')}"
        f"\">{escape(dataset.publication.licence_name or '')}</a>. "
        f"{text['intro'].format(day=day)} "
        f"{text['about']}: <a href=\"{urls.LANDING}\">{urls.LANDING}</a>.</p>"
        f"<h2>{text['months']}</h2><ul>{items or '<li>' + text['none'] + '</li>'}</ul>"
        "</main></body></html>")
