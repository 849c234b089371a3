"""Alerts (`/alerts`): firing, pending, silenced and recently resolved alerts, filterable;
a logged-in operator can acknowledge and silence them.

The list is public, like every sensor's status on the sensors page; who acknowledged, their
comments and who set a silence are shown to operators only (names of staff are not open
data). The actions are plain HTML forms posting to `dashboard/operators/routes.py`, which
checks the operator and the CSRF token on the server; an anonymous visitor gets a link to
log in instead of the forms. The list does not refresh itself (a form being filled in would
be replaced); the filters and reloading the page do.
"""

from __future__ import annotations

from typing import Any

from dash import Input, Output, State, dcc, html

from alerts.messages import rule_title
from dashboard import i18n, ids, runtime
from dashboard.data.alerts import (
    HISTORY_DAYS,
    SEVERITIES,
    STATES,
    AlertView,
    BoardUnavailable,
    board,
    choose,
)
from dashboard.data.source import DataSource
from dashboard.i18n import t
from dashboard.operators.routes import MAX_COMMENT_CHARS, SCOPES, SILENCE_HOURS
from dashboard.operators.session import CSRF_FIELD, csrf_token, current_operator, operators
from dashboard.page import Page
from dashboard.ui import aria, page_head, sensor_name, sensor_token, site_name
from stadtpuls.pipeline import PIPELINE_SITE

page = Page(__name__, path="/alerts", name="Alarme", title="Stadtpuls – Alarme", order=5,
            nav_key="nav.alerts")

MAX_ROWS = 300
_ICON = {"firing": "▲", "pending": "◐", "silenced": "◌", "resolved": "✓"}


def _picker(component_id: str, label: str, options: list[dict[str, str]],
            value: str | None, lang: str) -> html.Div:
    return html.Div([
        html.Label(label, htmlFor=component_id, className="filter-label"),
        dcc.Dropdown(id=component_id, options=options, value=value, className="picker",
                     placeholder=t("alerts.any", lang), clearable=True),
    ], className="filter")


@page.layout
def layout(lang: str | None = None, state: str | None = None, done: str | None = None,
           error: str | None = None, **_: Any) -> html.Div:
    lang = i18n.lang_or_default(lang)
    source = runtime.source()
    controls = html.Div([
        _picker(ids.ALERTS_STATE, t("alerts.filter_state", lang),
                [{"label": t(f"alerts.state_{s}", lang), "value": s} for s in STATES],
                state if state in STATES else None, lang),
        _picker(ids.ALERTS_SITE, t("alerts.filter_site", lang),
                [{"label": e.name.get(lang), "value": s}
                 for s, e in source.catalogue.sites.items()]
                + [{"label": t("alerts.pipeline", lang), "value": PIPELINE_SITE}], None,
                lang),
        _picker(ids.ALERTS_SEVERITY, t("alerts.filter_severity", lang),
                [{"label": t(f"alerts.severity_{s}", lang), "value": s} for s in SEVERITIES],
                None, lang),
        html.Div([
            html.Label(t("alerts.filter_text", lang), htmlFor=ids.ALERTS_TEXT,
                       className="filter-label"),
            dcc.Input(id=ids.ALERTS_TEXT, type="search", debounce=True, className="search",
                      maxLength=100, placeholder=t("alerts.filter_text_hint", lang)),
        ], className="filter"),
    ], className="filters", role="search")
    return html.Div([
        page_head(t("alerts.title", lang), t("alerts.intro", lang, days=HISTORY_DAYS)),
        _account(lang),
        _outcome(done, error, lang),
        controls,
        html.P(id=ids.ALERTS_COUNT, className="muted table-count", role="status"),
        html.Div(id=ids.ALERTS_BODY),
    ], className="alerts-page")


def _account(lang: str) -> html.Div:
    who = current_operator()
    if who is not None:
        return html.Div([
            html.Span(t("alerts.logged_in", lang, who=who), className="operator-name"),
            html.Form([
                dcc.Input(type="hidden", name=CSRF_FIELD, value=csrf_token() or ""),
                html.Button(t("login.logout", lang), type="submit", className="button",
                            id="logout-button"),
            ], action="/auth/logout", method="POST", className="inline-form"),
        ], className="account")
    if not operators().enabled:
        return html.Div(html.P(t("alerts.login_off", lang), className="note"),
                        className="account")
    return html.Div(dcc.Link(t("alerts.login_hint", lang), href="/login?next=/alerts",
                             className="button", id="login-link"), className="account")


