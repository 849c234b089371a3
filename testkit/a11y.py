"""What the accessibility checks share (tests/test_a11y_*.py, bench/screenshots_a11y.py):
the list of the dashboard's public pages, and the operator side that gives the login and
alerts pages their content. A page added here is checked by all of them."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

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

