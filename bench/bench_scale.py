"""City-scale benchmark: 10,000 sensors × 24 h of 1-minute data on InfluxDB (issue 12).

Usage:  .venv/bin/python bench/bench_scale.py [--sensors N] [--hours H] [--reps R]
                                            [--messages N] [--skip-browser] [--skip-ingest]
                                            [--ingest-only] [--rounds N] [--late]

Starts its own influxd (1.6.7; bulk data goes straight to its /write endpoint) and Mosquitto
from `testkit.servers`, writes the generated city (`testkit.city`: catalogue with templates and
CSV files) and its readings, and the sensor state snapshot the ingest would have written (the
same `StateTracker`, fed the same readings). Then it measures:

1. `stadtpuls config check` of the catalogue (wall time of the command, R runs);
2. the sensors, overview and map pages' data, each COLD in a fresh process (R runs each;
   catalogue loading reported apart), the payload sent to the browser and the process's peak
   RSS; the sensors page also without the snapshot (the raw scan it replaces);
3. the ingest's throughput with 10,000 distinct series and with 41, interleaved, same run,
   with the CPU seconds the ingest, influxd and Mosquitto spent in each timed round
   (`--ingest-only` runs just this, against an empty influxd: no city, pages or browser;
   readings live, or with `--late` three days old);
4. headless Chromium: navigation to /sensors until the first rows and the total show.

The machine's load average is printed with every figure: the host is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

import urllib3

from stadtpuls.catalogue import Catalogue, load_catalogue
from stadtpuls.reading import Reading
from stadtpuls.state.tracker import StateTracker
from stadtpuls.state.windows import catalogue_windows
from stadtpuls.store.influx import InfluxStore
from stadtpuls.store.line_protocol import escape_tag
from stadtpuls.timebase import NS_PER_S
from testkit.city import city_minutes, city_series, city_values, write_city
from testkit.servers import InfluxServer, MosquittoServer, free_port

ROOT = Path(__file__).resolve().parents[1]
DB = "bench"
PAGES = ("sensors", "overview", "map")


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f}/{five:.1f}/{fifteen:.1f}"


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


# --- data ----------------------------------------------------------------------------------

def fill(influx: InfluxServer, catalogue: Catalogue, end_ns: int, minutes: int) -> dict[str, Any]:
    """Write every series' readings straight to influxd and count them into a tracker."""
    http = urllib3.PoolManager()
    tracker = StateTracker(catalogue_windows(catalogue))
    started = time.perf_counter()
    lines: list[str] = []
    points = 0

    def post() -> None:
        resp = http.request("POST", f"{influx.direct_url}/write?db={DB}&precision=ns",
                            body="\n".join(lines).encode())
        if resp.status >= 300:
            raise RuntimeError(f"influxd refused the bulk write: {resp.data[:300]!r}")
        lines.clear()

    for n, (site, sensor, quantity, kind) in enumerate(city_series(catalogue)):
        times = city_minutes(end_ns, minutes, kind)
        values = city_values(quantity.value, kind, len(times), n)
        prefix = (f"{quantity.value},sensor={escape_tag(sensor)},site={escape_tag(site)} "
                  "value=")
        lines += [f"{prefix}{v!r},implausible=false,unregistered=false {t}"
                  for t, v in zip(times, values, strict=True)]
        tracker.add([Reading(site, sensor, quantity, t, v)
                     for t, v in zip(times, values, strict=True)])
        points += len(times)
        if len(lines) >= 100_000:
            post()
        if n % 1000 == 999:
            print(f"  {n + 1} series, {points:,} points, {time.perf_counter() - started:.0f} s,"
                  f" load {load()}", flush=True)
    if lines:
        post()
    seconds = time.perf_counter() - started
    store = InfluxStore(influx.url, f"{DB}/autogen", timeout_s=120)
    at = end_ns + 30 * NS_PER_S
    rows = tracker.rows("bench-loader", at)
    store.write_states(rows)
    store.close()
    return {"points": points, "seconds": seconds, "series": len(tracker),
            "state_rows": len(rows)}


# --- one cold page in a fresh process --------------------------------------------------------