def _outcome(done: str | None, error: str | None, lang: str) -> html.Div:
    if done in ("ack", "silence", "unsilence"):
        return html.Div(t(f"alerts.done_{done}", lang), className="alert alert-info",
                        role="status")
    if error in ("not_open", "form", "state"):
        return html.Div(t(f"alerts.error_{error}", lang), className="alert", role="alert")
    return html.Div(className="alert-slot")


@page.callback(
    Output(ids.ALERTS_BODY, "children"),
    Output(ids.ALERTS_COUNT, "children"),
    Input(ids.ALERTS_STATE, "value"),
    Input(ids.ALERTS_SITE, "value"),
    Input(ids.ALERTS_SEVERITY, "value"),
    Input(ids.ALERTS_TEXT, "value"),
    State(ids.LANG, "data"),
)
def refresh(status: str | None, site: str | None, severity: str | None, text: str | None,
            lang: str | None) -> tuple[Any, str]:
    lang = i18n.lang_or_default(lang)
    source = runtime.source()
    try:
        found = board().read(source.now_ns())
    except BoardUnavailable as exc:
        return html.Div(t("alerts.unavailable", lang, reason=str(exc)), className="alert"), ""
    who = current_operator()
    token = csrf_token() if who else None

    def words(view: AlertView) -> str:
        row = view.row
        return " ".join((_sensor_label(source, row.site, row.sensor, lang),
                         site_name(source, row.site, lang), rule_title(row.rule, lang)))

    matching = choose(found.all, status=status, site=site, severity=severity, text=text,
                      words=words)
    shown = matching[:MAX_ROWS]  # a city-wide outage must not build a page of 10,000 forms
    table = (html.Div(t("alerts.none", lang), className="alert alert-info") if not shown
             else html.Div(html.Table([
                 html.Thead(html.Tr([html.Th(t(f"alerts.col_{c}", lang), scope="col")
                                     for c in ("state", "severity", "rule", "sensor", "site",
                                               "since", "value", "ack")]
                                    + ([html.Th(t("alerts.col_actions", lang), scope="col")]
                                       if who else []))),
                 html.Tbody([_row(v, source, lang, who, token) for v in shown]),
             ], className="table alerts-table"), className="table-wrap", tabIndex="0",
                 role="region", **aria(label=t("alerts.title", lang))))
    return ([html.Section(table, className="card"), _silences(found.silences, source, lang,
                                                                token)],
            t("alerts.count", lang, n=len(matching)) if len(shown) == len(matching)
            else t("alerts.count_cut", lang, shown=len(shown), n=len(matching)))


def _sensor_label(source: DataSource, site: str, sensor: str, lang: str) -> str:
    return sensor_name(source.catalogue.sensor(site, sensor), sensor, lang)


def _row(view: AlertView, source: DataSource, lang: str, who: str | None,
         token: str | None) -> html.Tr:
    row = view.row
    zone = source.zone(row.site)
    status = view.status
    label = _sensor_label(source, row.site, row.sensor, lang)
    sensor: Any = label if row.site == PIPELINE_SITE else dcc.Link(
        label, href="/sensors/" + sensor_token(row.site, row.sensor, None))
    since: list[Any] = [i18n.fmt_time(row.since_ns, zone, lang)]
    if row.resolved_ns is not None:
        since += [html.Br(), t("alerts.resolved_at", lang,
                               time=i18n.fmt_time(row.resolved_ns, zone, lang))]
    if view.silenced_until_ns is not None:
        since += [html.Br(), t("alerts.silenced_until", lang,
                               time=i18n.fmt_time(view.silenced_until_ns, zone, lang))]
    cells = [
        html.Td(html.Span([html.Span(_ICON[status], className="pill-icon",
                                     **aria(hidden="true")),
                           t(f"alerts.state_{status}", lang)],
                          className=f"pill alert-state-{status}")),
        html.Td(t(f"alerts.severity_{row.severity}", lang),
                className=f"severity-{row.severity}"),
        html.Td(rule_title(row.rule, lang)),
        html.Th(sensor, scope="row"),
        html.Td(t("alerts.pipeline", lang) if row.site == PIPELINE_SITE
                else site_name(source, row.site, lang)),
        html.Td(since),
        html.Td(_value(row.rule, row.value, lang), className="num"),
        html.Td(_ack_text(row.ack_by, row.ack_ns, row.ack_comment, zone, lang, who)),
    ]
    if who:
        cells.append(html.Td(_actions(row.id, lang, token or "")
                             if row.state != "resolved" else ""))
    return html.Tr(cells, id=f"alert-{row.id}")


