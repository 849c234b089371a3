"""`/kiosk`, `/kiosk/<screen>` and `/kiosk/api/<screen>` on the dashboard's Flask server.

Why not a Dash page: a lobby screen runs for weeks. A plain HTML document with one small
script (`assets/kiosk.js`: one fetch loop, text replaced in place) keeps nothing that can
pile up — no React tree, no callback queue, no intervals that overlap when the server is
slow (Dash issues 2198, 2882) — and it has no navigation or controls to hide.

The JSON answer carries the app version; the page reloads itself when it changes (a new
release, or a changed screen in the catalogue), and the poll is the screen's heartbeat.
"""

from __future__ import annotations

import hashlib
import json
from html import escape
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, request

import stadtpuls
from dashboard import i18n, runtime
from dashboard.data.source import DataSource
from dashboard.i18n import t
from dashboard.kiosk.registry import ScreenRegistry
from dashboard.kiosk.scenes import builders
from dashboard.kiosk.screen import frame
from stadtpuls.catalogue import Catalogue
from stadtpuls.store.errors import StoreError

_ASSETS = Path(__file__).resolve().parents[1] / "assets"
_REGISTRY_KEY = "STADTPULS_KIOSK_SCREENS"
_VERSION_KEY = "STADTPULS_KIOSK_VERSION"
ASSET_FILES = ("kiosk.js", "kiosk.css")


def app_version(catalogue: Catalogue) -> str:
    """The package version plus a digest of the kiosk's assets and screen definitions."""
    digest = hashlib.sha256()
    for name in ASSET_FILES:
        digest.update((_ASSETS / name).read_bytes())
    digest.update(json.dumps({name: d.model_dump(mode="json") for name, d in
                              catalogue.displays.items()}, sort_keys=True).encode())
    return f"{stadtpuls.__version__}+{digest.hexdigest()[:10]}"


def install(server: Flask, source: DataSource) -> None:
    server.config[_REGISTRY_KEY] = ScreenRegistry(source.catalogue.displays)
    server.config[_VERSION_KEY] = app_version(source.catalogue)
    server.add_url_rule("/kiosk", "kiosk_default", _default_screen)
    server.add_url_rule("/kiosk/<screen>", "kiosk_screen", _screen_page)
    server.add_url_rule("/kiosk/api/<screen>", "kiosk_api", _api)


def registry() -> ScreenRegistry:
    found = current_app.config.get(_REGISTRY_KEY)
    if not isinstance(found, ScreenRegistry):
        raise RuntimeError("the kiosk routes were not installed on this app")
    return found


def version() -> str:
    return str(current_app.config[_VERSION_KEY])


def _lang(default: str) -> str:
    return i18n.lang_or_default(request.args.get("lang"), default)


def _default_screen() -> Response:
    displays = runtime.source().catalogue.displays
    return _screen_page(next(iter(displays))) if displays else _not_found()


def _not_found() -> Response:
    lang = _lang(i18n.DEFAULT)
    body = (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
            f'<title>Stadtpuls</title></head><body><p>{escape(t("kiosk.no_screen", lang))}'
            "</p></body></html>")
    return Response(body, 404, mimetype="text/html")


def _screen_page(screen: str) -> Response:
    source = runtime.source()
    display = source.catalogue.displays.get(screen)
    if display is None:
        return _not_found()
    lang = _lang(display.language)
    v = escape(version())
    site = source.catalogue.sites[display.site].name.get(lang)
    data = {"screen": screen, "lang": lang, "version": version(),
            "poll-ms": str(int(source.settings.kiosk_poll_s * 1000)),
            "api": f"/kiosk/api/{screen}"}
    attributes = " ".join(f'data-{k}="{escape(val)}"' for k, val in data.items())
    body = _PAGE.format(
        lang=lang, v=v, attributes=attributes, site=escape(site),
        title=escape(f"Stadtpuls – {site}"),
        reconnecting=escape(t("kiosk.reconnecting", lang)),
        reconnecting_note=escape(t("kiosk.reconnecting_note", lang)))
    response = Response(body, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def _api(screen: str) -> tuple[dict[str, Any], int]:
    source = runtime.source()
    display = source.catalogue.displays.get(screen)
    if display is None:
        return {"error": "unknown screen"}, 404
    # Heartbeats are not authenticated: keep only a scene name this server knows, so a
    # stranger cannot put text of their choosing on the pipeline page.
    scene = request.args.get("scene", "")
    registry().record(screen, request.args.get("v", ""),
                      scene if scene in builders() else "", source.now_ns())
    lang = _lang(display.language)
    try:
        answer = frame(source, screen, display, lang).to_json()
    except StoreError:  # unavailable, or a query the store refused: never a 500 per poll
        # The screen keeps its last scene and says it is reconnecting.
        return {"error": "store unavailable", "version": version()}, 503
    answer["version"] = version()
    return answer, 200


_PAGE = """<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="dark">
<title>{title}</title>
<link rel="stylesheet" href="/assets/kiosk.css?v={v}">
</head>
<body class="kiosk">
<main id="kiosk" {attributes}>
  <header class="k-head">
    <h1 id="k-title">&nbsp;</h1>
    <p id="k-site" class="k-site">{site}</p>
  </header>
  <section id="k-hero" class="k-hero" hidden>
    <p class="k-label"></p>
    <p class="k-value"><span class="k-number"></span> <span class="k-unit"></span></p>
    <p class="k-note"></p>
    <p class="k-stamp"></p>
  </section>
  <section id="k-tiles" class="k-tiles"></section>
  <footer id="k-foot" class="k-foot"></footer>
  <div id="k-offline" class="k-offline" role="status" hidden>
    <p class="k-offline-title">{reconnecting}</p>
    <p class="k-offline-note">{reconnecting_note}</p>
  </div>
</main>
<script src="/assets/kiosk.js?v={v}"></script>
</body>
</html>
"""