class _RawOnly:
    """The store without its sensor state: the dashboard falls back to raw scans."""

    def __init__(self, store: InfluxStore) -> None:
        self.latest = store.latest
        self.aggregate = store.aggregate
        self.counts = store.counts
        self.close = store.close


def child(args: argparse.Namespace) -> None:
    import plotly.graph_objects as go

    from dashboard.data.overview import overview
    from dashboard.data.sensor_table import order, page_of, select
    from dashboard.data.source import DataSource
    from dashboard.data.status import sensor_states_shared
    from dashboard.figures import theme
    from dashboard.figures.map import sensor_map
    from dashboard.pages.map import clustered, counts_table
    from dashboard.pages.overview import _values
    from dashboard.pages.sensors import PAGE_SIZE, _labels, rows

    # Process warm-up, not data: plotly builds its validators and the theme's template on
    # first use (seconds on a loaded host); a dashboard pays that once, at its first request.
    t0 = time.perf_counter()
    warm = go.Figure(go.Scatter(x=[0], y=[0]))
    warm.add_trace(go.Scattermap(lat=[0], lon=[0]))
    warm.update_layout(**theme.base_layout("de", height=100))
    warm.to_plotly_json()
    t_warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    catalogue = load_catalogue(args.catalogue)
    t_cat = time.perf_counter() - t0
    influx_store = InfluxStore(args.influx_url, f"{DB}/autogen", timeout_s=120)
    store: Any = _RawOnly(influx_store) if args.raw else influx_store
    now = args.now
    source = DataSource.create(store, catalogue, clock=lambda: now)
    t1 = time.perf_counter()
    c1 = time.process_time()
    payload: Any
    if args.page == "sensors":
        labels = _labels(source, "de")
        chosen = order(select(sensor_states_shared(source), labels), labels, [])
        payload = {"rowData": rows(source, page_of(chosen, 0, PAGE_SIZE), "de"),
                   "rowCount": len(chosen)}
    elif args.page == "overview":
        payload = [_values(source, s, s.site_id, "de") for s in overview(source)]
    else:
        shown, _ = clustered(sensor_states_shared(source), "de")
        payload = [sensor_map(shown, "de").to_plotly_json(),
                   counts_table(source, sensor_states_shared(source), "de")]
    seconds = time.perf_counter() - t1
    cpu = time.process_time() - c1
    size = len(json.dumps(payload, default=lambda o: o.to_plotly_json()
                          if hasattr(o, "to_plotly_json") else str(o)))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    line = json.dumps({"page": args.page, "raw": args.raw, "seconds": seconds, "cpu_s": cpu,
                       "catalogue_s": t_cat, "warm_s": t_warm, "bytes": size, "rss_mb": rss,
                       "load": load()})
    with (Path(args.catalogue).parent / "children.jsonl").open("a") as f:
        f.write(line + "\n")
    print(line)


def cold(args: argparse.Namespace, catalogue: Path, influx: InfluxServer, page: str,
         now: float, raw: bool = False) -> dict[str, Any]:
    runs = []
    for _ in range(args.reps if not raw else max(2, args.reps // 2)):
        out = subprocess.run(
            [sys.executable, __file__, "--child", page, "--catalogue", str(catalogue),
             "--influx-url", influx.url, "--now", repr(now), *(["--raw"] if raw else [])],
            check=True, capture_output=True, text=True, cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)})
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    seconds = [r["seconds"] for r in runs]
    return {"page": page + (" (raw scan, no snapshot)" if raw else ""), "n": len(runs),
            "p50": statistics.median(seconds), "p95": p95(seconds),
            "cpu_p95": p95([r["cpu_s"] for r in runs]),
            "catalogue_s": statistics.median(r["catalogue_s"] for r in runs),
            "warm_s": statistics.median(r["warm_s"] for r in runs),
            "kb": runs[0]["bytes"] / 1024, "rss_mb": max(r["rss_mb"] for r in runs),
            "load": load()}


# --- config check ----------------------------------------------------------------------------

def config_check(catalogue: Path, reps: int) -> dict[str, Any]:
    walls = []
    cpus = []
    for _ in range(reps):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "stadtpuls.cli", "config", "check",
                        str(catalogue)], check=True, capture_output=True, cwd=ROOT,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
        walls.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return {"p50": statistics.median(walls), "max": max(walls), "cpu_max": max(cpus),
            "load": load()}


