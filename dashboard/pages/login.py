"""Operator login (`/login`): a plain HTML form posting to `/auth/login`.

Not in the navigation: operators reach it from the alerts page. The form works without
JavaScript; the server checks the CSRF token, throttles failures and logs every attempt
(dashboard/operators/routes.py).
"""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from dashboard import i18n
from dashboard.i18n import t
from dashboard.operators.session import CSRF_FIELD, csrf_token, current_operator, operators
from dashboard.page import Page

page = Page(__name__, path="/login", name="Login", title="Stadtpuls – Anmelden")

_MESSAGES = {"failed": "login.failed", "throttled": "login.throttled"}


@page.layout
def layout(lang: str | None = None, error: str | None = None, done: str | None = None,
           next: str | None = None, **_: Any) -> html.Div:
    lang = i18n.lang_or_default(lang)
    head = html.Div(html.Div([html.H1(t("login.title", lang)),
                              html.P(t("login.intro", lang), className="intro")],
                             className="page-title"), className="page-head")
    if not operators().enabled:
        return html.Div([head, html.Div(t("login.off", lang), className="alert",
                                        role="status")])
    who = current_operator()
    if who is not None:
        return html.Div([head, html.P(t("login.already", lang, who=who)),
                         dcc.Link(t("login.to_alerts", lang), href="/alerts",
                                  className="button")])
    notes: list[Any] = []
    if error in _MESSAGES:
        notes.append(html.Div(t(_MESSAGES[error], lang), className="alert", role="alert",
                              id="login-error"))
    if done == "logout":
        notes.append(html.Div(t("login.logged_out", lang), className="alert alert-info",
                              role="status"))
    form = html.Form([
        dcc.Input(type="hidden", name=CSRF_FIELD, value=csrf_token() or ""),
        dcc.Input(type="hidden", name="next", value=next or "/alerts"),
        html.Label([html.Span(t("login.username", lang), className="field-label"),
                    dcc.Input(name="username", id="login-username", type="text",
                               autoComplete="username", required=True, maxLength=64)],
                   className="field"),
        html.Label([html.Span(t("login.password", lang), className="field-label"),
                    dcc.Input(name="password", id="login-password", type="password",
                               autoComplete="current-password", required=True,
                               maxLength=1024)], className="field"),
        html.Button(t("login.submit", lang), type="submit", className="button",
                    id="login-submit"),
    ], action="/auth/login", method="POST", className="card login-form")
    return html.Div([head, *notes, form])
