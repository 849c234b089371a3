"""Catch-up after downtime: a persistent session's backlog drained by the ingest vs. bare paho.

Both are timed from their own process start, as a restart after downtime is:

1. two persistent sessions (MQTT 5, session expiry 1 h) subscribe to `stadtpuls/catchup/#`
   and disconnect: one for a bare paho subscriber, one for the ingest's client id;
2. N QoS 1 single-reading JSON messages are published (the raw-socket publisher), so the
   broker queues the same N for each session;
3. bare: `bench/_common.py drain` is started as a subprocess (stock paho, auto-ack, empty
   `on_message`); done when the N-th message is handled and its PUBACK is written;
4. ingest: `stadtpuls ingest` is started as a subprocess; done when the store holds the
   reading of the N-th message. The first and the N-th message go to sensors of their own
   (`first`, `last`), so the poller (every 20 ms, error +0..20 ms) asks about a series of
   one point: a query of a series that influxd still holds in its write cache costs time in
   proportion to the cached points (measured: polling the whole site every 20 ms cost
   influxd 1.2 s of CPU per 100,000 messages, and the ingest's drain with it). The ingest
   writes batches one after the other in receive order, so the last reading queryable means
   all are; the exact count is checked afterwards, untimed.

CPU seconds of the broker, influxd and the drainer are read from /proc for each drain.
Rounds alternate which of the two drains first.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from _common import RawPublisher, publish_packet

from stadtpuls.reading import SeriesKey
from stadtpuls.store import Aggregate
from stadtpuls.store.influx import InfluxStore
from stadtpuls.topics import sensor_topic
from stadtpuls.units import Quantity
from testkit.loadgen import json_payload, json_topic

SITE = "catchup"
TOPIC = f"stadtpuls/{SITE}/#"
SENSORS = 10  # the bulk goes to s0..s9; FIRST and LAST carry one message each
FIRST, LAST = "first", "last"
ROOT = Path(__file__).resolve().parents[1]
_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def pid_of(marker: str) -> int:
    """The process whose command line contains `marker` (a server's unique config path)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if marker.encode() in cmdline and entry.name != str(os.getpid()):
                return int(entry.name)
    raise RuntimeError(f"no process with {marker!r} in its command line")


def make_session(host: str, port: int, client_id: str) -> None:
    """A fresh persistent session subscribed to TOPIC at QoS 1, left disconnected."""
    from paho.mqtt.client import Client
    from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    client = Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                    protocol=MQTTProtocolVersion.MQTTv5)
    subscribed: list[int] = []
    client.on_subscribe = lambda *a: subscribed.append(1)
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = 3600
    client.connect(host, port, 60, clean_start=True, properties=props)
    client.loop_start()
    deadline = time.monotonic() + 10
    while not client.is_connected() and time.monotonic() < deadline:
        time.sleep(0.01)
    client.subscribe(TOPIC, qos=1)
    while not subscribed and time.monotonic() < deadline:
        time.sleep(0.01)
    client.disconnect()
    client.loop_stop()
    if not subscribed:
        raise RuntimeError(f"session {client_id}: no SUBACK")


