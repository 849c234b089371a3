"""Screenshots of every dashboard page in German and English, for review and the docs.

    .venv/bin/python bench/screenshots.py [--out docs/screenshots] [--days 7]

Fills a temporary SQLite store with a week of simulated data (both sites of
config/stuehlinger.yaml, with a silent and an implausible sensor so every status shows up,
one unregistered sensor, and pipeline figures like the ingest writes them), serves the
dashboard from this process, and photographs each page with headless Chromium at 1920×1080
(the full page height) and two pages at a phone size (390×844), in both languages.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

# The checkout, for testkit: it is not installed with the wheel.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from selenium import webdriver
from werkzeug.serving import make_server

from dashboard.app import create_app
from stadtpuls.catalogue import load_catalogue
from stadtpuls.store.sqlite import SQLiteStore
from testkit.devdata import showcase

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--hide-scrollbars"]
PAGES = [("overview", "/"), ("energy", "/energy"), ("sensors", "/sensors"),
         ("sensor-detail", "/sensors/stuehlinger~weather_air_temperature"),
         ("sensor-detail-co2-7d", "/sensors/stuehlinger~room_sitzungssaal_co2?range=7d"),
         ("map", "/map"), ("status", "/status"), ("opendata", "/opendata")]
PHONE_PAGES = [("overview", "/"), ("energy", "/energy")]


def last_early_afternoon() -> datetime:
    local = datetime.now(ZoneInfo("Europe/Berlin"))
    at = local.replace(hour=13, minute=30, second=0, microsecond=0)
    return at if at <= local else at - timedelta(days=1)


# Chromium's log shows a logged object only as "Object"; keep readable copies as well.
_CAPTURE_ERRORS = """
window.__errors = [];
const original = console.error;
console.error = function (...args) {
  window.__errors.push(args.map(a => {
    try { return typeof a === 'string' ? a : (a && a.message) || JSON.stringify(a); }
    catch (e) { return String(a); }
  }).join(' '));
  return original.apply(console, args);
};
"""


def driver(width: int, height: int, lang: str) -> Any:
    """Headless Chromium (typed Any: selenium 4.2 is only partly annotated)."""
    options: Any = webdriver.ChromeOptions()
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--window-size={width},{height}")
    options.add_argument(f"--lang={lang}")
    browser: Any = webdriver.Chrome(options=options)
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _CAPTURE_ERRORS})
    return browser


_RENDERED_JS = """
const graphs = document.querySelectorAll('.dash-graph').length;
const drawn = document.querySelectorAll('.dash-graph .js-plotly-plot .main-svg').length;
const loading = document.querySelectorAll('[data-dash-is-loading="true"]').length;
const content = document.querySelectorAll('#_pages_content > *').length;
return content > 0 && loading === 0 && drawn >= graphs;
"""


def wait_rendered(browser: Any, timeout: float = 30.0) -> None:
    """Until the page has content, Dash has no pending callbacks and every graph has drawn."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if browser.execute_script(_RENDERED_JS):
            time.sleep(1.0)
            return
        time.sleep(0.25)
    print(f"timed out waiting for {browser.current_url} to render", file=sys.stderr)


def resize(browser: Any, width: int, height: int) -> None:
    if width < 500:
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": True})
    else:
        browser.set_window_size(width, height)


def shoot(base: str, out: Path, pages: list[tuple[str, str]], lang: str, width: int,
          height: int, suffix: str = "", full: bool = True) -> list[Path]:
    browser = driver(width, height, lang)
    if width < 500:
        # Desktop Chromium will not lay out narrower than 500 px: emulate the phone.
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": True})
    saved = []
    try:
        browser.get(f"{base}/?lang={lang}")
        wait_rendered(browser)
        for name, path in pages:
            browser.get(f"{base}{path}")
            wait_rendered(browser)
            if full:
                total = int(browser.execute_script(
                    "return document.documentElement.scrollHeight"))
                resize(browser, width, max(height, total))
                time.sleep(0.8)
                wait_rendered(browser)
            target = out / f"{name}-{lang}{suffix}.png"
            browser.save_screenshot(str(target))
            resize(browser, width, height)
            severe = [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"]
            if severe:
                details = browser.execute_script("return window.__errors || []")
                print(f"console errors on {path} ({lang}): {details or severe}",
                      file=sys.stderr)
            saved.append(target)
    finally:
        browser.quit()
    return saved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--at", type=datetime.fromisoformat,
                        help="the dashboard's 'now' (ISO 8601 with offset; default: the most "
                             "recent 13:30 in Freiburg, so the PV charts have a day to show)")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    args.out.mkdir(parents=True, exist_ok=True)
    now = (args.at or last_early_afternoon()).astimezone(UTC).replace(second=0, microsecond=0)
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "screens.db")
        started = time.monotonic()
        showcase(store, load_catalogue(ROOT / "config" / "stuehlinger.yaml"), args.days, now)
        print(f"filled {args.days} days in {time.monotonic() - started:.1f} s", file=sys.stderr)
        catalogue = load_catalogue(ROOT / "config" / "stuehlinger.yaml")
        # The clock stands still at the end of the simulated data, so every sensor that
        # should be live reads as live however long the screenshots take.
        frozen = now.timestamp() + 20
        app = create_app(store, catalogue, clock=lambda: frozen)
        server = make_server("127.0.0.1", 0, app.server, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        base = f"http://127.0.0.1:{server.server_port}"
        try:
            saved: list[Path] = []
            for lang in ("de", "en"):
                saved += shoot(base, args.out, PAGES, lang, 1920, 1080)
                saved += shoot(base, args.out, PHONE_PAGES, lang, 390, 844, suffix="-phone")
        finally:
            server.shutdown()
            store.close()
    for path in saved:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