def _value(rule: str, value: float | None, lang: str) -> str:
    if rule == "completeness" and value is not None:  # a share of the expected readings
        return f"{i18n.fmt_number(value * 100, lang)}\u202f%"
    return i18n.fmt_number(value, lang, i18n.auto_decimals(value))


def _ack_text(by: str | None, at: int | None, comment: str | None, zone: Any, lang: str,
              who: str | None) -> Any:
    if by is None:
        return t("alerts.not_acked", lang)
    if who is None:  # staff names and comments are for operators
        return t("alerts.acked", lang)
    text: list[Any] = [t("alerts.acked_by", lang, who=by, time=i18n.fmt_time(at, zone, lang))]
    if comment:
        text += [html.Br(), html.Q(comment)]
    return html.Span(text, className="ack-by")


def _actions(alert_id: int, lang: str, token: str) -> html.Details:
    def hidden() -> list[Any]:
        return [dcc.Input(type="hidden", name=CSRF_FIELD, value=token),
                dcc.Input(type="hidden", name="alert", value=str(alert_id))]

    def field(label: str, control: Any) -> html.Label:
        return html.Label([html.Span(label, className="field-label"), control],
                          className="field")

    ack = html.Form([
        *hidden(),
        field(t("alerts.comment", lang), dcc.Input(name="comment", type="text",
                                                    maxLength=MAX_COMMENT_CHARS,
                                                    id=f"ack-comment-{alert_id}")),
        html.Button(t("alerts.ack", lang), type="submit", className="button",
                    id=f"ack-{alert_id}"),
    ], action="/alerts/ack", method="POST", className="action-form")
    silence = html.Form([
        *hidden(),
        field(t("alerts.scope", lang), html.Select(
            [html.Option(t(f"alerts.scope_{s}", lang), value=s) for s in SCOPES],
            name="scope", id=f"silence-scope-{alert_id}")),
        field(t("alerts.hours", lang), html.Select(
            [html.Option(t("alerts.hours_n", lang, n=h), value=str(h)) for h in SILENCE_HOURS],
            name="hours", id=f"silence-hours-{alert_id}")),
        field(t("alerts.comment", lang), dcc.Input(name="comment", type="text",
                                                    maxLength=MAX_COMMENT_CHARS)),
        html.Button(t("alerts.silence", lang), type="submit", className="button",
                    id=f"silence-{alert_id}"),
    ], action="/alerts/silence", method="POST", className="action-form")
    return html.Details([html.Summary(t("alerts.actions", lang)), ack, silence],
                        className="alert-actions")


def _silences(silences: list[Any], source: DataSource, lang: str, token: str | None) -> Any:
    operator = token is not None
    if not silences:
        items: Any = html.P(t("alerts.no_silences", lang), className="muted")
    else:
        lines = []
        for s in silences:
            zone = source.zone(s.site or next(iter(source.catalogue.sites), ""))
            parts = [rule_title(s.rule, lang) if s.rule else None,
                     site_name(source, s.site, lang) if s.site else None,
                     _sensor_label(source, s.site, s.sensor, lang) if s.site and s.sensor
                     else None]
            what = " · ".join(p for p in parts if p) or t("alerts.silence_all", lang)
            text = t("alerts.silence_line", lang, what=what,
                     start=i18n.fmt_time(s.from_ns, zone, lang),
                     end=i18n.fmt_time(s.until_ns, zone, lang))
            end: Any = None
            if operator:
                text += " · " + t("alerts.silence_by", lang, who=s.by, comment=s.comment or "–")
                end = html.Form([
                    dcc.Input(type="hidden", name=CSRF_FIELD, value=token),
                    dcc.Input(type="hidden", name="silence", value=str(s.id)),
                    html.Button(t("alerts.end_silence", lang), type="submit",
                                className="button", id=f"unsilence-{s.id}"),
                ], action="/alerts/unsilence", method="POST", className="inline-form")
            lines.append(html.Li([text, " ", end]))
        items = html.Ul(lines, className="silence-list")
    return html.Section([html.H2(t("alerts.silences", lang)), items], className="card")