class CatchUp:
    def __init__(self, mq: Any, influx: Any, catalogue: Path, data: Path,
                 free_port: Callable[[], int], baseline: str | None = None) -> None:
        """`baseline`: another checkout whose ingest also drains each backlog (its own
        session and database), for a before/after comparison within one run."""
        self.mq, self.influx, self.baseline = mq, influx, baseline
        self.stores: dict[str, InfluxStore] = {}
        for which in ("ingest", "baseline"):
            influx.create_database(f"catchup_{which}")
            self.stores[which] = InfluxStore(influx.url, f"catchup_{which}/autogen",
                                             timeout_s=60)
        self.catalogue, self.data, self.free_port = catalogue, data, free_port
        data.mkdir(parents=True, exist_ok=True)
        self.mq_pid = pid_of(str(mq.workdir / "mosquitto.conf"))
        self.influx_pid = pid_of(str(influx.workdir / "influxdb.conf"))

    def round(self, n: int, base_ms: int, ingest_first: bool) -> dict[str, dict[str, float]]:
        """One backlog, drained by the bare subscriber and by each ingest variant."""
        drains = ["bare", "ingest"] + (["baseline"] if self.baseline else [])
        if ingest_first:
            drains = drains[1:] + drains[:1]
        for which in drains:
            make_session(self.mq.host, self.mq.port, f"bench-catchup-{which}")
        packets = [publish_packet(json_topic(SITE, i % SENSORS),
                                  json_payload(float(i), base_ms + i), RawPublisher.mid(i))
                   for i in range(n)]
        for i, sensor in ((0, FIRST), (n - 1, LAST)):
            packets[i] = publish_packet(sensor_topic(SITE, sensor),
                                        json_payload(float(i), base_ms + i), RawPublisher.mid(i))
        pub = RawPublisher(self.mq.host, self.mq.port, "bench-pub-catchup")
        pub.publish_packets(packets)
        pub.close()
        del packets
        time.sleep(2)  # the broker's 1 s autosave of the new backlog is not part of a drain
        out: dict[str, dict[str, float]] = {}
        for which in drains:
            out[which] = self.bare(n) if which == "bare" else self.ingest(which, n, base_ms)
            time.sleep(2)
        return out

    def _servers_cpu(self) -> tuple[float, float]:
        return cpu_seconds(self.mq_pid), cpu_seconds(self.influx_pid)

    def _result(self, n: int, t0: float, done: float, cpu0: tuple[float, float],
                own_cpu: float, **times: float) -> dict[str, float]:
        mq, influx = self._servers_cpu()
        return {"messages": n, "seconds": done - t0, "msg_s": n / (done - t0),
                "cpu_s": own_cpu, "broker_cpu_s": mq - cpu0[0],
                "influxd_cpu_s": influx - cpu0[1],
                **{k: v - t0 for k, v in times.items()}}

    def bare(self, n: int) -> dict[str, float]:
        cpu0 = self._servers_cpu()
        t0 = time.time()
        proc = subprocess.run([sys.executable, str(Path(__file__).parent / "_common.py"),
                               "drain", self.mq.host, str(self.mq.port),
                               "bench-catchup-bare", TOPIC, str(n)],
                              capture_output=True, text=True, timeout=600, check=True)
        t = json.loads(proc.stdout)
        if t["messages"] != n:
            raise RuntimeError(f"bare subscriber got {t['messages']} of {n}")
        return self._result(n, t0, t["done"], cpu0, t["cpu_s"], connected_s=t["connected"],
                            first_s=t["first"])

    def ingest(self, which: str, n: int, base_ms: int) -> dict[str, float]:
        first_ns, last_ns = base_ms * 1_000_000, (base_ms + n - 1) * 1_000_000
        log_path = self.data / f"catchup-{which}-{base_ms}.log"
        cmd = [sys.executable, "-m", "stadtpuls.cli", "ingest", "--mqtt-url", self.mq.url,
               "--influx-url", self.influx.url, "--influx-bucket", f"catchup_{which}/autogen",
               "--catalogue", str(self.catalogue), "--data-dir", str(self.data / which),
               "--client-id", f"bench-catchup-{which}", "--topic", TOPIC,
               "--http-port", str(self.free_port())]
        tree = str(ROOT) if which == "ingest" else str(self.baseline)
        env = dict(os.environ, PYTHONPATH=tree)
        store = self.stores[which]
        cpu0 = self._servers_cpu()
        with log_path.open("w") as log:
            t0 = time.time()
            proc = subprocess.Popen(cmd, stdout=log, stderr=log, cwd=tree, env=env)
            try:
                first = self._wait_queryable(store, FIRST, first_ns, proc)
                done = self._wait_queryable(store, LAST, last_ns, proc)
                own_cpu = cpu_seconds(proc.pid)
                result = self._result(n, t0, done, cpu0, own_cpu, first_s=first,
                                      connected_s=_connected_at(log_path))
            finally:
                proc.terminate()
                proc.wait(60)
        stored = sum(store.counts(first_ns, last_ns + 1, SITE).values())
        if stored != n:
            raise RuntimeError(f"catch-up: stored {stored}, expected {n}; see {log_path}")
        return result

    def close(self) -> None:
        for store in self.stores.values():
            store.close()

    @staticmethod
    def _wait_queryable(store: InfluxStore, sensor: str, time_ns: int,
                        proc: subprocess.Popen[bytes]) -> float:
        key = SeriesKey(SITE, sensor, Quantity.POWER)
        deadline = time.monotonic() + 600
        while not store.aggregate([key], time_ns, time_ns + 1, 1_000_000_000,
                                       [Aggregate.COUNT]):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("catch-up: the ingest ended or timed out before the "
                                   "backlog was stored")
            time.sleep(0.02)
        return time.time()


