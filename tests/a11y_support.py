"""Accessibility checks in a real browser: axe-core (npm, pinned in tests/a11y/package.json)
injected into the page through selenium, and a dashboard on a real SQLite store filled with
simulated data in which every status shows up (tests/test_a11y_*.py).

axe-core is installed by `./run tests` (`npm ci` in tests/a11y); by hand:
`cd tests/a11y && npm ci`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from waiting import wait as wait  # the a11y tests import it from here

from dashboard.app import create_app
from dashboard.data.source import DashboardSettings
from stadtpuls.catalogue import Catalogue, load_catalogue
from stadtpuls.settings import OperatorSettings
from stadtpuls.store.sqlite import SQLiteStore
from testkit.a11y import operators_with_alerts
from testkit.devdata import showcase

ROOT = Path(__file__).resolve().parents[1]
AXE_JS = ROOT / "tests" / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.1 A and AA: what BITV 2.0 asks through EN 301 549.
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")


def axe_source() -> str:
    """axe.min.js; skips where it is not installed (fails in CI, where that is a broken setup)."""
    if not AXE_JS.is_file():
        message = (f"axe-core is not installed ({AXE_JS.relative_to(ROOT)} is missing): run "
                   "`cd tests/a11y && npm ci` (./run tests does it)")
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return AXE_JS.read_text(encoding="utf-8")


_RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: 'tag', values: arguments[0]},
                   resultTypes: ['violations']})
  .then(result => done(JSON.stringify(result.violations)))
  .catch(error => done(JSON.stringify({error: String(error)})));
"""


def axe_violations(driver: Any, source: str) -> list[dict[str, Any]]:
    """Run axe-core on the page the driver shows; its WCAG 2.1 A/AA violations."""
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(source)
    driver.set_script_timeout(90)
    found = json.loads(driver.execute_async_script(_RUN_AXE, list(WCAG_TAGS)))
    if isinstance(found, dict):
        raise AssertionError(f"axe-core failed on {driver.current_url}: {found['error']}")
    return list(found)


def describe(violations: list[dict[str, Any]]) -> str:
    """One line per offending element: rule id, impact, target selector, help."""
    lines = []
    for v in violations:
        for node in v["nodes"]:
            target = " ".join(str(t) for t in node["target"])
            lines.append(f"  {v['id']} ({v['impact']}): {target} — {v['help']}")
    return "\n".join(lines)


def assert_no_violations(driver: Any, source: str, where: str) -> None:
    """axe-core on the page as it is, then again with every <details> open (the charts'
    data tables): axe checks only what is rendered."""
    for state in ("", " with the data tables open"):
        if state:
            opened = driver.execute_script(
                "const all = [...document.querySelectorAll('details:not([open])')];"
                "all.forEach(d => { d.open = true; }); return all.length;")
            if not opened:
                return
        violations = axe_violations(driver, source)
        assert not violations, (f"axe-core found WCAG 2.1 A/AA violations on {where}{state}:\n"
                                + describe(violations))


# --- waiting -------------------------------------------------------------------------------




_SETTLED_JS = """
const graphs = document.querySelectorAll('.dash-graph').length;
const drawn = document.querySelectorAll('.dash-graph .js-plotly-plot .main-svg').length;
const loading = document.querySelectorAll('[data-dash-is-loading="true"]').length;
const content = document.querySelectorAll('#_pages_content > *').length;
return content > 0 && loading === 0 && drawn >= graphs;
"""


def settled(driver: Any, timeout: float = 60) -> None:
    """Until the Dash page has content, no pending callback and every graph drawn."""
    from selenium.common.exceptions import WebDriverException

    def done() -> bool:
        try:  # a busy browser may not answer a script in time: ask again
            return bool(driver.execute_script(_SETTLED_JS))
        except WebDriverException:
            return False

    wait(done, timeout, "the page to render")


def kiosk_shown(driver: Any, timeout: float = 30) -> None:
    """The first scene is in and its fade-in is over (a check mid-fade sees faint text)."""
    wait(lambda: driver.execute_script(
        "return (document.getElementById('kiosk').dataset.scene || '') !== ''"
        " && document.getAnimations().every(a => a.playState === 'finished');"), timeout,
        "the kiosk's first scene, settled")


# --- data ----------------------------------------------------------------------------------


@dataclass
class ShowcaseStore:
    store: SQLiteStore
    catalogue: Catalogue
    operators: OperatorSettings

    def app(self, settings: DashboardSettings) -> Any:
        """The dashboard on this data, with operator login and the alert state."""
        return create_app(self.store, self.catalogue, settings, operators=self.operators)


def showcase_store(tmp: Path, days: float = 1.1) -> Iterator[ShowcaseStore]:
    """A SQLite store with `days` of simulated data up to now (both sites of
    config/stuehlinger.yaml, a silent, an implausible and an unregistered sensor, pipeline
    figures), operator login on and an alert state evaluated from that data
    (testkit.a11y.operators_with_alerts)."""
    catalogue = load_catalogue(ROOT / "config" / "stuehlinger.yaml")
    store = SQLiteStore(tmp / "a11y.db")
    now = datetime.now(UTC).replace(microsecond=0)
    showcase(store, catalogue, days, now)
    try:
        yield ShowcaseStore(store, catalogue, operators_with_alerts(tmp, store, catalogue, now))
    finally:
        store.close()
