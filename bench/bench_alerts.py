"""Bench: evaluate the rules of 10,000 sensors, CPU per evaluation round.

Run: .venv/bin/python bench/bench_alerts.py [--sensors 10000] [--rounds 10]

A synthetic catalogue (100 sites × 100 sensors, five quantities, 5-minute intervals, a CO₂
threshold rule with hysteresis) and 26 hours of readings in a SQLite store (3.1 million
readings), 1 % of the sensors silent and 1 % stuck. Each round is what `alerts run` does every
30 s: newest readings, one MIN/MAX/COUNT aggregate per stuck window, completeness counts
(refreshed hourly), every rule of every sensor, the state transaction and the outbox. The
store runs in this process, so the CPU figure includes SQLite's work; with InfluxDB that
part moves to the database server.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alerts.evaluate import Evaluator
from alerts.state import AlertState
from stadtpuls.catalogue import Catalogue
from stadtpuls.reading import Reading
from stadtpuls.store.sqlite import SQLiteStore
from stadtpuls.timebase import NS_PER_S, to_ns
from stadtpuls.units import Quantity

QUANTITIES = [("co2", 400.0, 0, 5000), ("temperature", 21.0, -40, 80), ("humidity", 45.0, 0, 100),
              ("noise", 55.0, 20, 130), ("pm2_5", 12.0, 0, 1000)]
INTERVAL_S = 300
END = datetime(2025, 6, 11, 10, 0, tzinfo=UTC)


def build_catalogue(n_sensors: int, per_site: int = 100) -> Catalogue:
    sites: dict[str, Any] = {}
    for s in range(max(1, n_sensors // per_site)):
        sensors = []
        for i in range(per_site):
            q, _, lo, hi = QUANTITIES[i % len(QUANTITIES)]
            sensors.append({"id": f"s{i:03d}", "name": {"de": f"S {i}", "en": f"S {i}"},
                            "quantity": q, "position": {"lat": 48.0, "lon": 7.8},
                            "interval_s": INTERVAL_S, "plausible": {"min": lo, "max": hi}})
        sites[f"site{s:03d}"] = {"name": {"de": f"Ort {s}", "en": f"Site {s}"},
                                 "location": {"lat": 48.0, "lon": 7.8},
                                 "timezone": "Europe/Berlin", "sensors": sensors}
    return Catalogue.model_validate({
        "version": 1, "sites": sites,
        "alerts": {"quantities": {"co2": {"threshold": [
            {"above": 1400, "clear": 1200, "for": "10m"}]}}},
    })


def fill(store: SQLiteStore, catalogue: Catalogue, hours: float, seed: int = 1) -> int:
    rng = random.Random(seed)
    start = to_ns(END - timedelta(hours=hours))
    step = INTERVAL_S * NS_PER_S
    n = 0
    batch: list[Reading] = []
    for k, (site, sensor) in enumerate(catalogue.sensors()):
        base = next(b for q, b, _, _ in QUANTITIES if q == sensor.quantity.value)
        silent, stuck = k % 100 == 7, k % 100 == 42
        t = start
        while t < to_ns(END) - (3_600 * NS_PER_S if silent else 0):
            flat = stuck and t > to_ns(END) - 4 * 3_600 * NS_PER_S
            value = base if flat else base + rng.uniform(-2, 2)
            batch.append(Reading(site, sensor.id, Quantity(sensor.quantity), t, value))
            t += step
        if len(batch) > 200_000:
            store.write(batch)
            n += len(batch)
            batch = []
    store.write(batch)
    return n + len(batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sensors", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--hours", type=float, default=26.0)
    args = parser.parse_args()
    import pvlib  # noqa: F401  (its second of import time is start-up, not a round)

    catalogue = build_catalogue(args.sensors)
    with tempfile.TemporaryDirectory(prefix="bench-alerts-") as tmp:
        store = SQLiteStore(Path(tmp) / "store.db")
        t0 = time.perf_counter()
        readings = fill(store, catalogue, args.hours)
        print(f"filled {readings:,} readings in {time.perf_counter() - t0:.1f} s")
        evaluator = Evaluator(store, catalogue, AlertState(Path(tmp) / "alerts.db"))
        cpu: list[float] = []
        wall: list[float] = []
        # rounds 30 s apart, the last one at the end of the data (so only the planted faults
        # fire; later rounds would find every sensor silent)
        now = to_ns(END) - (args.rounds - 1) * 30 * NS_PER_S
        for i in range(args.rounds):
            c, w = time.process_time(), time.perf_counter()
            result = evaluator.round(now + i * 30 * NS_PER_S)
            cpu.append(time.process_time() - c)
            wall.append(time.perf_counter() - w)
            print(f"round {i}: cpu {cpu[-1]:.2f} s, wall {wall[-1]:.2f} s, "
                  f"{len(result.transitions)} transitions")
        firing = sum(1 for r in evaluator.state.alerts(limit=100_000) if r.state == "firing")
        steady = cpu[1:] or cpu
        print(f"{sum(1 for _ in catalogue.sensors()):,} sensors: first round cpu {cpu[0]:.2f} s; "
              f"then median cpu {statistics.median(steady):.2f} s, "
              f"max {max(steady):.2f} s per round (wall median "
              f"{statistics.median(wall[1:] or wall):.2f} s); {firing} alerts firing")
        store.close()


if __name__ == "__main__":
    main()
