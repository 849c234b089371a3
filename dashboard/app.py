"""The frame of the web app: header, navigation, language switch, page container.

Pages live in `dashboard/pages/`, each a `Page` that this factory registers on the app it
builds (route and layout through `dash.register_page`, callbacks through `app.callback`),
so several apps can be built in one process; the navigation is built from
`dash.page_registry`. The language is kept in the browser's
localStorage and passed to every page layout as a routing input, so switching it re-renders
the page in place. `?lang=en` in any URL sets it too (handy for kiosk screens).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import dash
from dash import Dash, Input, Output, State, ctx, dcc, html, no_update
from flask import has_app_context

from dashboard import i18n, ids, operations, pages, runtime
from dashboard.data.cache import TTLCache
from dashboard.data.source import DashboardSettings, DataSource
from dashboard.data.status import sensor_states_shared
from dashboard.i18n import t
from dashboard.kiosk import routes as kiosk_routes
from dashboard.language import COOKIE, COOKIE_MAX_AGE_S, default_language, request_language
from dashboard.pages import statement
from dashboard.reports import routes as report_routes
from dashboard.ui import aria, now_text
from opendata import routes as opendata_routes
from opendata.sta import routes as sta_routes
from stadtpuls import sun
from stadtpuls.catalogue import Catalogue
from stadtpuls.per_process import OncePerProcess
from stadtpuls.settings import OperatorSettings
from stadtpuls.store import StoreError
from stadtpuls.store.protocol import StoreReader

_HERE = Path(__file__).parent


log = logging.getLogger("stadtpuls.dashboard")

def create_app(
    store: StoreReader,
    catalogue: Catalogue,
    settings: DashboardSettings | None = None,
    *,
    clock: Callable[[], float] = time.time,
    cache: TTLCache | None = None,
    operators: OperatorSettings | None = None,
) -> Dash:
    """Build the dashboard for `store` and `catalogue`; serve `app.server` with any WSGI server."""
    source = DataSource.create(store, catalogue, settings, clock, cache)
    # Named after this module, not the package: Flask and Dash find their root from the
    # module's file, which a namespace or editable install of the package may not have.
    # `pages_folder=""`: Dash does not import page files itself; `pages.ALL` are registered
    # below, on this app.
    app = _App(
        __name__,
        use_pages=True,
        pages_folder="",
        assets_folder=str(_HERE / "assets"),
        # The lobby screens' files load only on /kiosk pages (dashboard/kiosk/routes.py).
        assets_ignore=r"^kiosk\.",
        serve_locally=True,
        title="Stadtpuls",
        update_title=None,  # type: ignore[arg-type]  # None turns it off (Dash docs)
        routing_callback_inputs={"lang": Input(ids.LANG, "data")},
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"},
                   {"name": "color-scheme", "content": "light"}],
    )
    runtime.install(app.server, source)
    kiosk_routes.install(app.server, source)
    opendata_routes.install(app.server, source)
    # The alerts page's state, operator login and actions; closed without `operators`.
    operations.install(app.server, operators or OperatorSettings(),
                       source.settings.screen_heartbeat_s)
    report_routes.install(app.server, source)
    sta_routes.install(app.server, store, catalogue)  # /sta/v1.1: SensorThings API
    for page in pages.ALL:
        page.register(app)
    # A function: each visitor's first language comes from their request (dashboard.language).
    app.layout = _frame
    _frame_callbacks(app)
    # At the first request of each process, not here (stadtpuls.per_process says why).
    app.server.before_request(OncePerProcess(lambda: threading.Thread(
        target=_warm_up, args=(source,), name="dashboard-warm-up", daemon=True).start()))
    return app


def _warm_up(source: DataSource) -> None:
    """Pay the process's one-time costs while the first visitor's browser loads its scripts:
    every sensor's state (half a second with 10,000 sensors, shared by the sensors table, the
    map and the overview for one live bucket), plotly's validators and the theme's template
    (built on first use), and pvlib for the health rule of PV at night (about a second)."""
    try:
        sensor_states_shared(source)
    except StoreError as exc:
        log.info("dashboard warm-up: no sensor state yet (%s)", exc)
    import plotly.graph_objects as go

    from dashboard.figures import theme

    figure = go.Figure(go.Scatter(x=[0], y=[0]))
    figure.update_layout(**theme.base_layout("de", height=100))
    figure.to_plotly_json()
    sun.load()


class _App(Dash):
    """Dash with `<html lang>` and the page's title in the visitor's language in the server's
    HTML (Dash's own index has neither; a script set `lang` only later)."""

    def interpolate_index(self, **kwargs: Any) -> Any:  # type: ignore[override]
        lang = request_language(default_language())
        # Dash has already called the page's title (dashboard.language.page_title) for this
        # request's path for its og:title meta tag; the <title> gets the same text.
        found = _OG_TITLE.search(str(kwargs.get("metas", "")))
        if found:
            kwargs["title"] = found.group(1)
        index: str = super().interpolate_index(**kwargs)  # type: ignore[no-untyped-call]
        return index.replace("<html>", f'<html lang="{lang}">', 1)


_OG_TITLE = re.compile(r'<meta property="og:title" content="([^"]*)"')


def _frame() -> html.Div:
    settings = runtime.source().settings if has_app_context() else DashboardSettings()
    lang = request_language(settings.default_language)
    return html.Div([
        html.A(t("app.skip", lang), href="#main", id=ids.SKIP_LINK, className="skip-link"),
        dcc.Location(id=ids.URL),
        dcc.Store(id=ids.LANG, storage_type="local", data=lang),
        html.Header([
            dcc.Link([html.Span(className="brand-mark", **aria(hidden="true")),
                      html.Span("Stadtpuls", className="brand-name")],
                     href="/", className="brand", id=ids.BRAND),
            html.Nav(id=ids.NAV, className="nav", **aria(label=t("app.navigation", lang))),
            html.Div([
                html.Span(id=ids.CLOCK, className="clock"),
                html.Div([
                    _lang_button(ids.LANG_DE, "DE", "Deutsch", "de", lang),
                    _lang_button(ids.LANG_EN, "EN", "English", "en", lang),
                ], className="lang-switch", role="group", id=ids.LANG_SWITCH,
                    **aria(label=t("app.language", lang))),
            ], className="topbar-right"),
        ], className="topbar"),
        html.Main(dash.page_container, className="page", id="main", tabIndex="-1"),
        html.Footer(_footer(lang), id=ids.FOOTER, className="site-footer"),
        dcc.Interval(id=ids.CLOCK_TICK, interval=int(settings.refresh_s * 1000)),
        html.Div(id=ids.HTML_LANG, hidden=True),
    ], className="app")


def _lang_button(component_id: str, short: str, name: str, lang: str, current: str
                 ) -> html.Button:
    # The visible "DE" is part of the name (WCAG 2.5.3); the language's own name follows.
    return html.Button([short, html.Span(f" {name}", className="sr-only", lang=lang)],
                       id=component_id, n_clicks=0, lang=lang,
                       className="lang-button active" if lang == current else "lang-button",
                       **aria(pressed="true" if lang == current else "false"))


def _footer(lang: str) -> list[Any]:
    """Every page's footer: the accessibility statement and the open data, as BITV asks
    (the statement reachable from every page)."""
    return [html.Ul([
        html.Li(dcc.Link(t("footer.accessibility", lang), href=statement.PATH)),
        html.Li(dcc.Link(t("footer.opendata", lang), href="/opendata")),
    ], className="footer-links")]


def _frame_callbacks(app: Dash) -> None:
    @app.callback(
        Output(ids.LANG, "data"),
        Input(ids.LANG_DE, "n_clicks"),
        Input(ids.LANG_EN, "n_clicks"),
        Input(ids.URL, "search"),
        State(ids.LANG, "data"),
    )
    def choose_language(_de: int, _en: int, search: str | None, current: str | None) -> Any:
        trigger = ctx.triggered_id
        wanted: str | None = None
        if trigger == ids.LANG_DE:
            wanted = "de"
        elif trigger == ids.LANG_EN:
            wanted = "en"
        elif search:
            values = parse_qs(search.lstrip("?")).get("lang")
            wanted = values[0] if values else None
        if wanted in i18n.LANGUAGES and wanted != current:
            return wanted
        return no_update

    @app.callback(
        Output(ids.NAV, "children"),
        Output(ids.NAV, "aria-label"),
        Output(ids.LANG_DE, "className"),
        Output(ids.LANG_EN, "className"),
        Output(ids.LANG_DE, "aria-pressed"),
        Output(ids.LANG_EN, "aria-pressed"),
        Output(ids.LANG_SWITCH, "aria-label"),
        Output(ids.SKIP_LINK, "children"),
        Output(ids.FOOTER, "children"),
        Input(ids.LANG, "data"),
        Input(ids.URL, "pathname"),
    )
    def navigation(lang: str | None, pathname: str | None) -> tuple[Any, ...]:
        lang = i18n.lang_or_default(lang)
        links = []
        for page in dash.page_registry.values():
            key = page.get("nav_key")
            if not key:
                continue
            path = page["relative_path"]
            here = pathname == path or (path != "/" and (pathname or "").startswith(path + "/"))
            # dcc.Link takes no aria-current: the current page is said in hidden text.
            label: Any = ([t(key, lang), html.Span(t("app.current_page", lang),
                                                   className="sr-only")]
                          if pathname == path else t(key, lang))
            links.append(dcc.Link(label, href=path,
                                  className="nav-link active" if here else "nav-link"))
        active = "lang-button active"
        return (links, t("app.navigation", lang),
                active if lang == "de" else "lang-button",
                active if lang == "en" else "lang-button",
                "true" if lang == "de" else "false", "true" if lang == "en" else "false",
                t("app.language", lang), t("app.skip", lang), _footer(lang))

    @app.callback(Output(ids.CLOCK, "children"), Input(ids.CLOCK_TICK, "n_intervals"),
                  Input(ids.LANG, "data"))
    def clock(_n: int, lang: str | None) -> str:
        return now_text(runtime.source(), i18n.lang_or_default(lang))

    app.clientside_callback(  # type: ignore[no-untyped-call]
        # The cookie tells the server the language of the next page load (dashboard.language).
        "function(lang) { lang = lang || 'de'; document.documentElement.lang = lang; "
        f"document.cookie = '{COOKIE}=' + lang + '; path=/; max-age={COOKIE_MAX_AGE_S}; "
        "SameSite=Lax'; return lang; }",
        Output(ids.HTML_LANG, "children"),
        Input(ids.LANG, "data"),
    )
