"""Screenshots of every lobby-screen scene, for review and the docs.

    .venv/bin/python bench/screenshots_kiosk.py [--out docs/screenshots/kiosk] [--days 30]

The same simulated data as bench/screenshots.py (both sites, the most recent 13:30 in
Freiburg), a screen per scene type, each photographed at 1920×1080 in German and English,
at 3840×2160 and in portrait (1080×1920) in German; then the delayed state (the clock 20
minutes past the data), the night clock (dimmed) and the reconnecting overlay (the server
stopped under the page). Motion is off (`prefers-reduced-motion`) so no frame is mid-fade.
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

from bench.screenshots import driver, last_early_afternoon
from dashboard.app import create_app
from stadtpuls.catalogue import Catalogue, load_catalogue
from stadtpuls.catalogue.display import SCENE_TYPES
from stadtpuls.store.sqlite import SQLiteStore
from testkit.devdata import showcase
from testkit.kiosk import Served, wait_until, with_screen

ROOT = Path(__file__).resolve().parents[1]
SIZES = [(1920, 1080, "de", ""), (1920, 1080, "en", ""), (3840, 2160, "de", "-4k"),
         (1080, 1920, "de", "-portrait")]


def shots_catalogue() -> Catalogue:
    catalogue = load_catalogue(ROOT / "config" / "stuehlinger.yaml")
    for scene in SCENE_TYPES:
        spec: dict[str, Any] = {"type": scene, "seconds": 60}
        if scene in ("air_quality", "bikes"):
            spec["site"] = "freiburg"
        if scene == "indoor_air":
            spec["rooms"] = ["Bürgerservicezentrum", "Sitzungssaal", "Großraumbüro 3. OG"]
        catalogue = with_screen(catalogue, f"shot-{scene}", "stuehlinger", [spec])
    return with_screen(catalogue, "shot-night", "stuehlinger", [{"type": "pv_now"}],
                       night={"from": "00:00", "to": "23:59", "mode": "clock"})


def browser_at(width: int, height: int, lang: str) -> Any:
    browser = driver(width, height, lang)
    # The window includes the browser's frame; the screen is the viewport.
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {
        "features": [{"name": "prefers-reduced-motion", "value": "reduce"}]})
    return browser


def show(browser: Any, url: str, scene: str) -> None:
    browser.get(url)
    wait_until(lambda: browser.execute_script(
        "return document.getElementById('kiosk').dataset.scene") == scene, 30, scene)
    time.sleep(0.5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots" / "kiosk")
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    args.out.mkdir(parents=True, exist_ok=True)
    now = last_early_afternoon().astimezone(UTC).replace(second=0, microsecond=0)
    catalogue = shots_catalogue()
    saved: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "kiosk.db")
        showcase(store, load_catalogue(ROOT / "config" / "stuehlinger.yaml"), args.days,
                 datetime.fromtimestamp(now.timestamp(), UTC))
        live = Served(create_app(store, catalogue, clock=lambda: now.timestamp() + 20).server)
        late = Served(create_app(store, catalogue,
                                 clock=lambda: now.timestamp() + 20 * 60).server)
        try:
            for width, height, lang, suffix in SIZES:
                browser = browser_at(width, height, lang)
                try:
                    for scene in SCENE_TYPES:
                        show(browser, f"{live.url}/kiosk/shot-{scene}?lang={lang}", scene)
                        target = args.out / f"{scene}-{lang}{suffix}.png"
                        browser.save_screenshot(str(target))
                        saved.append(target)
                finally:
                    browser.quit()
            browser = browser_at(1920, 1080, "de")
            try:
                for scene in ("pv_now", "indoor_air"):
                    show(browser, f"{late.url}/kiosk/shot-{scene}", scene)
                    saved.append(args.out / f"{scene}-de-delayed.png")
                    browser.save_screenshot(str(saved[-1]))
                show(browser, f"{live.url}/kiosk/shot-night", "clock")
                saved.append(args.out / "night-clock-de.png")
                browser.save_screenshot(str(saved[-1]))
                show(browser, f"{late.url}/kiosk/shot-energy", "energy")
                late.stop()
                wait_until(lambda: browser.find_element("css selector",
                                                        "#k-offline").is_displayed(),
                           60, "the reconnecting overlay")
                saved.append(args.out / "reconnecting-de.png")
                browser.save_screenshot(str(saved[-1]))
            finally:
                browser.quit()
        finally:
            live.stop()
            store.close()
    for path in saved:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
