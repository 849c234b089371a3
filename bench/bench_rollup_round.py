"""What one roll-up round costs at city scale, and which query shape influxd answers cheapest.

Usage:  .venv/bin/python bench/bench_rollup_round.py [--sites N] [--sensors-per-site N]
                                                      [--rounds N]

Starts its own influxd (1.6.7, `testkit.servers`), writes the last 90 minutes of 1-minute
temperature readings for every sensor (10 sites × 1,000 by default) straight to its /write
endpoint, and then:

1. runs the roll-up round over every series that got a reading in the last 30 s, R times,
   printing wall time and the CPU seconds of influxd and of this process (the ingest's
   share): as the worker ran it until session 6 (`Recomputer.recompute`: every window the
   readings touch, open or not, three tiers), and as it runs now (`recompute_closed`: a
   round while every window is still open, and the round after a quarter hour closed),
   and the query that finds the series of a closed quarter hour (`store.counts`);
2. times the raw-points query of the 15-minute tier in three shapes for the same series: the
   store's (100 series per query as `(site AND sensor) OR …`), per site with the sensors as
   `sensor = … OR …` (100 per query), and per site with no sensor filter at all.

The machine's load average is printed with every figure: the host is shared.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import statistics
import sys
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

from _catchup import cpu_seconds, pid_of

from stadtpuls.reading import SeriesKey
from stadtpuls.rollup.tiers import TIERS
from stadtpuls.rollup.worker import Recomputer
from stadtpuls.store.influx import InfluxStore
from stadtpuls.timebase import NS_PER_S
from stadtpuls.units import Quantity
from testkit.servers import InfluxServer

DB = "rollup"
MINUTE = 60 * NS_PER_S


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def fill(influx: InfluxServer, sites: int, per_site: int, now_ns: int) -> list[SeriesKey]:
    conn = http.client.HTTPConnection(influx.host, influx.http_port, timeout=300)
    end = now_ns - now_ns % MINUTE
    keys = [SeriesKey(f"d{s}", f"t{i}", Quantity.TEMPERATURE)
            for s in range(sites) for i in range(per_site)]
    lines: list[str] = []
    for minute in range(90):
        t = end - minute * MINUTE
        lines += [f"temperature,sensor={k.sensor},site={k.site} value={15.0 + i % 7!r},"
                  f"implausible=false {t}" for i, k in enumerate(keys)]
        if len(lines) >= 50_000 or minute == 89:
            conn.request("POST", f"/write?db={DB}", body="\n".join(lines).encode())
            response = conn.getresponse()
            response.read()
            if response.status != 204:
                raise RuntimeError(f"write answered {response.status}")
            lines = []
    return keys


def measured(pid: int, run: Callable[[], object]) -> tuple[float, float, float]:
    """Wall seconds, influxd CPU seconds, this process's CPU seconds of `run()`."""
    cpu0, own0, t0 = cpu_seconds(pid), own_cpu(), time.perf_counter()
    run()
    return time.perf_counter() - t0, cpu_seconds(pid) - cpu0, own_cpu() - own0


