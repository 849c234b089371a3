"""Bench: long sensor charts (1 year, 10 years) from the roll-up tiers, against a real InfluxDB.

    .venv/bin/python bench/bench_history.py [--years 10] [--sensors 20] [--no-write-docs]

Starts its own influxd 1.6.7 (behind the v2-write adapter), writes `--years` of 15-minute
data for `--sensors` sensors through `InfluxStore`, then measures the sensor-detail chart's
data (`dashboard.data.history.history`, the same call the page makes) with a cold cache:

1. raw scan: before any roll-up exists (what every chart cost before issue 12, and what a
   store without a backfill still costs);
2. `stadtpuls rollup backfill`'s work (`rollup.backfill.backfill`): time and rows;
3. from the tiers: the same charts once the backfill has marked them complete.

Prints a table and writes it, with this command, to the `## History (roll-ups)` section of
docs/benchmarks.md. Target (issue 12): p95 < 300 ms for the 1-year and the 10-year chart.
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
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

# The checkout, for testkit: it is not installed with the wheel.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dashboard.data.cache import bucket_end
from dashboard.data.history import choose_window_s, history, refresh_bucket_s
from dashboard.data.source import DataSource
from rollup.backfill import Checkpoint, backfill
from stadtpuls.catalogue import Catalogue
from stadtpuls.reading import Reading, SeriesKey
from stadtpuls.store.influx import InfluxStore
from stadtpuls.timebase import NS_PER_S
from stadtpuls.units import Quantity
from testkit.servers import InfluxServer

ROOT = Path(__file__).resolve().parent.parent
SITE = "bench"
STEP_S = 900
ZONE = ZoneInfo("Europe/Berlin")
CHARTS = {"1 year": 365, "10 years": 3_650}


def bench_catalogue(sensors: int) -> Catalogue:
    return Catalogue.model_validate({"version": 1, "sites": {SITE: {
        "name": {"de": "Bench", "en": "Bench"}, "timezone": "Europe/Berlin",
        "location": {"lat": 48.0, "lon": 7.83}, "sensors": [{
            "id": f"s{i:02d}", "name": {"de": f"Sensor {i}", "en": f"Sensor {i}"},
            "quantity": "temperature", "unit": "°C", "interval_s": STEP_S,
            "position": {"lat": 48.0, "lon": 7.83}, "plausible": {"min": -1e9, "max": 1e9},
        } for i in range(sensors)]}}})


def readings(sensors: int, start_s: int, end_s: int) -> Iterable[list[Reading]]:
    rng = random.Random(3)
    for i in range(sensors):
        batch: list[Reading] = []
        for t in range(start_s - start_s % STEP_S, end_s, STEP_S):
            season = math.sin(2 * math.pi * (t % 31_557_600) / 31_557_600)
            day = math.sin(2 * math.pi * (t % 86_400) / 86_400)
            batch.append(Reading(SITE, f"s{i:02d}", Quantity.TEMPERATURE, t * NS_PER_S,
                                 12 + 10 * season + 4 * day + rng.gauss(0, 0.5)))
            if len(batch) == 20_000:
                yield batch
                batch = []
        if batch:
            yield batch


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def chart_ms(store: InfluxStore, catalogue: Catalogue, sensors: int, days: int,
             rounds: int) -> tuple[list[float], int]:
    out: list[float] = []
    points = 0
    for _ in range(rounds):
        for i in range(sensors):
            source = DataSource.create(store, catalogue)  # a cold cache for every chart
            span = days * 86_400
            end = bucket_end(source.now_ns(), refresh_bucket_s(choose_window_s(span, STEP_S)))
            key = SeriesKey(SITE, f"s{i:02d}", Quantity.TEMPERATURE)
            started = time.perf_counter()
            hist = history(source, key, end - span * NS_PER_S, end, STEP_S, ZONE)
            out.append((time.perf_counter() - started) * 1000)
            points = hist.points
    return out, points


def write_docs(table: str, command: str) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text(encoding="utf-8")
    section = (f"## History (roll-ups)\n\nCommand: `{command}` ({os.cpu_count()} cores).\n\n"
               f"{table}\n")
    pattern = re.compile(r"^## History \(roll-ups\)\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text).rstrip() + "\n"
    else:
        text = text.rstrip() + "\n\n" + section
    path.write_text(text, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--sensors", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3, help="tier rounds over all sensors")
    parser.add_argument("--raw-sensors", type=int, default=3,
                        help="sensors for the (slow) raw-scan figures, one round")
    parser.add_argument("--no-write-docs", action="store_true")
    args = parser.parse_args()
    catalogue = bench_catalogue(args.sensors)
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp, InfluxServer(Path(tmp)) as server:
        server.create_database("bench")
        store = InfluxStore(server.url, "bench/autogen", timeout_s=300)
        end_s = int(time.time())
        start_s = end_s - args.years * 365 * 86_400
        started = time.perf_counter()
        written = sum(len(b) for b in readings(args.sensors, start_s, end_s)
                      if store.write(b) is None)
        write_s = time.perf_counter() - started
        print(f"wrote {written:,} readings in {write_s:.0f} s", file=sys.stderr)
        charts = {name: days for name, days in CHARTS.items() if days <= args.years * 365}
        raw = {name: chart_ms(store, catalogue, args.raw_sensors, days, 1)
               for name, days in charts.items()}
        started = time.perf_counter()
        rows = backfill(store, start_s * NS_PER_S, end_s * NS_PER_S,
                        Checkpoint(Path(tmp) / "checkpoint.json", start_s * NS_PER_S,
                                   end_s * NS_PER_S), interval_of=lambda _: float(STEP_S))
        backfill_s = time.perf_counter() - started
        tiered = {name: chart_ms(store, catalogue, args.sensors, days, args.rounds)
                  for name, days in charts.items()}
        store.close()
    lines = ["| chart | windows | points | raw scan p50 / p95 | from tiers p50 / p95 | target |",
             "| --- | --- | ---: | ---: | ---: | --- |"]
    for name, days in charts.items():
        window = choose_window_s(days * 86_400, STEP_S)
        r, t = raw[name][0], tiered[name][0]
        p95 = percentile(t, 0.95)
        lines.append(
            f"| {name} | {window // 3600} h | {tiered[name][1]:,} | "
            f"{statistics.median(r):.0f} / {percentile(r, 0.95):.0f} ms | "
            f"{statistics.median(t):.0f} / {p95:.0f} ms | "
            f"p95 < 300 ms {'met' if p95 < 300 else 'MISSED'} |")
    table = "\n".join(lines) + (
        f"\n\nData: {args.sensors} sensors × {args.years} years of 15-minute readings "
        f"({written:,} readings) in influxd 1.6.7, written through `InfluxStore` in "
        f"{write_s:.0f} s; backfill of all three tiers ({rows:,} rows) {backfill_s:.0f} s. "
        f"Chart data = `dashboard.data.history.history` with a cold cache (the page's call: "
        f"mean/min/max/count windows plus the hidden-readings count); tiers: {args.rounds} "
        f"rounds over all {args.sensors} sensors; raw scan: {args.raw_sensors} sensors, one "
        f"round, before the backfill ({datetime.now(UTC):%Y-%m-%d}); load average "
        f"{load[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end. The store picks "
        "the tier: the 1-year chart's 6-hour windows (local time) read the hourly tier "
        "(8,760 rows), the 10-year chart's UTC days the daily tier (3,650 rows), each plus "
        "raw readings for the ragged ends.")
    print(table)
    if not args.no_write_docs:
        command = ".venv/bin/python bench/bench_history.py"
        for flag, value, default in (("--years", args.years, 10), ("--sensors", args.sensors, 20),
                                     ("--rounds", args.rounds, 3),
                                     ("--raw-sensors", args.raw_sensors, 3)):
            if value != default:
                command += f" {flag} {value}"
        write_docs(table, command)
    return 0


if __name__ == "__main__":
    sys.exit(main())