# --- ingest: 10,000 series against 41 --------------------------------------------------------

def ingest_ratio(tmp: Path, influx: InfluxServer, messages: int, rounds: int,
                 late: bool = False) -> dict[str, Any]:
    """Live readings (the default) are timed as a city sends them, just before they are
    sent (10 µs apart: a round spans a second, rounds never share a time); `late` times
    them three days back (1 ms apart), as the bench did until session 7 — the roll-up marks
    keep such readings per series (`DirtySeries.live_from`), so both are worth a figure."""
    from _catchup import pid_of
    from _common import RawPublisher, publish_packet
    from bench_ingest import Ingest

    from testkit.loadgen import json_payload, json_topic

    sites = {"few": 41, "many": 10_000}
    catalogue = ingest_catalogue(tmp, sites)
    mq = MosquittoServer(tmp / "mq")
    mq.start()
    # Roll-up rounds are work per changed series every period, not per message: a round after
    # the 10,000-series burst costs about 2 s of the ingest's CPU and 6 s of influxd's (20 s
    # of wall time), and whichever timed round it overlapped lost half its rate (measured:
    # 11,146 against 26,000–36,000 msg/s). So they run outside the timed rounds: the start-up
    # catch-up (over the city's last 6 h in the full run) is awaited, and the next round is
    # an hour away; the marking on the hot path stays as in production.
    started = time.monotonic()
    ingest = Ingest(mq, influx, catalogue, tmp / "ingest-data", "--rollup-period", "3600")
    catch_up_s = wait_for_log(tmp / "ingest-data" / "ingest.log", "roll-ups caught up",
                              started)
    print(f"  ingest roll-up catch-up done {catch_up_s:.1f} s after start, load {load()}"
          if catch_up_s is not None else "  ingest roll-up catch-up still running after "
          "30 min: timing anyway (the rounds share the machine with it)", flush=True)
    store = InfluxStore(influx.url, "bench/autogen", timeout_s=120)
    # CPU seconds per timed round of the processes that share the cores (the publisher and
    # the v2-write adapter are this process).
    pids = {"ingest": ingest.proc.pid, "influxd": pid_of(str(influx.workdir / "influxdb.conf")),
            "mosquitto": pid_of(str(mq.workdir / "mosquitto.conf")), "bench": os.getpid()}
    base_ms = (time.time_ns() // 1_000_000) - 3 * 86_400_000
    results: dict[str, list[float]] = {s: [] for s in sites}
    cpu: dict[str, list[dict[str, float]]] = {s: [] for s in sites}
    batch_sizes: dict[str, list[int]] = {s: [] for s in sites}
    offset = 0
    try:
        # Interleaved rounds (few, many, few, many): drift in the machine's load hits both.
        # Rounds reuse the site and shift the times, so every reading is new.
        for _round in range(rounds):
            for site, n in sites.items():
                now_ms = time.time_ns() / 1_000_000 - 2_000
                packets = [publish_packet(json_topic(site, i % n),
                                          json_payload(float(i), base_ms + offset + i) if late
                                          else b'{"value":%r,"ts":%.2f}' % (
                                              float(i), now_ms + i / 100),
                                          RawPublisher.mid(i + offset))
                           for i in range(messages)]
                before = sum(store.counts(0, 2**62, site).values())
                r, used, mean_batch = measure_throughput_delta(ingest, mq, store, site,
                                                               packets, messages, before, pids)
                results[site].append(r)
                cpu[site].append(used)
                offset += messages
                batch_sizes[site].append(mean_batch)
                print(f"  ingest {site} ({n} series): {r:,.0f} msg/s, CPU s {used}, "
                      f"{mean_batch:,} readings per write, "
                      f"load {load()}", flush=True)
    finally:
        ingest.stop()
        mq.stop()
        store.close()
    few = statistics.median(results["few"])
    many = statistics.median(results["many"])
    low, high = ratio_interval(results["few"], results["many"])
    ingest_cpu = {site: statistics.median(c["ingest"] for c in cpu[site]) for site in sites}
    print(f"  ratio of medians {many / few:.3f} (95 % bootstrap interval {low:.3f}-{high:.3f}, "
          f"{rounds} rounds each); ingest CPU s per {messages:,} messages: "
          f"{ingest_cpu['few']:.2f} with 41 series, {ingest_cpu['many']:.2f} with 10,000",
          flush=True)
    return {"timed": "late" if late else "live",
            "few": few, "many": many, "ratio": many / few, "ratio_95": [low, high],
            "ingest_cpu_s": ingest_cpu, "load": load(),
            "runs": results, "cpu_s": cpu, "readings_per_write": batch_sizes,
            "rollup_catch_up_s": catch_up_s}


def ratio_interval(few: list[float], many: list[float], resamples: int = 10_000
                   ) -> tuple[float, float]:
    """A 95 % percentile-bootstrap interval of median(many) / median(few): rounds scatter by
    a third on a shared host, so one ratio alone says little about the next run's."""
    rng = random.Random(12)
    ratios = sorted(statistics.median(rng.choices(many, k=len(many)))
                    / statistics.median(rng.choices(few, k=len(few)))
                    for _ in range(resamples))
    return ratios[int(0.025 * resamples)], ratios[int(0.975 * resamples) - 1]


def wait_for_log(path: Path, text: str, since: float, timeout_s: float = 1_800
                 ) -> float | None:
    """Seconds from `since` (monotonic) until `text` appears in the log at `path` (None: not
    within `timeout_s`; the run goes on rather than lose what it measured before)."""
    while text not in path.read_text():
        if time.monotonic() - since > timeout_s:
            return None
        time.sleep(0.5)
    return time.monotonic() - since


def ingest_catalogue(tmp: Path, sites: dict[str, int]) -> Path:
    """Sites of power sensors s0..s(n-1) (as testkit.loadgen.site_yaml), from CSV files."""
    import yaml

    for site, n in sites.items():
        (tmp / f"{site}.csv").write_text("id,name_de,name_en,lat,lon,template\n" + "".join(
            f"s{i},Sensor {i},Sensor {i},48.0,7.8,power\n" for i in range(n)))
    path = tmp / "ingest.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "templates": {"power": {
        "quantity": "power", "unit": "W", "interval_s": 1,
        "plausible": {"min": -1e12, "max": 1e12}}}, "sites": {
        site: {"name": {"de": site, "en": site}, "location": {"lat": 48.0, "lon": 7.8},
               "timezone": "Europe/Berlin", "sensors_csv": f"{site}.csv"} for site in sites}}))
    return path