def query_shapes(influx: InfluxServer, keys: list[SeriesKey], start: int, end: int
                 ) -> dict[str, Callable[[], int]]:
    conn = http.client.HTTPConnection(influx.host, influx.http_port, timeout=300)

    def ask(q: str, params: dict[str, object]) -> int:
        body = urllib.parse.urlencode({"db": DB, "q": q, "epoch": "ns",
                                       "params": json.dumps(params)})
        conn.request("POST", "/query", body=body,
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        answer = json.loads(conn.getresponse().read())
        return sum(len(s["values"]) for r in answer["results"] for s in r.get("series", []))

    select = 'SELECT "value", "implausible" FROM "temperature" WHERE '
    span = "time >= $start AND time < $end"
    sites = sorted({k.site for k in keys})

    def pairs() -> int:
        got = 0
        for i in range(0, len(keys), 100):
            part = keys[i:i + 100]
            params: dict[str, object] = {"start": start, "end": end}
            alternatives = []
            for j, k in enumerate(part):
                params[f"site{j}"], params[f"sensor{j}"] = k.site, k.sensor
                alternatives.append(f'("site" = $site{j} AND "sensor" = $sensor{j})')
            got += ask(f"{select}({' OR '.join(alternatives)}) AND {span} "
                       'GROUP BY "site", "sensor"', params)
        return got

    def site_and_sensors() -> int:
        got = 0
        for site in sites:
            mine = [k for k in keys if k.site == site]
            for i in range(0, len(mine), 100):
                part = mine[i:i + 100]
                params: dict[str, object] = {"start": start, "end": end, "site": site}
                params.update({f"sensor{j}": k.sensor for j, k in enumerate(part)})
                sensors = " OR ".join(f'"sensor" = $sensor{j}' for j in range(len(part)))
                got += ask(f'{select}"site" = $site AND ({sensors}) AND {span} '
                           'GROUP BY "site", "sensor"', params)
        return got

    def whole_site() -> int:
        return sum(ask(f'{select}"site" = $site AND {span} GROUP BY "site", "sensor"',
                       {"start": start, "end": end, "site": site}) for site in sites)

    return {"(site AND sensor) OR ..., 100 per query": pairs,
            "site AND (sensor OR ...), 100 per query": site_and_sensors,
            "site only, one query per site": whole_site}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=10)
    parser.add_argument("--sensors-per-site", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with InfluxServer() as influx:
        influx.create_database(DB)
        pid = pid_of(str(influx.workdir / "influxdb.conf"))
        now = time.time_ns()
        started = time.perf_counter()
        keys = fill(influx, args.sites, args.sensors_per_site, now)
        print(f"cores {os.cpu_count()}, {len(keys):,} series × 90 min written in "
              f"{time.perf_counter() - started:.1f} s, load {load()}", flush=True)
        # Reads go to influxd itself, as they would in production; writes through the test
        # kit's v2-write adapter (influxd 1.6.7 has no /api/v2/write), whose CPU is this
        # process's.
        store = InfluxStore(influx.direct_url, f"{DB}/autogen", timeout_s=300)
        writer = InfluxStore(influx.url, f"{DB}/autogen", timeout_s=300)
        store.write_rollups = writer.write_rollups  # type: ignore[method-assign]
        recomputer = Recomputer(store, lambda _key: 60.0)
        ranges = {k: (now - 30 * NS_PER_S, now) for k in keys}
        rounds = [measured(pid, lambda: recomputer.recompute(ranges))
                  for _ in range(args.rounds)]
        for wall, influxd, own in rounds:
            print(f"  round over {len(keys):,} changed series: {wall:.2f} s, influxd CPU "
                  f"{influxd:.2f} s, roll-up worker CPU {own:.2f} s, load {load()}", flush=True)
        print(f"  median: {statistics.median(r[0] for r in rounds):.2f} s, influxd "
              f"{statistics.median(r[1] for r in rounds):.2f} s, worker "
              f"{statistics.median(r[2] for r in rounds):.2f} s", flush=True)
        # Rounds as the worker runs them now: open windows wait until they close.
        quarter = now - now % (15 * MINUTE) + 15 * MINUTE
        for label, closed_by in (("every window still open", now),
                                 ("the quarter hour just closed", quarter + NS_PER_S)):
            results = [measured(pid, lambda c=closed_by: recomputer.recompute_closed(  # type: ignore[misc]
                {t: dict(ranges) for t in TIERS}, c)) for _ in range(args.rounds)]
            print(f"  round, {label}: {statistics.median(r[0] for r in results):.2f} s, "
                  f"influxd CPU {statistics.median(r[1] for r in results):.2f} s, worker "
                  f"{statistics.median(r[2] for r in results):.2f} s, load {load()}", flush=True)
        start = now - now % (15 * MINUTE)
        # Live readings mark every series at once (session 7): once their quarter hour has
        # closed the worker asks the store which series have readings in it, in one query.
        results = [measured(pid, lambda: len(store.counts(start - 15 * MINUTE, start)))
                   for _ in range(args.rounds)]
        print(f"  series with readings in the quarter hour that closed (store.counts): "
              f"{statistics.median(r[0] for r in results):.2f} s, influxd CPU "
              f"{statistics.median(r[1] for r in results):.2f} s, worker "
              f"{statistics.median(r[2] for r in results):.2f} s, load {load()}", flush=True)
        for name, shape in query_shapes(influx, keys, start - 2 * MINUTE, now).items():
            results = [measured(pid, shape) for _ in range(args.rounds)]
            print(f"  15-min tier's raw points, {name}: "
                  f"{statistics.median(r[0] for r in results):.2f} s, influxd CPU "
                  f"{statistics.median(r[1] for r in results):.2f} s, load {load()}",
                  flush=True)
        store.close()
        writer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
