"""Accessibility statement (`/accessibility`): BITV 2.0 § 7 and the EU model statement
(Implementing Decision (EU) 2018/1523): compliance status, known limitations, date, feedback
contact, enforcement procedure. Linked from every page's footer (dashboard/app.py).

The date is when the statement was last reviewed against the tests in tests/test_a11y_*.py;
change it together with the statement's content.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from dash import html

from dashboard import i18n, runtime
from dashboard.i18n import t
from dashboard.page import Page

PATH = "/accessibility"
REVIEWED = date(2026, 11, 29)
_LIMITS = ("statement.limit_charts", "statement.limit_map", "statement.limit_dates",
           "statement.limit_kiosk")
_BODY_ADDRESS = ("Mauerstraße 53", "10117 Berlin")
_BODY_PHONE = "+49 30 18 527-2805"
_BODY_MAIL = "info@schlichtungsstelle-bgg.de"
_BODY_WEB = "https://www.schlichtungsstelle-bgg.de"

page = Page(__name__, path=PATH, name="Barrierefreiheit", title_key="statement.title",
            order=20)


def _host() -> str:
    from flask import has_request_context, request

    return request.host if has_request_context() else "Stadtpuls"


def _contact(contact: str | None, lang: str) -> Any:
    if not contact:
        return html.P(t("statement.no_contact", lang))
    href = contact if contact.startswith(("https://", "http://")) else f"mailto:{contact}"
    return html.P(html.A(contact, href=href))


def _date(day: date, lang: str) -> str:
    if lang == "de":
        return f"{day.day}. {i18n.MONTHS_DE[day.month - 1]} {day.year}"
    return f"{day.day} {i18n.MONTHS_EN[day.month - 1]} {day.year}"


@page.layout
def layout(lang: str | None = None, **_: Any) -> html.Div:
    lang = i18n.lang_or_default(lang)
    settings = runtime.source().settings
    return html.Div([
        html.Div(html.Div([
            html.H1(t("statement.title", lang)),
            html.P(t("statement.intro", lang, host=_host()), className="intro"),
        ], className="page-title"), className="page-head"),
        html.Section([
            html.H2(t("statement.status_h", lang)),
            html.P(t("statement.status", lang)),
            html.H2(t("statement.limits_h", lang)),
            html.Ul([html.Li(t(key, lang)) for key in _LIMITS]),
            html.H2(t("statement.made_h", lang)),
            html.P(t("statement.made", lang, date=_date(REVIEWED, lang))),
            html.H2(t("statement.feedback_h", lang)),
            html.P(t("statement.feedback", lang)),
            _contact(settings.accessibility_contact, lang),
            html.H2(t("statement.enforcement_h", lang)),
            html.P(t("statement.enforcement", lang)),
            html.Address([
                t("statement.body", lang), html.Br(),
                *[part for line in _BODY_ADDRESS for part in (line, html.Br())],
                f"Tel. {_BODY_PHONE}", html.Br(),
                html.A(_BODY_MAIL, href=f"mailto:{_BODY_MAIL}"), html.Br(),
                html.A(_BODY_WEB.removeprefix("https://"), href=_BODY_WEB),
            ]),
            html.P(t("statement.state_body", lang)),
        ], className="card statement"),
    ])