def measure_throughput_delta(ingest: Any, mq: MosquittoServer, store: InfluxStore, site: str,
                             packets: list[bytes], readings: int, before: int,
                             pids: dict[str, int]) -> tuple[float, dict[str, float], int]:
    """msg/s, the CPU seconds of each of `pids` from the first publish until the ingest has
    written them all (not the count check after it: influxd answers that per series), and
    the mean readings per batch write."""
    from _catchup import cpu_seconds
    from _common import RawPublisher

    written = ingest.written()
    batches = ingest.batches()
    pub = RawPublisher(mq.host, mq.port, f"bench-pub-{site}-{before}")
    cpu0 = {name: cpu_seconds(pid) for name, pid in pids.items()}
    t0 = time.time()
    pub.publish_packets(packets)
    pub.close()
    done = ingest.wait_written(written + readings)
    used = {name: round(cpu_seconds(pid) - cpu0[name], 2) for name, pid in pids.items()}
    writes, in_writes = (after - b for after, b in zip(ingest.batches(), batches, strict=True))
    mean_batch = round(in_writes / writes) if writes else 0
    stored = sum(store.counts(0, 2**62, site).values())
    if stored != before + readings:
        raise RuntimeError(f"{site}: stored {stored}, expected {before + readings}")
    return readings / (done - t0), used, mean_batch


# --- browser ---------------------------------------------------------------------------------