def _connected_at(log_path: Path) -> float:
    """Wall-clock time of the ingest's 'connected to' log line (millisecond resolution)."""
    m = re.search(r"^(\S+ \S+) INFO \S+: connected to ", log_path.read_text(), re.M)
    if not m:
        return float("nan")
    return datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()


def site_yaml_with_markers(site_yaml: Callable[[str, int], dict[str, Any]]) -> dict[str, Any]:
    """The catalogue site: s0..s9 plus the FIRST and LAST sensors."""
    site = site_yaml(SITE, SENSORS + 2)
    sensors = site["sensors"]
    sensors[-2]["id"], sensors[-1]["id"] = FIRST, LAST
    return site


def render_catchup(rounds: list[dict[str, dict[str, float]]], args: Any,
                   load_before: float) -> str:
    n = rounds[0]["bare"]["messages"]
    cmd = ".venv/bin/python bench/bench_ingest.py --only-catchup"
    if n != 300_000 or len(rounds) != 2:
        cmd += f" --catchup {n:.0f} --catchup-rounds {len(rounds)}"
    if args.catchup_baseline:
        cmd += f" --catchup-baseline {args.catchup_baseline}"
    lines = [
        f"Command: `{cmd}` ({os.cpu_count()} cores; Mosquitto 2.0.11, influxd 1.6.7 behind "
        f"the v2-write adapter, all on this machine; 1-minute load average {load_before:.1f} "
        f"before, {os.getloadavg()[0]:.1f} after). {n:,.0f} QoS 1 single-reading JSON "
        "messages queued for a persistent session while it was disconnected; each drain "
        "timed from its process start. Target: ingest ≥ 0.9 × bare.",
        "",
        "| round | drain | time | msg/s | connected | first message | CPU: own, broker, "
        "influxd | ingest / bare |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    labels = {"bare": "bare paho subscriber (handled + acked)",
              "ingest": "`stadtpuls ingest` (queryable)",
              "baseline": f"`stadtpuls ingest` of {args.catchup_baseline} (queryable)"}
    for k, r in enumerate(rounds, 1):
        for which, d in r.items():  # in the order they ran
            ratio = "" if which == "bare" else f"{d['msg_s'] / r['bare']['msg_s']:.2f}"
            lines.append(
                f"| {k} | {labels[which]} | {d['seconds']:.2f} s | {d['msg_s']:,.0f} | "
                f"{d['connected_s']:.2f} s | {d['first_s']:.2f} s | {d['cpu_s']:.1f}, "
                f"{d['broker_cpu_s']:.1f}, {d['influxd_cpu_s']:.1f} s | {ratio} |")
    lines += ["", "'first message' is, for the bare subscriber, its first `on_message`; for the "
              "ingest, the first reading queryable in the store."]
    return "\n".join(lines)
