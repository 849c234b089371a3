"""Bench: SensorThings API pages of 1,000 observations from a year of 1-minute data.

    .venv/bin/python bench/bench_sta.py [--samples 50] [--no-walk] [--no-write-docs]

Starts its own influxd 1.6.7 (behind the v2-write adapter), writes one year of 1-minute
readings (525,600) for one public Datastream through the store, serves the dashboard's Flask
app (with the SensorThings routes) on a real local HTTP server, and measures over HTTP:

1. the newest 1,000 observations (`$orderby=phenomenonTime desc`, what Masterportal asks);
2. 1,000 observations from a random day (`$filter=phenomenonTime ge …`);
3. the page after that one, through its `@iot.nextLink` (keyset continuation);
4. a walk through the whole year by nextLinks (526 pages): p50/p95 of every page, which
   shows a deep page costs what the first costs.

Prints a table and writes it, with this command, to the `## SensorThings API` section of
docs/benchmarks.md. Target (issue 13): a page of 1,000 observations p95 < 300 ms.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# The checkout, for testkit: it is not installed with the wheel.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_ingest import write_docs  # one home for a section of docs/benchmarks.md
from werkzeug.serving import make_server

from dashboard.app import create_app
from opendata.sta.ids import stable_id
from opendata.sta.instant import Instant
from stadtpuls.catalogue import Catalogue
from stadtpuls.reading import Reading
from stadtpuls.store.influx import InfluxStore
from stadtpuls.timebase import NS_PER_DAY, NS_PER_MIN
from stadtpuls.units import Quantity
from testkit.servers import InfluxServer

YEAR_MIN = 525_600
# A live sensor: the year ends at the current minute.
START = (time.time_ns() // NS_PER_MIN - YEAR_MIN) * NS_PER_MIN


def bench_catalogue() -> Catalogue:
    sensor = {"id": "air_temp", "name": {"de": "Lufttemperatur", "en": "Air temperature"},
              "quantity": "temperature", "position": {"lat": 48.0, "lon": 7.8},
              "interval_s": 60, "plausible": {"min": -40, "max": 60}}
    return Catalogue.model_validate({"version": 1, "sites": {"bench": {
        "name": {"de": "Bench", "en": "Bench"}, "location": {"lat": 48.0, "lon": 7.8},
        "timezone": "Europe/Berlin", "data_class": "public", "licence": "dl-de/by-2-0",
        "sensors": [sensor]}}})


def year_of_readings(batch: int = 50_000) -> Iterator[list[Reading]]:
    rng = random.Random(13)
    for first in range(0, YEAR_MIN, batch):
        yield [Reading("bench", "air_temp", Quantity.TEMPERATURE, START + i * NS_PER_MIN,
                       round(10 + 10 * rng.random(), 2))
               for i in range(first, min(first + batch, YEAR_MIN))]


CPU_MS: list[float] = []  # the app's CPU time per request (this process, not influxd)


def cpu_timed(app: Any) -> Any:
    """The WSGI app, recording the CPU time of the thread that answers each request."""
    def wrapped(environ: Any, start_response: Any) -> list[bytes]:
        started = time.thread_time()
        body = b"".join(app(environ, start_response))
        CPU_MS.append((time.thread_time() - started) * 1000)
        return [body]
    return wrapped


def timed_get(url: str, cpu: list[float] | None = None) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as response:
        body = json.loads(response.read())
    if cpu is not None:
        cpu.append(CPU_MS[-1])
    return (time.perf_counter() - started) * 1000, body


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def row(name: str, ms: list[float], cpu: list[float]) -> str:
    p95 = percentile(ms, 0.95)
    return (f"| {name} | {len(ms)} | {statistics.median(ms):.0f} ms | {p95:.0f} ms | "
            f"{statistics.median(cpu):.0f} ms | p95 < 300 ms {'met' if p95 < 300 else 'MISSED'} |")


def measure(base: str, samples: int, walk: bool) -> list[str]:
    ds = stable_id("Datastream", "bench", "air_temp")
    obs = f"{base}/Datastreams({ds})/Observations?$top=1000"
    rng = random.Random(1)
    timed_get(obs)  # warm influxd and the HistoricalLocation cache
    newest: list[float] = []
    day: list[float] = []
    nxt: list[float] = []
    cpu: tuple[list[float], list[float], list[float]] = ([], [], [])
    for _ in range(samples):
        ms, body = timed_get(obs + "&$orderby=phenomenonTime%20desc", cpu[0])
        assert len(body["value"]) == 1000
        newest.append(ms)
        since = Instant(START + rng.randrange(0, 360) * NS_PER_DAY).iso()
        ms, body = timed_get(obs + f"&$filter=phenomenonTime%20ge%20{since}", cpu[1])
        assert len(body["value"]) == 1000
        day.append(ms)
        ms, body = timed_get(body["@iot.nextLink"], cpu[2])
        assert len(body["value"]) == 1000
        nxt.append(ms)
    rows = [row("newest 1,000 (`$orderby=phenomenonTime desc`)", newest, cpu[0]),
            row("1,000 from a random day (`$filter=phenomenonTime ge …`)", day, cpu[1]),
            row("the next page (`@iot.nextLink`)", nxt, cpu[2])]
    if walk:
        pages: list[float] = []
        walk_cpu: list[float] = []
        seen, url = 0, obs
        while url:
            ms, body = timed_get(url, walk_cpu)
            pages.append(ms)
            seen += len(body["value"])
            url = body.get("@iot.nextLink")
        assert seen == YEAR_MIN, seen
        rows.append(row(f"every page of the year ({seen:,} observations)", pages, walk_cpu))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--no-walk", action="store_true")
    parser.add_argument("--no-write-docs", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, InfluxServer(Path(tmp)) as server:
        server.create_database("bench")
        store = InfluxStore(server.url, "bench/autogen", timeout_s=60)
        started = time.perf_counter()
        for batch in year_of_readings():
            store.write(batch)
        print(f"wrote {YEAR_MIN:,} readings in {time.perf_counter() - started:.1f} s",
              file=sys.stderr)
        app = create_app(store, bench_catalogue())
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        http = make_server("127.0.0.1", 0, cpu_timed(app.server), threaded=True)
        thread = threading.Thread(target=http.serve_forever, daemon=True)
        thread.start()
        try:
            rows = measure(f"http://127.0.0.1:{http.server_port}/sta/v1.1", args.samples,
                           not args.no_walk)
        finally:
            http.shutdown()
            store.close()
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    table = "\n".join([
        "| request (one Datastream, `$top=1000`) | requests | p50 | p95 | app CPU p50 | target |",
        "| --- | ---: | ---: | ---: | ---: | --- |", *rows]) + (
        f"\n\nData: one Datastream with a year of 1-minute readings ({YEAR_MIN:,}) in influxd "
        "1.6.7, written through `InfluxStore`; requests over HTTP to the dashboard's Flask app "
        "(werkzeug's threaded server, one client) on the same machine; times include "
        "rendering the JSON; app CPU is the answering thread's CPU time in the dashboard "
        f"process (influxd's work not included). Load average during the run: {load} on "
        f"{os.cpu_count()} cores ({datetime.now(UTC):%Y-%m-%d}).")
    print(table)
    if not args.no_write_docs:
        command = ".venv/bin/python bench/bench_sta.py"
        write_docs(f"Command: `{command}` ({os.cpu_count()} cores).\n\n{table}",
                   "SensorThings API")
    return 0


if __name__ == "__main__":
    sys.exit(main())