def browser(catalogue: Catalogue, influx: InfluxServer, now: float, reps: int
            ) -> dict[str, Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.common.by import By
    from werkzeug.serving import make_server

    from dashboard.app import create_app

    options = Options()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1600,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options)
    import threading

    times = []
    try:
        for _ in range(reps):
            store = InfluxStore(influx.url, f"{DB}/autogen", timeout_s=120)
            app = create_app(store, catalogue, clock=lambda: now)
            port = free_port()
            server = make_server("127.0.0.1", port, app.server, threaded=True)
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            t0 = time.perf_counter()
            driver.get(f"http://127.0.0.1:{port}/sensors")
            deadline = time.monotonic() + 120
            while True:
                rows = driver.find_elements(By.CSS_SELECTOR, ".sensor-grid .ag-row a")
                count = driver.find_element(By.ID, "sensors-count").text \
                    if driver.find_elements(By.ID, "sensors-count") else ""
                if rows and count:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("the sensors page showed no rows in 120 s")
                time.sleep(0.02)
            times.append(time.perf_counter() - t0)
            print(f"  browser: {times[-1]:.2f} s ({count}), load {load()}", flush=True)
            server.shutdown()
            store.close()
    finally:
        driver.quit()
    return {"p50": statistics.median(times), "max": max(times), "n": len(times),
            "load": load()}


def ingest_only(messages: int, rounds: int, late: bool) -> int:
    with tempfile.TemporaryDirectory(prefix="stadtpuls-scale-") as tmp_name:
        tmp = Path(tmp_name)
        influx = InfluxServer(tmp / "influx")
        influx.start()
        try:
            influx.create_database(DB)
            ratio = ingest_ratio(tmp, influx, messages, rounds, late)
        finally:
            influx.stop()
    print(json.dumps({"ingest": ratio}, indent=1))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sensors", type=int, default=10_000)
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=12,
                        help="interleaved ingest rounds per catalogue, the median counts "
                             "(default 12, about 6 minutes: single rounds scatter by a third "
                             "on a shared host, and 6 rounds gave 95 %% intervals of 0.77-1.05)")
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument("--ingest-only", action="store_true",
                        help="only the ingest's 41 vs 10,000 series rounds, on an empty influxd")
    parser.add_argument("--late", action="store_true",
                        help="ingest rounds with readings timed three days back, not live")
    parser.add_argument("--child", choices=PAGES)
    parser.add_argument("--catalogue")
    parser.add_argument("--influx-url")
    parser.add_argument("--now", type=float)
    parser.add_argument("--raw", action="store_true")
    args = parser.parse_args()
    if args.child:
        args.page = args.child
        child(args)
        return 0
    print(f"cores {os.cpu_count()}, load {load()}", flush=True)
    if args.ingest_only:
        return ingest_only(args.messages, args.rounds, args.late)
    with tempfile.TemporaryDirectory(prefix="stadtpuls-scale-") as tmp_name:
        tmp = Path(tmp_name)
        catalogue_path = write_city(tmp / "city", args.sensors)
        catalogue = load_catalogue(catalogue_path)
        check = config_check(catalogue_path, 3)
        print(f"config check: p50 {check['p50']:.2f} s, max {check['max']:.2f} s, "
              f"load {check['load']}", flush=True)
        influx = InfluxServer(tmp / "influx")
        influx.start()
        try:
            influx.create_database(DB)
            end_ns = time.time_ns()
            filled = fill(influx, catalogue, end_ns, int(args.hours * 60))
            print(f"loaded {filled['points']:,} points in {filled['seconds']:.0f} s "
                  f"({filled['points'] / filled['seconds']:,.0f}/s), load {load()}",
                  flush=True)
            now = end_ns / NS_PER_S + 40
            results = []
            for page in PAGES:
                results.append(cold(args, catalogue_path, influx, page, now))
                print(f"  {results[-1]}", flush=True)
            results.append(cold(args, catalogue_path, influx, "sensors", now, raw=True))
            print(f"  {results[-1]}", flush=True)
            # The browser before the ingest runs: those write other sites (and newer sensor
            # state rows) into the same database.
            shown = None if args.skip_browser else browser(catalogue, influx, now, 3)
            ratio = None if args.skip_ingest else ingest_ratio(tmp, influx, args.messages,
                                                                 args.rounds, args.late)
        finally:
            influx.stop()
    print(json.dumps({"config_check": check, "fill": filled, "pages": results,
                      "ingest": ratio, "browser": shown}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
