"""Soak a lobby screen: fast rotation in headless Chromium for N minutes, memory over time.

    .venv/bin/python bench/soak_kiosk.py [--minutes 30] [--seconds 2] [--sample 30]
                                         [--out soak.json]

Serves the dashboard from this process on a SQLite store with a day of simulated data that
a thread keeps live, adds a screen that shows every scene type for `--seconds` each (so a
30-minute soak is about 900 scene changes and, at a poll per scene change, as many
requests), and opens `/kiosk/soak` in headless Chromium. Every `--sample` seconds it forces
a garbage collection and reads Chromium's own counters (CDP `Performance.getMetrics`: JS
heap used, DOM nodes, event listeners, documents), after a minute of warm-up (a full
rotation grows the tile pool to its size). The browser runs in a time zone where it is
midday, so kiosk.js's nightly self-reload does not fall inside the soak. It prints the mean
of the last third against the first third; the target is less than 10 % growth.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.screenshots import driver
from dashboard.app import create_app
from dashboard.data.source import DashboardSettings
from stadtpuls.catalogue import load_catalogue
from stadtpuls.catalogue.display import SCENE_TYPES
from stadtpuls.store.sqlite import SQLiteStore
from testkit.devdata import simulate_into
from testkit.kiosk import LiveFill, Served, wait_until, with_screen

ROOT = Path(__file__).resolve().parents[1]
METRICS = ("JSHeapUsedSize", "JSHeapTotalSize", "Nodes", "JSEventListeners", "Documents")


def sample(browser: Any) -> dict[str, float]:
    browser.execute_cdp_cmd("HeapProfiler.collectGarbage", {})
    found = browser.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]
    values = {m["name"]: float(m["value"]) for m in found if m["name"] in METRICS}
    page = browser.execute_script(
        "const k = document.getElementById('kiosk');"
        "return [k.dataset.polls, k.dataset.maxInFlight, k.dataset.scene,"
        " document.getElementsByTagName('*').length, new Date().getHours()];")
    values.update(polls=float(page[0] or 0), max_in_flight=float(page[1] or 0),
                  elements=float(page[3]), browser_hour=float(page[4]))
    values["scene"] = page[2]
    return values


def growth(rows: list[dict[str, float]], key: str) -> float:
    third = max(1, len(rows) // 3)
    first = statistics.fmean(r[key] for r in rows[:third])
    last = statistics.fmean(r[key] for r in rows[-third:])
    return (last - first) / first * 100 if first else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--seconds", type=float, default=2.0, help="per scene")
    parser.add_argument("--sample", type=float, default=30.0, help="seconds between samples")
    parser.add_argument("--out", type=Path, default=None, help="samples as JSON")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per poll

    base = load_catalogue(ROOT / "config" / "stuehlinger.yaml")
    scenes = [{"type": t, "seconds": args.seconds,
               **({"site": "freiburg"} if t in ("air_quality", "bikes") else {})}
              for t in SCENE_TYPES]
    catalogue = with_screen(base, "soak", "stuehlinger", scenes)
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "soak.db")
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        simulate_into(store, base, now - timedelta(days=1), now)
        fill = LiveFill(store, base, now)
        settings = DashboardSettings(live_bucket_s=2.0, kiosk_poll_s=5.0)
        served = Served(create_app(store, catalogue, settings).server)
        browser = driver(1920, 1080, "de")
        browser.execute_cdp_cmd("Performance.enable", {})
        # kiosk.js reloads itself once a night (03:00–03:30 browser time); run the browser
        # at midday so that reload, which would reset the heap, falls outside the soak.
        offset = (12 - datetime.now(UTC).hour + 12) % 24 - 12
        browser.execute_cdp_cmd("Emulation.setTimezoneOverride",
                                {"timezoneId": f"Etc/GMT{-offset:+d}"})
        rows: list[dict[str, float]] = []
        try:
            browser.get(f"{served.url}/kiosk/soak")
            wait_until(lambda: browser.execute_script(
                "return document.getElementById('kiosk').dataset.scene"), 30, "a first scene")
            time.sleep(60)  # warm-up: a full rotation grows the tile pool to its size
            started = time.monotonic()
            end = started + args.minutes * 60
            while time.monotonic() < end:
                row = sample(browser)
                row["t_s"] = round(time.monotonic() - started, 1)
                rows.append(row)
                print(json.dumps(row), flush=True)
                time.sleep(max(0.0, min(args.sample, end - time.monotonic())))
            rows.append({**sample(browser), "t_s": round(time.monotonic() - started, 1)})
        finally:
            browser.quit()
            served.stop()
            fill.stop()
            store.close()
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1))
    polls = rows[-1]["polls"] - rows[0]["polls"]
    print(f"\n{args.minutes:g} min, {len(rows)} samples, {polls:.0f} polls, "
          f"max requests in flight {max(r['max_in_flight'] for r in rows):.0f}")
    for key in ("JSHeapUsedSize", "Nodes", "JSEventListeners", "elements"):
        first, last = rows[0][key], rows[-1][key]
        print(f"{key:>17}: first {first:,.0f}, last {last:,.0f}, "
              f"last third vs first third {growth(rows, key):+.1f} %")


if __name__ == "__main__":
    main()
