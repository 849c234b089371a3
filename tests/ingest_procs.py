"""Running `stadtpuls ingest` as a subprocess and publishing to it with paho, for the
end-to-end tests (tests/test_ingest_integration.py, tests/test_mqtt_client_certificates.py)."""

from __future__ import annotations

import http.client
import json
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from paho.mqtt.client import Client
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from waiting import wait

from stadtpuls.store.influx import InfluxStore
from testkit.loadgen import json_payload, json_topic
from testkit.servers import MosquittoServer, free_port

ROOT = Path(__file__).resolve().parents[1]
SENSORS = 10
BASE_MS = 1_700_000_000_000


def wait_for(cond: Callable[[], bool], timeout: float, what: str) -> None:
    wait(cond, timeout, what, step=0.1)


_running: list[Ingest] = []


def kill_leftovers() -> None:
    """An ingest left running by a failed test is killed, not left behind (each test
    module calls this from an autouse fixture)."""
    while _running:
        ingest = _running.pop()
        if ingest.proc is not None and ingest.proc.poll() is None:
            ingest.proc.kill()
            ingest.proc.wait(10)


class Ingest:
    """`python -m stadtpuls.cli ingest` with its own data dir, log file and HTTP port."""

    def __init__(self, tmp: Path, mqtt_url: str, influx_url: str, bucket: str, catalogue: Path,
                 topic: str, client_id: str, *extra: str) -> None:
        self.port = free_port()
        self.log_path = tmp / f"{client_id}.log"
        self.cmd = [sys.executable, "-m", "stadtpuls.cli", "ingest", "--mqtt-url", mqtt_url,
                    "--influx-url", influx_url, "--influx-bucket", bucket,
                    "--catalogue", str(catalogue), "--data-dir", str(tmp / "data"),
                    "--client-id", client_id, "--topic", topic,
                    "--http-port", str(self.port), "--stats-interval", "1", *extra]
        self.proc: subprocess.Popen[bytes] | None = None
        _running.append(self)
        self.start()

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(self.cmd, stdout=log, stderr=log, cwd=ROOT)
        wait_for(lambda: self.health().get("broker") == "connected", 30,
                 f"ingest to connect (log: {self.log_path})")
        time.sleep(0.3)  # CONNACK first, then the SUBACK for our subscription

    def _get(self, path: str) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            return resp.status, resp.read().decode()
        except OSError:
            return 0, ""
        finally:
            conn.close()

    def health(self) -> dict[str, Any]:
        status, body = self._get("/healthz")
        return json.loads(body) if status else {}

    def metric(self, name: str, labels: str = "") -> float:
        _, text = self._get("/metrics")
        m = re.search(rf"^{re.escape(name + labels)} (\S+)$", text, re.M)
        return float(m.group(1)) if m else 0.0

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def rss_kb(self) -> int:
        status = Path(f"/proc/{self.pid}/status").read_text()
        m = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
        return int(m.group(1)) if m else 0

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                raise
        return self.proc.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


class Publisher(threading.Thread):
    """paho QoS 1 publisher (persistent MQTT 5 session) with at most `window` unacked
    messages; paho resends unacked ones after a reconnect (broker restart)."""

    def __init__(self, server: MosquittoServer, messages: Sequence[tuple[str, bytes]],
                 rate: float | None = None, window: int = 1_000) -> None:
        super().__init__(daemon=True)
        self.messages = messages
        self.rate = rate
        self.window = window
        self.sent = 0
        self.acked = 0
        self.error: BaseException | None = None
        self.client = Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex}",
                             protocol=MQTTProtocolVersion.MQTTv5)
        self.client.max_inflight_messages_set(window)
        self.client.max_queued_messages_set(0)
        self.client.on_publish = self._on_publish
        self.client.reconnect_delay_set(0.2, 1)  # type: ignore[arg-type]
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = 3600
        self.client.connect(server.host, server.port, 30, clean_start=False, properties=props)
        self.client.loop_start()

    def _on_publish(self, *_: object) -> None:
        self.acked += 1

    def run(self) -> None:
        try:
            start = time.monotonic()
            for i, (topic, payload) in enumerate(self.messages):
                while self.sent - self.acked >= self.window:
                    time.sleep(0.002)
                if self.rate:
                    delay = start + i / self.rate - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                self.client.publish(topic, payload, qos=1)
                self.sent += 1
        except BaseException as exc:  # reported by finish()
            self.error = exc

    def finish(self, timeout: float = 120) -> None:
        self.join(timeout)
        assert self.error is None, f"publisher failed: {self.error!r}"
        wait_for(lambda: self.acked >= len(self.messages), timeout, "the broker's PUBACKs")
        self.client.loop_stop()
        self.client.disconnect()


def readings(site: str, n: int, offset: int = 0) -> list[tuple[str, bytes]]:
    """n single-reading JSON messages over SENSORS sensors, each with its own timestamp."""
    return [(json_topic(site, i % SENSORS), json_payload(float(i), BASE_MS + i))
            for i in range(offset, offset + n)]


def stored(store: InfluxStore, site: str) -> int:
    try:
        return sum(store.counts(0, 2**62, site).values())
    except Exception:  # store down or restarting: not yet
        return -1
