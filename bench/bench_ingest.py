"""Ingest benchmark: raw paho ceiling, sustained throughput (JSON, SenML), end-to-end latency.

Usage:  .venv/bin/python bench/bench_ingest.py [--messages N] [--packs N] [--catchup N]
                                             [--catchup-rounds R] [--only-catchup] [--no-docs]

Starts its own Mosquitto and influxd (1.6.7 behind the v2-write adapter) from
`testkit.servers`, then measures in one run:

1. raw ceiling: a bare paho 2.x subscriber (QoS 1, MQTT 5, auto-ack, empty on_message) in its
   own process receiving N single-reading JSON messages;
2. ingest throughput, single-reading JSON: N messages, from the first publish until the
   ingest's `readings_written_total` reaches N (then the store count is checked exactly);
3. ingest throughput, SenML packs of 100 records;
4. end-to-end latency at a fixed 5,000 msg/s: every message carries a unique source time;
   a poller asks the store for the newest reading of each series (`Store.latest`) every 20 ms;
   a message counts as queryable at the first poll that returns its series' reading at or
   after its own (one series is written in order). Latency = that poll's time - the time the
   message was handed to the socket; the poll interval bounds the error (+0..20 ms).
5. catch-up after downtime (runs first, before any other session exists): N QoS 1 messages
   queued for a persistent session while nothing is connected, drained by a bare paho
   subscriber and by a freshly started ingest, each timed from its process start (details
   in bench/_catchup.py).

The publisher is a raw-socket QoS 1 client with pre-encoded packets (bench/_common.py); the
table shows when it finished, well before the subscriber, so it does not set the pace. All
processes share this machine's cores (`nproc`); so the figures include the broker's and
influxd's CPU use.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# bench/ for _common; the checkout for testkit, which is not installed with the wheel.
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

from _catchup import SITE as CATCHUP_SITE
from _catchup import CatchUp, render_catchup, site_yaml_with_markers
from _common import RawPublisher, publish_packet

from stadtpuls.store.influx import InfluxStore
from stadtpuls.topics import senml_topic
from testkit.loadgen import (
    SENML_RECORDS,
    json_payload,
    json_topic,
    senml_pack,
    site_yaml,
    write_catalogue,
)
from testkit.servers import InfluxServer, MosquittoServer, free_port

ROOT = Path(__file__).resolve().parents[1]
SENSORS = 10
BASE_MS = (time.time_ns() // 1_000_000) - 10 * 86_400_000  # ten days ago: unique, in range


def json_packets(site: str, n: int, offset: int = 0) -> list[bytes]:
    return [publish_packet(json_topic(site, i % SENSORS), json_payload(float(i), BASE_MS + i),
                           RawPublisher.mid(i + offset)) for i in range(n)]


def measure_ceiling(mq: MosquittoServer, n: int, fast: bool = False) -> dict[str, float]:
    topic_site = "ceilingfast" if fast else "ceiling"
    sub = subprocess.Popen([sys.executable, str(Path(__file__).parent / "_common.py"),
                            "subscribe-fast" if fast else "subscribe", mq.host, str(mq.port),
                            f"stadtpuls/{topic_site}/#", str(n)], stdout=subprocess.PIPE, text=True)
    assert sub.stdout is not None
    assert sub.stdout.readline().strip() == "subscribed"
    packets = json_packets(topic_site, n)
    pub = RawPublisher(mq.host, mq.port, f"bench-pub-{topic_site}")
    t0 = time.time()
    pub.publish_packets(packets)
    t_pub = time.time() - t0
    pub.close()
    done_at = float(sub.stdout.readline())
    sub.wait(30)
    elapsed = done_at - t0
    return {"messages": n, "seconds": elapsed, "msg_s": n / elapsed, "publisher_s": t_pub}


class Ingest:
    def __init__(self, mq: MosquittoServer, influx: InfluxServer, catalogue: Path,
                 data: Path, *extra: str) -> None:
        self.port = free_port()
        self.cmd = [sys.executable, "-m", "stadtpuls.cli", "ingest", "--mqtt-url", mq.url,
                    "--influx-url", influx.url, "--influx-bucket", "bench/autogen",
                    "--catalogue", str(catalogue), "--data-dir", str(data),
                    "--client-id", "bench-ingest", "--http-port", str(self.port),
                    # The pipeline figures (about ten readings per interval) count towards
                    # readings_written_total too: with them, a run longer than the interval
                    # reached its target before the last batch was stored (measured: 199,984
                    # of 200,000 stored on a loaded machine).
                    "--stats-interval", "0", *extra]
        data.mkdir(parents=True, exist_ok=True)
        self.log = (data / "ingest.log").open("w")
        self.proc = subprocess.Popen(self.cmd, stderr=self.log, stdout=self.log, cwd=ROOT)
        deadline = time.monotonic() + 30
        while '"broker": "connected"' not in self._get("/healthz"):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"ingest did not connect; see {self.log.name}")
            time.sleep(0.1)
        time.sleep(0.5)  # the SUBACK follows the CONNACK

    def _get(self, path: str) -> str:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request("GET", path)
            return conn.getresponse().read().decode()
        except OSError:
            return ""
        finally:
            conn.close()

    def written(self) -> float:
        return self.metric("stadtpuls_ingest_readings_written_total")

    def metric(self, name: str) -> float:
        m = re.search(rf"^{name} (\S+)$", self._get("/metrics"), re.M)
        return float(m.group(1)) if m else 0.0

    def batches(self) -> tuple[float, float]:
        """(batch writes, readings in them) so far."""
        return (self.metric("stadtpuls_ingest_write_readings_count"),
                self.metric("stadtpuls_ingest_write_readings_sum"))

    def wait_written(self, target: float, timeout: float = 600) -> float:
        deadline = time.monotonic() + timeout
        while self.written() < target:
            if time.monotonic() > deadline:
                raise RuntimeError(f"ingest wrote {self.written()} of {target}")
            time.sleep(0.05)  # each scrape costs the ingest ~1 ms of CPU
        return time.time()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(60)
        self.log.close()


def measure_throughput(ingest: Ingest, mq: MosquittoServer, store: InfluxStore, site: str,
                       packets: list[bytes], readings: int) -> dict[str, float]:
    before = ingest.written()
    pub = RawPublisher(mq.host, mq.port, f"bench-pub-{site}")
    t0 = time.time()
    pub.publish_packets(packets)
    t_pub = time.time() - t0
    pub.close()
    done = ingest.wait_written(before + readings)
    elapsed = done - t0
    stored = sum(store.counts(0, 2**62, site).values())
    if stored != readings:
        raise RuntimeError(f"{site}: stored {stored}, expected {readings}")
    return {"messages": len(packets), "readings": readings, "seconds": elapsed,
            "msg_s": len(packets) / elapsed, "readings_s": readings / elapsed,
            "publisher_s": t_pub}


def measure_latency(ingest: Ingest, mq: MosquittoServer, store: InfluxStore, rate: float,
                    seconds: float) -> dict[str, float]:
    import threading

    site = "benchlat"
    n = int(rate * seconds)
    polls: list[tuple[int, dict[str, int]]] = []
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            latest = store.latest(site)
            now = time.time_ns()
            polls.append((now, {k.sensor: r.time_ns for k, r in latest.items()}))
            time.sleep(0.02)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    pub = RawPublisher(mq.host, mq.port, "bench-pub-latency")
    sent_at = pub.publish_paced(
        lambda i: publish_packet(json_topic(site, i % SENSORS),
                                 json_payload(float(i), BASE_MS + i), RawPublisher.mid(i)),
        n, rate)
    pub.close()
    deadline = time.monotonic() + 60
    last = {f"s{s}": (BASE_MS + n - SENSORS + s) * 1_000_000 for s in range(SENSORS)}
    while not polls or any(polls[-1][1].get(k, 0) < v for k, v in last.items()):
        if time.monotonic() > deadline:
            raise RuntimeError("latency run: not all readings became queryable")
        time.sleep(0.05)
    stop.set()
    poller.join()
    # Sweep: per series, the first poll whose newest time covers message i.
    latencies: list[float] = []
    cursor = dict.fromkeys(last, 0)
    for i in range(n):
        sensor = f"s{i % SENSORS}"
        ts = (BASE_MS + i) * 1_000_000
        j = cursor[sensor]
        while polls[j][1].get(sensor, 0) < ts:
            j += 1
        cursor[sensor] = j
        latencies.append((polls[j][0] - sent_at[i]) / 1e9)
    latencies.sort()
    return {"rate": rate, "messages": n, "p50_s": statistics.median(latencies),
            "p99_s": latencies[int(0.99 * (n - 1))], "max_s": latencies[-1]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--packs", type=int, default=5_000)
    parser.add_argument("--rate", type=float, default=5_000)
    parser.add_argument("--latency-seconds", type=float, default=20)
    parser.add_argument("--catchup", type=int, default=300_000,
                        help="messages queued for the catch-up scenario (0: skip it)")
    parser.add_argument("--catchup-rounds", type=int, default=2)
    parser.add_argument("--catchup-baseline", metavar="CHECKOUT",
                        help="also drain each backlog with the ingest of another checkout "
                        "(e.g. the main branch): before/after in one run")
    parser.add_argument("--only-catchup", action="store_true",
                        help="run the catch-up scenario only")
    parser.add_argument("--no-docs", action="store_true", help="do not update docs")
    parser.add_argument("--rollups", action="store_true",
                        help="only: JSON throughput with roll-ups off, then on (every 1 s), "
                        "in one run")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="stadtpuls-bench-") as tmp_name:
        tmp = Path(tmp_name)
        with MosquittoServer(tmp / "mosquitto") as mq, InfluxServer(tmp / "influxd") as influx:
            influx.create_database("bench")
            store = InfluxStore(influx.url, "bench/autogen", timeout_s=60)
            catalogue = write_catalogue(tmp / "bench.yaml", {
                "bench": site_yaml("bench", SENSORS),
                "benchsenml": site_yaml("benchsenml", SENML_RECORDS, senml=True),
                "benchlat": site_yaml("benchlat", SENSORS),
                CATCHUP_SITE: site_yaml_with_markers(site_yaml),
            })
            catchup = []
            if args.catchup:
                bench = CatchUp(mq, influx, catalogue, tmp / "catchup", free_port,
                                args.catchup_baseline)
                for k in range(args.catchup_rounds):
                    catchup.append(bench.round(args.catchup, BASE_MS + (k + 1) * 10_000_000,
                                               ingest_first=k % 2 == 1))
                    print(f"catch-up: {catchup[-1]}", flush=True)
                bench.close()
            if args.rollups:
                table = measure_rollups(mq, influx, store, catalogue, tmp, args.messages)
                store.close()
                print(table)
                if not args.no_docs:
                    write_docs(table, "Ingest with roll-ups")
                return 0
            if args.only_catchup:
                store.close()
                table = render_catchup(catchup, args, load_before)
                print(table)
                if not args.no_docs:
                    write_docs(table, CATCHUP_HEADING)
                return 0
            print(f"machine: {os.cpu_count()} cores; N = {args.messages} messages, "
                  f"{args.packs} SenML packs", flush=True)
            ceiling = measure_ceiling(mq, args.messages)
            print(f"ceiling: {ceiling}", flush=True)
            fast = measure_ceiling(mq, args.messages, fast=True)
            print(f"ceiling, buffered reader: {fast}", flush=True)
            ingest = Ingest(mq, influx, catalogue, tmp / "data")
            try:
                single = measure_throughput(ingest, mq, store, "bench",
                                            json_packets("bench", args.messages),
                                            args.messages)
                print(f"json: {single}", flush=True)
                packs = [publish_packet(senml_topic("benchsenml"),
                                        senml_pack((BASE_MS + k) / 1000), RawPublisher.mid(k))
                         for k in range(args.packs)]
                senml = measure_throughput(ingest, mq, store, "benchsenml", packs,
                                           args.packs * SENML_RECORDS)
                print(f"senml: {senml}", flush=True)
                latency = measure_latency(ingest, mq, store, args.rate, args.latency_seconds)
                print(f"latency: {latency}", flush=True)
            finally:
                ingest.stop()
            store.close()
    args.load = (load_before, os.getloadavg()[0])
    table = render(ceiling, fast, single, senml, latency, args)
    print(table)
    catchup_table = render_catchup(catchup, args, load_before) if catchup else ""
    print(catchup_table)
    if not args.no_docs:
        write_docs(table)
        if catchup_table:
            write_docs(catchup_table, CATCHUP_HEADING)
    return 0


def measure_rollups(mq: MosquittoServer, influx: InfluxServer, store: InfluxStore,
                    catalogue: Path, tmp: Path, n: int) -> str:
    """JSON throughput without and with the roll-up worker (rounds every second), one run."""
    load = os.getloadavg()[0]
    results = {}
    for name, site, extra in (("off", "bench", ("--rollup-period", "0")),
                              ("on", "benchlat", ("--rollup-period", "1"))):
        ingest = Ingest(mq, influx, catalogue, tmp / f"data-{name}", *extra)
        try:
            results[name] = measure_throughput(ingest, mq, store, site,
                                               json_packets(site, n), n)
        finally:
            ingest.stop()
        print(f"roll-ups {name}: {results[name]}", flush=True)
    ratio = results["on"]["msg_s"] / results["off"]["msg_s"]
    return (f"Command: `.venv/bin/python bench/bench_ingest.py --rollups --messages {n} "
            f"--catchup 0` ({os.cpu_count()} cores).\n\n"
            "| roll-up worker | messages | msg/s |\n| --- | ---: | ---: |\n" + "".join(
        f"| {name} | {r['messages']:,.0f} | {r['msg_s']:,.0f} |\n"
        for name, r in results.items()) + f"\nRatio on/off: {ratio:.2f} (single-reading JSON "
        f"messages over {SENSORS} series; the worker recomputes every second instead of the "
        f"default 30 s; load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at "
        "the end, on a machine shared with other jobs).")


def render(ceiling: dict[str, float], fast: dict[str, float], single: dict[str, float],
           senml: dict[str, float], latency: dict[str, float], args: argparse.Namespace) -> str:
    ratio = single["msg_s"] / ceiling["msg_s"]
    fast_ratio = single["msg_s"] / fast["msg_s"]
    cmd = ".venv/bin/python bench/bench_ingest.py"
    if args.messages != 200_000 or args.packs != 5_000:
        cmd += f" --messages {args.messages} --packs {args.packs}"
    return "\n".join([
        f"Command: `{cmd}` ({os.cpu_count()} cores; Mosquitto 2.0.11, influxd 1.6.7 behind "
        "the v2-write adapter, ingest, publisher and poller all on this machine; 1-minute "
        f"load average {args.load[0]:.1f} before, {args.load[1]:.1f} after the run).",
        "",
        "| run | messages | readings | time | msg/s | readings/s | vs. ceiling | target |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        f"| raw ceiling: bare paho subscriber, QoS 1 | {ceiling['messages']:,.0f} | – | "
        f"{ceiling['seconds']:.2f} s | {ceiling['msg_s']:,.0f} | – | 100 % | – |",
        f"| same, with the ingest's buffered socket reader | {fast['messages']:,.0f} | – | "
        f"{fast['seconds']:.2f} s | {fast['msg_s']:,.0f} | – | "
        f"{fast['msg_s'] / ceiling['msg_s']:.0%} | – |",
        f"| ingest, single-reading JSON | {single['messages']:,.0f} | {single['readings']:,.0f} "
        f"| {single['seconds']:.2f} s | {single['msg_s']:,.0f} | {single['readings_s']:,.0f} "
        f"| {ratio:.0%} ({fast_ratio:.0%} of the buffered-reader ceiling) "
        f"| ≥ 80 % {'met' if ratio >= 0.8 else 'NOT met'} |",
        f"| ingest, SenML packs of 100 | {senml['messages']:,.0f} | {senml['readings']:,.0f} "
        f"| {senml['seconds']:.2f} s | {senml['msg_s']:,.0f} | {senml['readings_s']:,.0f} | – "
        f"| ≥ 100,000 readings/s {'met' if senml['readings_s'] >= 1e5 else 'NOT met'} |",
        "",
        f"End-to-end latency (publish → queryable) at {latency['rate']:,.0f} msg/s for "
        f"{latency['messages']:,.0f} messages: p50 {latency['p50_s'] * 1000:.0f} ms, "
        f"p99 {latency['p99_s'] * 1000:.0f} ms, max {latency['max_s'] * 1000:.0f} ms "
        f"(target p99 < 1 s: {'met' if latency['p99_s'] < 1 else 'NOT met'}).",
        "",
        f"Publisher finishing times (raw socket, pre-encoded): ceiling runs "
        f"{ceiling['publisher_s']:.2f} s and {fast['publisher_s']:.2f} s, "
        f"JSON {single['publisher_s']:.2f} s, SenML "
        f"{senml['publisher_s']:.2f} s.",
    ])


def write_docs(table: str, heading: str = "Ingest") -> None:
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n\nMeasured figures, one " \
        "section per component, each with the command that produced it.\n"
    section = f"## {heading}\n\n" + table + "\n"
    marker = BENCH_NOTES_MARKER
    old = re.search(rf"^## {re.escape(heading)}\n.*?(?=^## |\Z)", text, re.S | re.M)
    notes = ""
    if old and marker in old.group(0):
        notes = old.group(0)[old.group(0).index(marker):].rstrip() + "\n"
    section += ("\n" + notes if notes else "")
    text = (text[:old.start()] + section + "\n" + text[old.end():].lstrip("\n")) if old \
        else text.rstrip("\n") + "\n\n" + section
    path.write_text(text.rstrip("\n") + "\n")
    print(f"updated {path}")


# Hand-written analysis below this marker in the Ingest section survives a re-run.
BENCH_NOTES_MARKER = "### Notes"
CATCHUP_HEADING = "Ingest: catch-up after downtime"

if __name__ == "__main__":
    sys.exit(main())
