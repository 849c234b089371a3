"""Screenshots for the accessibility review (issue 14): every public page in German and
English at 320 px width (what 400 % zoom of a 1280 px window leaves) and at 200 % zoom, and
the pages' sideways overflow (none is allowed: WCAG 1.4.10 Reflow).

    .venv/bin/python bench/screenshots_a11y.py [--out /tmp/a11y-shots] [--only alerts,login]

Fills a temporary SQLite store with a day of simulated data (testkit.devdata.showcase, kept
live while the pictures are taken) and an alert state with operator login
(testkit.a11y.operators_with_alerts), serves the dashboard from this process and photographs
each page of testkit.a11y.public_pages, and the alerts page once more logged in, at its full
height with headless Chromium. Prints one line per picture: width, the page's scrollWidth,
and OK or OVERFLOW with what breaks reflow (testkit.a11y.reflow_problems, as the reflow
test checks it: tests/test_a11y_reflow.py).
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
from selenium.webdriver.common.by import By

from bench.screenshots import driver, wait_rendered
from dashboard.app import create_app
from stadtpuls.catalogue import load_catalogue
from stadtpuls.store.sqlite import SQLiteStore
from testkit.a11y import (
    OPERATOR,
    PASSWORD,
    REFLOW_WIDTH,
    PublicPage,
    emulate_width,
    operators_with_alerts,
    public_pages,
    reflow_problems,
)
from testkit.devdata import showcase
from testkit.kiosk import LiveFill, Served, wait_until

ROOT = Path(__file__).resolve().parents[1]
# (name, CSS width, device scale): 320 px = 400 % of 1280 px; 200 % of 1280 px = 640 px.
SIZES = [("320px", REFLOW_WIDTH, 1.0), ("zoom200", 640, 2.0)]
# Photographed after logging in: the alerts page with its acknowledge and silence forms.
OPERATOR_PAGES = [PublicPage("alerts-operator", "/alerts")]


def shoot(base: str, out: Path, lang: str, pages: list[PublicPage],
          operator_pages: list[PublicPage]) -> list[str]:
    lines = []
    browser = driver(1280, 900, lang)
    try:
        for group in (pages, operator_pages):
            if group is operator_pages and group:
                log_in(browser, base)
            for size, width, scale in SIZES:
                for page in group:
                    try:
                        lines.append(photograph(browser, base, out, page, lang, size, width,
                                                scale))
                    except (WebDriverException, AssertionError) as exc:  # busy: go on
                        lines.append(f"{page.name:18} {lang} {size:8} not photographed: "
                                     f"{getattr(exc, 'msg', None) or exc}")
    finally:
        browser.quit()
    return lines


def log_in(browser: Any, base: str) -> None:
    emulate_width(browser, 1280, 900, 1.0)
    browser.get(f"{base}/login")
    field = wait_until(lambda: browser.find_elements(By.ID, "login-username"), 30,
                       "the login form")[0]
    field.send_keys(OPERATOR)
    browser.find_element(By.ID, "login-password").send_keys(PASSWORD)
    browser.find_element(By.ID, "login-submit").click()
    wait_until(lambda: "/alerts" in browser.current_url, 30, "the alerts page after login")


def photograph(browser: Any, base: str, out: Path, page: PublicPage, lang: str,
               size: str, width: int, scale: float) -> str:
    """Load, measure the sideways overflow, photograph the full height; one line."""
    emulate_width(browser, width, 900, scale)
    browser.get(f"{base}{page.path}?lang={lang}")
    if page.kind == "kiosk":
        wait_until(lambda: browser.execute_script(
            "return document.getElementById('kiosk').dataset.scene || ''"), 30, "a scene")
    elif page.kind == "dash":
        wait_rendered(browser)
    width_seen = browser.execute_script(
        "return [document.documentElement.scrollWidth,"
        " document.documentElement.clientWidth]")
    problems = reflow_problems(browser)
    total = int(browser.execute_script(
        "return document.documentElement.scrollHeight"))
    emulate_width(browser, width, min(max(900, total), 12000), scale)
    time.sleep(0.5)
    browser.save_screenshot(str(out / f"{page.name}-{lang}-{size}.png"))
    state = "OK" if not problems else "OVERFLOW: " + "; ".join(problems)
    return (f"{page.name:18} {lang} {size:8} width {width_seen[1]:4} "
            f"scrollWidth {width_seen[0]:4} {state}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/a11y-shots"))
    parser.add_argument("--only", default="",
                        help="comma-separated page names (testkit/a11y.py); default: all")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    args.out.mkdir(parents=True, exist_ok=True)
    only = {n for n in args.only.split(",") if n}
    pages = [p for p in public_pages() if not only or p.name in only]
    operator_pages = [p for p in OPERATOR_PAGES if not only or p.name in only]
    catalogue = load_catalogue(ROOT / "config" / "stuehlinger.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "a11y.db")
        now = datetime.now(UTC).replace(microsecond=0)
        showcase(store, catalogue, 1.1, now)
        operators = operators_with_alerts(Path(tmp), store, catalogue, now)
        # Keep the data current: without it, most sensors turn "silent" within minutes and
        # the later pictures no longer show what a visitor sees.
        live = LiveFill(store, catalogue, now)
        served = Served(create_app(store, catalogue, operators=operators).server)
        try:
            for lang in ("de", "en"):
                for line in shoot(served.url, args.out, lang, pages, operator_pages):
                    print(line, flush=True)
        finally:
            served.stop()
            live.stop()
            store.close()
    print(f"screenshots in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
