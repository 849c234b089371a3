"""Shown for any path no page claims."""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from dashboard import i18n
from dashboard.i18n import t
from dashboard.page import Page

page = Page(__name__, path="/404", name="404", title_key="app.not_found_title")


@page.layout
def layout(lang: str | None = None, **_: Any) -> html.Div:
    lang = i18n.lang_or_default(lang)
    return html.Div([html.H1(t("app.not_found", lang)),
                     dcc.Link(t("nav.overview", lang), href="/")], className="page-head")
