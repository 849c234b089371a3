"""What the accessibility checks share (tests/test_a11y_*.py, bench/screenshots_a11y.py):
the list of the dashboard's public pages, and the operator side that gives the login and
alerts pages their content. A page added here is checked by all of them."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from alerts.evaluate import Evaluator
from alerts.state import AlertState
from dashboard.operators.users import save_user
from stadtpuls.catalogue import Catalogue
from stadtpuls.settings import OperatorSettings
from stadtpuls.store.protocol import StoreReader
from stadtpuls.timebase import to_ns

# How a page shows that it is ready: a Dash page (callbacks settled, graphs drawn), a lobby
# screen (its first scene shown) or plain server HTML (ready when loaded).
Kind = Literal["dash", "kiosk", "html"]

OPERATOR = "pruefung"
PASSWORD = "barrierefrei pruefen 2026"  # a throwaway account in a temporary directory


@dataclass(frozen=True)
class PublicPage:
    name: str  # for screenshot files and messages
    path: str
    kind: Kind = "dash"


def report_month() -> str:
    """The current UTC month, `YYYY-MM`: the showcase data's month, for a report's print view."""
    return time.strftime("%Y-%m", time.gmtime())


def public_pages() -> list[PublicPage]:
    """Every public page: the Dash pages (the 404 page as /no-such-page), a sensor's page of
    each site, a report's print view, a dataset's file list and both lobby screens."""
    return [
        PublicPage("overview", "/"),
        PublicPage("energy", "/energy"),
        PublicPage("sensors", "/sensors"),
        PublicPage("sensor-detail", "/sensors/stuehlinger~weather_air_temperature"),
        PublicPage("sensor-detail-lora", "/sensors/freiburg~lora-test-7f3a"),
        PublicPage("map", "/map"),
        PublicPage("status", "/status"),
        PublicPage("accessibility", "/accessibility"),
        PublicPage("not-found", "/no-such-page"),
        PublicPage("opendata", "/opendata"),
        PublicPage("reports", "/reports"),
        PublicPage("alerts", "/alerts"),
        PublicPage("login", "/login"),
        PublicPage("report-print", f"/reports/stuehlinger/{report_month()}", "html"),
        PublicPage("opendata-files", "/opendata/files/stuehlinger/weather_air_temperature/",
                   "html"),
        PublicPage("kiosk", "/kiosk/lobby", "kiosk"),
        PublicPage("kiosk-portrait", "/kiosk/lobby-portrait", "kiosk"),
    ]


def dash_paths() -> list[str]:
    return [p.path for p in public_pages() if p.kind == "dash"]


def operators_with_alerts(tmp: Path, store: StoreReader, catalogue: Catalogue,
                          now: datetime) -> OperatorSettings:
    """Operator login on (one account, OPERATOR / PASSWORD) and an alert state that the real
    evaluator filled from `store` over the hour up to `now`: with the showcase data
    (testkit.devdata.showcase) the silent and the implausible sensor raise alerts, so the
    alerts page has rows and the login page its form."""
    state = AlertState(tmp / "alerts.db")
    try:
        evaluator = Evaluator(store, catalogue, state)
        for minutes in range(60, -1, -10):
            evaluator.round(to_ns(now - timedelta(minutes=minutes)))
    finally:
        state.close()
    save_user(tmp / "users", OPERATOR, PASSWORD)
    return OperatorSettings(str(tmp / "users"), "a11y-secret-" + "x" * 40, cookie_secure=False,
                            alert_state=str(tmp / "alerts.db"))


# --- reflow (WCAG 1.4.10) ------------------------------------------------------------------

# 320 CSS px: what 400 % zoom leaves of a 1280 px wide window (the width WCAG 1.4.10 names).
REFLOW_WIDTH = 320

_REFLOW_JS = """
const doc = document.documentElement, W = doc.clientWidth, problems = [];
const name = el => {
  const text = (el.innerText || el.textContent || '').trim().replace(/\\s+/g, ' ');
  return '<' + el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (typeof el.className === 'string' && el.className ? '.' + el.className.trim()
        .split(/\\s+/).slice(0, 2).join('.') : '') + '>'
    + (text ? ' "' + text.slice(0, 40) + '"' : '');
};
// Inside a box of its own (scrolling or clipping), not the page's; html and body do not count:
// a page that clips them hides what sticks out instead of scrolling to it.
const boxed = el => {
  for (let p = el.parentElement; p && p !== document.body && p !== doc; p = p.parentElement) {
    if (getComputedStyle(p).overflowX !== 'visible') return true;
  }
  return false;
};
if (doc.scrollWidth > W + 1) {
  problems.push('the page scrolls sideways: ' + doc.scrollWidth + ' px wide in a '
                + W + ' px window');
}
const focusable = 'a[href], button, input, select, textarea, summary, '
                  + '[tabindex]:not([tabindex="-1"])';
for (const el of document.body.querySelectorAll('*')) {
  const r = el.getBoundingClientRect();
  if (r.width > 0 && r.right > W + 1 && !boxed(el)) {
    const parent = el.parentElement;
    // the outermost element only: its children stick out with it
    if (parent === document.body || parent.getBoundingClientRect().right <= W + 1) {
      problems.push(name(el) + ' reaches ' + Math.round(r.right) + ' px');
    }
  }
  // (an empty strip or a hidden mirror scrollbar, as AG Grid keeps beside its rows, holds
  // nothing to read)
  const overflow = getComputedStyle(el).overflowX;
  if ((overflow === 'auto' || overflow === 'scroll') && el.scrollWidth > el.clientWidth + 1
      && el.clientHeight > 0 && !el.closest('[aria-hidden="true"]')
      && el.tabIndex < 0 && !el.querySelector(focusable)) {
    problems.push(name(el) + ' scrolls sideways but the keyboard cannot reach it');
  }
}
return problems;
"""


def reflow_problems(driver: Any) -> list[str]:
    """What breaks reflow on the page the driver shows, one line each: the page scrolling
    sideways, an element sticking out of the window outside a box of its own, and a box that
    scrolls sideways without a way in for the keyboard (tabindex="0" or something focusable
    inside; WCAG 2.1.1). Text cut off inside a chart's picture is not found: look at the
    screenshots (bench/screenshots_a11y.py)."""
    return [str(p) for p in driver.execute_script(_REFLOW_JS)]


def emulate_width(driver: Any, width: int, height: int = 900, scale: float = 1.0) -> None:
    """Lay the page out `width` CSS px wide (desktop Chromium's windows stop at 500 px): a
    desktop browser zoomed in, not a phone (no mobile viewport rules)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": scale, "mobile": False})
