"""Bench: store queries per second for 1 and for 100 lobby screens.

    .venv/bin/python bench/bench_kiosk.py [--seconds 60] [--screens 100]

Fills a temporary SQLite store with two days of simulated data for both sites of
config/stuehlinger.yaml (kept live by a thread), adds `--screens` screens that each show
every scene type for 5 s, and runs one thread per screen that polls `/kiosk/api/<screen>`
through the dashboard's Flask app the way kiosk.js does (at the next scene change, at most
every 5 s). A counting wrapper around the store counts the queries that reach it. Run once
with one screen and once with all of them; the target (issue 10) is that 100 screens cost no
more than twice the store queries of one. The count is the same for InfluxDB: it is the
number of questions the cache lets through, not their cost.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dashboard.app import create_app
from dashboard.data.source import DashboardSettings
from stadtpuls.catalogue import Catalogue, load_catalogue
from stadtpuls.catalogue.display import SCENE_TYPES
from stadtpuls.store.sqlite import SQLiteStore
from testkit.counting_store import CountingStore
from testkit.devdata import simulate_into
from testkit.kiosk import LiveFill, with_screen

ROOT = Path(__file__).resolve().parents[1]


def screens_catalogue(base: Catalogue, count: int) -> Catalogue:
    scenes = [{"type": t, "seconds": 5,
               **({"site": "freiburg"} if t in ("air_quality", "bikes") else {})}
              for t in SCENE_TYPES]
    out = base
    for i in range(count):
        out = with_screen(out, f"bench-{i}", "stuehlinger", scenes)
    return out


def run(store: SQLiteStore, catalogue: Catalogue, screens: int, seconds: float
        ) -> tuple[float, list[float]]:
    """(store queries per second, request latencies in ms) with `screens` screens polling."""
    counting = CountingStore(store)
    settings = DashboardSettings(kiosk_poll_s=5.0)
    app = create_app(counting, catalogue, settings)
    stop = threading.Event()
    latencies: list[float] = []
    lock = threading.Lock()

    def screen(name: str) -> None:
        client = app.server.test_client()
        stop.wait(hash(name) % 5000 / 1000)  # screens were switched on at different times
        while not stop.is_set():
            started = time.perf_counter()
            answer = client.get(f"/kiosk/api/{name}?v=bench").get_json()
            with lock:
                latencies.append((time.perf_counter() - started) * 1000)
            stop.wait(min(5.0, answer["next_in_s"] + 0.1))

    threads = [threading.Thread(target=screen, args=(f"bench-{i}",)) for i in range(screens)]
    for th in threads:
        th.start()
    time.sleep(10)  # warm-up: the first cold cache fills
    before, started = counting.queries, time.monotonic()
    time.sleep(seconds)
    rate = (counting.queries - before) / (time.monotonic() - started)
    stop.set()
    for th in threads:
        th.join()
    return rate, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--screens", type=int, default=100)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    base = load_catalogue(ROOT / "config" / "stuehlinger.yaml")
    catalogue = screens_catalogue(base, args.screens)
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "bench.db")
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        simulate_into(store, base, now - timedelta(days=2), now)
        fill = LiveFill(store, base, now)
        try:
            one, _ = run(store, catalogue, 1, args.seconds)
            many, latencies = run(store, catalogue, args.screens, args.seconds)
        finally:
            fill.stop()
            store.close()
    p50 = statistics.median(latencies)
    p95 = statistics.quantiles(latencies, n=20)[-1]
    verdict = "met" if many <= 2 * one else "NOT met"
    print(f"Store queries with lobby screens polling (every scene type, 5 s each, "
          f"{args.seconds:g} s run): 1 screen {one:.2f} queries/s, {args.screens} screens "
          f"{many:.2f} queries/s, ratio {many / one:.2f} (target ≤ 2: {verdict}); "
          f"{args.screens} screens' requests: p50 {p50:.0f} ms, p95 {p95:.0f} ms "
          f"({len(latencies)} requests).")


if __name__ == "__main__":
    main()
