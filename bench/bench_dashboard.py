"""Bench: dashboard page-data latency and store load, against a real InfluxDB.

    .venv/bin/python bench/bench_dashboard.py [--viewer-seconds 60] [--no-write-docs]

Starts its own influxd 1.6.7 (behind the v2-write adapter), writes 30 days of 1-minute data
for 20 sensors (864,000 readings), then measures:

1. Page-data latency of the sensor-detail page: what its refresh callback calls (the
   history for the chosen range plus the sensor states for the header), with a cold cache
   for every call, for 24 h, 7 d and 30 d, over all 20 sensors: p50 and p95.
2. Store queries per second with 1 and with 50 simulated viewers: threads that each run the
   data functions of the sensors page and of one sensor-detail panel (24 h) once per refresh
   period, starting at random offsets, all through one shared cache; a counting wrapper
   around the real store counts the queries.

Prints a table and writes it, with this command, to the `## Dashboard` section of
docs/benchmarks.md. Targets (issue 5): p95 under 300 ms; 50 viewers cost at most twice the
store queries of one.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

# The checkout, for testkit: it is not installed with the wheel.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dashboard.data.cache import TTLCache
from dashboard.data.history import QUICK_RANGES_S, history, quick_range
from dashboard.data.source import DashboardSettings, DataSource
from dashboard.data.status import sensor_states
from stadtpuls.catalogue import Catalogue
from stadtpuls.reading import Reading, SeriesKey
from stadtpuls.store.influx import InfluxStore
from stadtpuls.store.protocol import Aggregate, Store
from stadtpuls.timebase import NS_PER_S
from stadtpuls.units import Quantity
from testkit.counting_store import CountingStore
from testkit.servers import InfluxServer

ROOT = Path(__file__).resolve().parent.parent
SITE = "bench"
SENSORS = 20
DAYS = 30
QUANTITIES = [(Quantity.TEMPERATURE, "°C", 15.0, 8.0), (Quantity.HUMIDITY, "%", 50.0, 15.0),
              (Quantity.CO2, "ppm", 600.0, 250.0), (Quantity.POWER, "W", 20_000.0, 20_000.0),
              (Quantity.NOISE, "dB(A)", 60.0, 8.0)]
RANGES = ("24h", "7d", "30d")


def bench_catalogue() -> Catalogue:
    sensors = []
    for i in range(SENSORS):
        quantity, unit, _, _ = QUANTITIES[i % len(QUANTITIES)]
        sensors.append({
            "id": f"s{i:02d}", "name": {"de": f"Sensor {i}", "en": f"Sensor {i}"},
            "quantity": quantity.value, "unit": unit, "interval_s": 60,
            "position": {"lat": 48.0 + i * 1e-4, "lon": 7.83},
            "plausible": {"min": -1e9, "max": 1e9},
        })
    return Catalogue.model_validate({"version": 1, "sites": {SITE: {
        "name": {"de": "Bench", "en": "Bench"}, "timezone": "Europe/Berlin",
        "location": {"lat": 48.0, "lon": 7.83}, "sensors": sensors}}})


def readings(end_s: int) -> Iterable[list[Reading]]:
    """30 days of 1-minute readings per sensor: a daily cycle plus noise, in batches."""
    rng = random.Random(5)
    start_s = end_s - DAYS * 86_400
    for i in range(SENSORS):
        quantity, _, mean, swing = QUANTITIES[i % len(QUANTITIES)]
        batch: list[Reading] = []
        for t in range(start_s - start_s % 60, end_s, 60):
            day = math.sin(2 * math.pi * ((t % 86_400) / 86_400 - 0.3))
            value = mean + swing * day + rng.gauss(0, swing * 0.05)
            batch.append(Reading(SITE, f"s{i:02d}", quantity, t * NS_PER_S, value))
            if len(batch) == 10_000:
                yield batch
                batch = []
        if batch:
            yield batch


def detail_page_data(source: DataSource, sensor: str, range_name: str) -> None:
    """What the sensor-detail refresh callback asks of the data layer."""
    key = SeriesKey(SITE, sensor, bench_catalogue_quantity(sensor))
    start, end = quick_range(source, range_name, 60.0)
    history(source, key, start, end, 60.0, ZoneInfo("Europe/Berlin"))
    sensor_states(source, site=SITE, with_completeness=False)


def bench_catalogue_quantity(sensor: str) -> Quantity:
    return QUANTITIES[int(sensor[1:]) % len(QUANTITIES)][0]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def latency(store: Store, catalogue: Catalogue, rounds: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {r: [] for r in RANGES}
    for range_name in RANGES:
        for _ in range(rounds):
            for i in range(SENSORS):
                # A new cache per call: every query goes to InfluxDB (the cold path).
                source = DataSource.create(store, catalogue)
                started = time.perf_counter()
                detail_page_data(source, f"s{i:02d}", range_name)
                out[range_name].append((time.perf_counter() - started) * 1000)
    return out


def breakdown(store: Store, end_ns: int) -> dict[str, float]:
    """Median time (ms) of each store query behind one cold 30-day sensor-detail refresh."""
    start = end_ns - DAYS * 86_400 * NS_PER_S
    hour = 3_600 * NS_PER_S
    parts: dict[str, list[float]] = {"latest": [], "history": [], "hidden count": []}
    for i in range(SENSORS):
        key = SeriesKey(SITE, f"s{i:02d}", bench_catalogue_quantity(f"s{i:02d}"))
        calls: dict[str, Callable[[], object]] = {
            "latest": lambda: store.latest(None, end_ns - 2 * 86_400 * NS_PER_S),
            "history": partial(store.aggregate, [key], start, end_ns, hour,
                               (Aggregate.MEAN, Aggregate.MIN, Aggregate.MAX, Aggregate.COUNT),
                               exclude_implausible=True),
            "hidden count": partial(store.aggregate, [key], start, end_ns, end_ns - start,
                                    (Aggregate.COUNT,), offset_ns=start),
        }
        for name, call in calls.items():
            started = time.perf_counter()
            call()
            parts[name].append((time.perf_counter() - started) * 1000)
    return {name: statistics.median(values) for name, values in parts.items()}


NOTES = """Notes:

