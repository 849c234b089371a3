"""The frame of the web app: header, navigation, language switch, page container.

Pages live in `dashboard/pages/`, each a `Page` that this factory registers on the app it
builds (route and layout through `dash.register_page`, callbacks through `app.callback`),
so several apps can be built in one process; the navigation is built from
`dash.page_registry`. The language is kept in the browser's
localStorage and passed to every page layout as a routing input, so switching it re-renders
the page in place. `?lang=en` in any URL sets it too (handy for kiosk screens).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import dash
from dash import Dash, Input, Output, State, ctx, dcc, html, no_update

from dashboard import i18n, ids, operations, pages, runtime
from dashboard.data.cache import TTLCache
from dashboard.data.source import DashboardSettings, DataSource
from dashboard.i18n import t
from dashboard.kiosk import routes as kiosk_routes
from dashboard.reports import routes as report_routes
from dashboard.ui import aria, now_text
from opendata import routes as opendata_routes
from opendata.sta import routes as sta_routes
from stadtpuls.catalogue import Catalogue
from stadtpuls.settings import OperatorSettings
from stadtpuls.store.protocol import StoreReader

_HERE = Path(__file__).parent


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
    app = Dash(
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
    app.layout = _frame(source.settings)
    _frame_callbacks(app)
    return app


def _frame(settings: DashboardSettings) -> html.Div:
    lang = settings.default_language
    return html.Div([
        dcc.Location(id=ids.URL),
        dcc.Store(id=ids.LANG, storage_type="local", data=lang),
        html.Header([
            dcc.Link([html.Span(className="brand-mark", **aria(hidden="true")),
                      html.Span("Stadtpuls", className="brand-name")],
                     href="/", className="brand"),
            html.Nav(id=ids.NAV, className="nav", **aria(label="Navigation")),
            html.Div([
                html.Span(id=ids.CLOCK, className="clock"),
                html.Div([
                    html.Button("DE", id=ids.LANG_DE, n_clicks=0, className="lang-button",
                                title="Deutsch"),
                    html.Button("EN", id=ids.LANG_EN, n_clicks=0, className="lang-button",
                                title="English"),
                ], className="lang-switch", role="group"),
            ], className="topbar-right"),
        ], className="topbar"),
        html.Main(dash.page_container, className="page"),
        dcc.Interval(id=ids.CLOCK_TICK, interval=int(settings.refresh_s * 1000)),
        html.Div(id=ids.HTML_LANG, hidden=True),
    ], className="app")


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
        Output(ids.LANG_DE, "className"),
        Output(ids.LANG_EN, "className"),
        Input(ids.LANG, "data"),
        Input(ids.URL, "pathname"),
    )
    def navigation(lang: str | None, pathname: str | None) -> tuple[Any, str, str]:
        lang = i18n.lang_or_default(lang)
        links = []
        for page in dash.page_registry.values():
            key = page.get("nav_key")
            if not key:
                continue
            path = page["relative_path"]
            here = pathname == path or (path != "/" and (pathname or "").startswith(path + "/"))
            links.append(dcc.Link(t(key, lang), href=path,
                                  className="nav-link active" if here else "nav-link"))
        active = "lang-button active"
        return (links, active if lang == "de" else "lang-button",
                active if lang == "en" else "lang-button")

    @app.callback(Output(ids.CLOCK, "children"), Input(ids.CLOCK_TICK, "n_intervals"),
                  Input(ids.LANG, "data"))
    def clock(_n: int, lang: str | None) -> str:
        return now_text(runtime.source(), i18n.lang_or_default(lang))

    app.clientside_callback(  # type: ignore[no-untyped-call]
        "function(lang) { document.documentElement.lang = lang || 'de'; return lang; }",
        Output(ids.HTML_LANG, "children"),
        Input(ids.LANG, "data"),
    )
