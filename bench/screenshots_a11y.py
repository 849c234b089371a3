"""Screenshots for the accessibility review (issue 14): every public page in German and
English at 320 px width (what 400 % zoom of a 1280 px window leaves) and at 200 % zoom, and
the pages' sideways overflow (none is allowed: WCAG 1.4.10 Reflow).

    .venv/bin/python bench/screenshots_a11y.py [--out /tmp/a11y-shots]

Fills a temporary SQLite store with a day of simulated data (testkit.devdata.showcase),
serves the dashboard from this process and photographs each page's full height with
headless Chromium. Prints one line per page: width, its scrollWidth, and OK or OVERFLOW.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from selenium.common.exceptions import WebDriverException

from bench.screenshots import driver, wait_rendered
from dashboard.app import create_app
from stadtpuls.catalogue import load_catalogue
from stadtpuls.store.sqlite import SQLiteStore
from testkit.devdata import showcase
from testkit.kiosk import Served

ROOT = Path(__file__).resolve().parents[1]
PAGES = [("overview", "/"), ("energy", "/energy"), ("sensors", "/sensors"),
         ("sensor-detail", "/sensors/stuehlinger~weather_air_temperature"),
         ("map", "/map"), ("status", "/status"), ("accessibility", "/accessibility"),
         ("not-found", "/no-such-page"), ("kiosk", "/kiosk/lobby")]
# (name, CSS width, device scale): 320 px = 400 % of 1280 px; 200 % of 1280 px = 640 px.
SIZES = [("320px", 320, 1.0), ("zoom200", 640, 2.0)]


def emulate(browser: Any, width: int, height: int, scale: float) -> None:
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": scale, "mobile": width < 500})


def shoot(base: str, out: Path, lang: str) -> list[str]:
    lines = []
    browser = driver(1280, 900, lang)
    try:
        for size, width, scale in SIZES:
            for name, path in PAGES:
                try:
                    lines.append(photograph(browser, base, out, name, path, lang, size, width,
                                            scale))
                except WebDriverException as exc:  # a busy machine: say so, go on
                    lines.append(f"{name:14} {lang} {size:8} not photographed: "
                                 f"{exc.msg or exc}")
    finally:
        browser.quit()
    return lines


def photograph(browser: Any, base: str, out: Path, name: str, path: str, lang: str,
               size: str, width: int, scale: float) -> str:
    """Load, measure the sideways overflow, photograph the full height; one line."""
    emulate(browser, width, 900, scale)
    browser.get(f"{base}{path}?lang={lang}")
    if path.startswith("/kiosk"):
        time.sleep(3)
    else:
        wait_rendered(browser)
    overflow = browser.execute_script(
        "return [document.documentElement.scrollWidth,"
        " document.documentElement.clientWidth]")
    total = int(browser.execute_script(
        "return document.documentElement.scrollHeight"))
    emulate(browser, width, min(max(900, total), 12000), scale)
    time.sleep(0.5)
    browser.save_screenshot(str(out / f"{name}-{lang}-{size}.png"))
    state = "OK" if overflow[0] <= overflow[1] + 1 else "OVERFLOW"
    return (f"{name:14} {lang} {size:8} width {overflow[1]:4} "
            f"scrollWidth {overflow[0]:4} {state}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/a11y-shots"))
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    args.out.mkdir(parents=True, exist_ok=True)
    catalogue = load_catalogue(ROOT / "config" / "stuehlinger.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "a11y.db")
        showcase(store, catalogue, 1.1, datetime.now(UTC).replace(microsecond=0))
        served = Served(create_app(store, catalogue).server)
        try:
            for lang in ("de", "en"):
                for line in shoot(served.url, args.out, lang):
                    print(line, flush=True)
        finally:
            served.stop()
            store.close()
    print(f"screenshots in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