- The 30-day page costs three InfluxDB queries, each reading the range's raw points once
  (43,200 per sensor); the medians above show where the time goes. influxd 1.6.7 reads about
  a million points per second per query here, so the time grows with the range: a year of
  1-minute data (525,600 points, 6-hour windows) measured about 0.35 s for the history query
  and 0.1 s for the count, about 0.5 s per cold refresh. That range is not a target, and a
  year chart is cached for 5 minutes, so only the first viewer in 5 minutes pays it.
- What would make long ranges flat: hourly roll-ups written by Stadtpuls (ARCHITECTURE.md §3),
  e.g. measurement `<quantity>_1h` with the same tags and fields mean, min, max, count and
  implausible_count per hour, written by the ingest when an hour closes. The history query
  would then read 8,760 rows for a year instead of 525,600 points. Neither the ingest nor the
  stores write roll-ups yet; the dashboard does not need them for the 24 h–30 d targets.
- Viewers share queries through the cache: every live query's time range ends at the next
  10-second bucket, so all viewers in one refresh period ask the identical question, and
  single-flight makes concurrent misses wait for one query
  (`tests/test_dashboard_data.py::test_fifty_concurrent_identical_requests_cost_one_store_query`)."""


def viewers(store: Store, catalogue: Catalogue, count: int, seconds: float,
            refresh_s: float) -> float:
    """Store queries per second while `count` viewers watch the same two pages."""
    counting = CountingStore(store)
    source = DataSource.create(counting, catalogue, DashboardSettings(refresh_s=refresh_s),
                               cache=TTLCache())
    stop = time.monotonic() + seconds
    errors: list[BaseException] = []

    def viewer(offset: float) -> None:
        time.sleep(offset)
        while time.monotonic() < stop:
            started = time.monotonic()
            try:
                sensor_states(source)  # the sensors page
                detail_page_data(source, "s03", "24h")  # one sensor-detail panel
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)
                return
            time.sleep(max(0.0, refresh_s - (time.monotonic() - started)))

    rng = random.Random(count)
    threads = [threading.Thread(target=viewer, args=(rng.uniform(0, refresh_s),))
               for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return counting.queries / seconds


def write_docs(table: str, command: str) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text(encoding="utf-8") if path.exists() else (
        "# Benchmarks\n\nMeasured figures, one section per component, each with the command "
        "that produced it.\n")
    section = f"## Dashboard\n\nCommand: `{command}` ({os.cpu_count()} cores).\n\n{table}\n"
    pattern = re.compile(r"^## Dashboard\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text).rstrip() + "\n"
    else:
        text = text.rstrip() + "\n\n" + section
    path.write_text(text, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="latency rounds over 20 sensors")
    parser.add_argument("--viewer-seconds", type=float, default=60.0)
    parser.add_argument("--refresh", type=float, default=10.0, help="viewers' refresh period")
    parser.add_argument("--no-write-docs", action="store_true")
    args = parser.parse_args()
    catalogue = bench_catalogue()
    with tempfile.TemporaryDirectory() as tmp, InfluxServer(Path(tmp)) as server:
        server.create_database("bench")
        store = InfluxStore(server.url, "bench/autogen", timeout_s=60)
        end_s = int(time.time())
        started = time.perf_counter()
        written = 0
        for batch in readings(end_s):
            store.write(batch)
            written += len(batch)
        print(f"wrote {written:,} readings in {time.perf_counter() - started:.1f} s",
              file=sys.stderr)
        detail_page_data(DataSource.create(store, catalogue), "s00", "30d")  # warm influxd
        lat = latency(store, catalogue, args.rounds)
        parts = breakdown(store, end_s * NS_PER_S)
        one = viewers(store, catalogue, 1, args.viewer_seconds, args.refresh)
        fifty = viewers(store, catalogue, 50, args.viewer_seconds, args.refresh)
        store.close()
    rows = ["| range | window | points | page-data p50 | page-data p95 | target |",
            "| --- | --- | ---: | ---: | ---: | --- |"]
    from dashboard.data.history import choose_window_s

    for name in RANGES:
        span = QUICK_RANGES_S[name]
        window = choose_window_s(span, 60)
        p95 = percentile(lat[name], 0.95)
        rows.append(f"| {name} | {window // 60} min | {span // window:,} | "
                    f"{statistics.median(lat[name]):.0f} ms | {p95:.0f} ms | "
                    f"p95 < 300 ms {'met' if p95 < 300 else 'MISSED'} |")
    ratio = fifty / one if one else math.inf
    table = "\n".join(rows) + (
        "\n\nThe cold 30 d refresh by store query (median over the 20 sensors): "
        + ", ".join(f"{name} {ms:.0f} ms" for name, ms in parts.items()) + "."
        f"\n\nStore queries with viewers refreshing every {args.refresh:g} s "
        f"(sensors page + one 24 h sensor-detail panel each, {args.viewer_seconds:g} s run): "
        f"1 viewer {one:.2f} queries/s, 50 viewers {fifty:.2f} queries/s, ratio "
        f"{ratio:.2f} (target ≤ 2: {'met' if ratio <= 2 else 'MISSED'}).\n\n"
        f"Data: {SENSORS} sensors × {DAYS} days of 1-minute readings "
        f"({SENSORS * DAYS * 1440:,} readings) in influxd 1.6.7; page-data latency is the "
        "sensor-detail refresh (history of the range + sensor states) with a cold cache, "
        f"{args.rounds} rounds over all {SENSORS} sensors per range "
        f"({datetime.now(UTC):%Y-%m-%d}).\n\n{NOTES}")
    print(table)
    if not args.no_write_docs:
        write_docs(table, ".venv/bin/python bench/bench_dashboard.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
