"""Bench: bulk CSV files from InfluxDB — a month of 1-minute data, cold, cached, revalidated.

    .venv/bin/python bench/bench_opendata.py [--runs 5]

Starts a private influxd 1.6.7 (testkit.servers), writes March 2025 of 1-minute readings for
one public sensor (44,580 readings: the local month has 23 hours on the summer-time day),
and asks the dashboard's Flask app (in-process, no network) for the month file and a day
file. "cold" builds a fresh app for every run (after its first request, for which Dash lays out
every page), so nothing is cached but influxd's own pages;
"cached" is the same app again (the file comes from the in-memory FileCache); "304" sends the
ETag back. Prints the median and the slowest of `--runs` runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dashboard.app import create_app
from stadtpuls.catalogue import load_catalogue
from stadtpuls.reading import Reading
from stadtpuls.store.influx import InfluxStore
from stadtpuls.timebase import to_ns
from stadtpuls.units import Quantity
from testkit.servers import InfluxServer

ROOT = Path(__file__).resolve().parents[1]
BERLIN = ZoneInfo("Europe/Berlin")
FILES = "/opendata/files/stuehlinger/weather_air_temperature"
NOW = datetime(2025, 4, 20, 12, 0, tzinfo=UTC)


def fill(store: InfluxStore) -> int:
    start, end = to_ns(datetime(2025, 3, 1, tzinfo=BERLIN)), to_ns(datetime(2025, 4, 1,
                                                                           tzinfo=BERLIN))
    batch = [Reading("stuehlinger", "weather_air_temperature", Quantity.TEMPERATURE, t,
                     10 + (t // 60_000_000_000) % 100 / 10)
             for t in range(start, end, 60 * 10**9)]
    store.write(batch)
    return len(batch)


def timed(get: object, path: str, headers: dict[str, str] | None = None
          ) -> tuple[float, float, int, int, str]:
    """(ms to the first chunk, ms in all, bytes, status, ETag) of one GET."""
    started = time.perf_counter()
    response = get(path, headers=headers or {}, buffered=False)  # type: ignore[operator]
    chunks = iter(response.response)
    first = next(chunks, b"")
    first_ms = (time.perf_counter() - started) * 1000
    size = len(first) + sum(len(c) for c in chunks)
    total_ms = (time.perf_counter() - started) * 1000
    response.close()
    return first_ms, total_ms, size, response.status_code, response.headers.get("ETag", "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    catalogue = load_catalogue(ROOT / "config" / "stuehlinger.yaml")
    figures: dict[str, list[tuple[float, float, int, int, str]]] = {}
    with tempfile.TemporaryDirectory() as tmp, InfluxServer(Path(tmp)) as server:
        server.create_database("bench")
        store = InfluxStore(server.url, "bench/autogen", timeout_s=60)
        print(f"wrote {fill(store):,} readings", file=sys.stderr)
        for _ in range(args.runs):
            client = create_app(store, catalogue,
                                clock=lambda: NOW.timestamp()).server.test_client()
            # Dash lays out every page on an app's first request (not part of a download).
            client.get("/opendata/files/none/none/")
            for name, path in (("month cold", f"{FILES}/2025-03.csv"),
                               ("day cold", f"{FILES}/2025-03-15.csv")):
                figures.setdefault(name, []).append(timed(client.get, path))
            cached = timed(client.get, f"{FILES}/2025-03.csv")
            figures.setdefault("month cached", []).append(cached)
            figures.setdefault("month 304", []).append(
                timed(client.get, f"{FILES}/2025-03.csv", {"If-None-Match": cached[4]}))
        store.close()
    print(f"{'file':<14} {'status':>6} {'bytes':>10} {'first chunk ms':>15} "
          f"{'total ms p50':>13} {'total ms max':>13}")
    for name, runs in figures.items():
        print(f"{name:<14} {runs[0][3]:>6} {runs[0][2]:>10,} "
              f"{statistics.median(r[0] for r in runs):>15.1f} "
              f"{statistics.median(r[1] for r in runs):>13.1f} {max(r[1] for r in runs):>13.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
