"""Real Mosquitto and InfluxDB servers for tests, each in its own temp dir on free ports.

Both use Debian's binaries (``apt-get install mosquitto influxdb``). InfluxDB 1.6.7 is put
behind :class:`~testkit.influx_adapter.V2WriteAdapter` so the product can use the
``/api/v2/write`` route it uses against InfluxDB 2.x in production.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from paho.mqtt.client import Client
from paho.mqtt.enums import CallbackAPIVersion

from testkit.influx_adapter import V2WriteAdapter
from testkit.process import (
    START_ATTEMPTS,
    BinaryNotFoundError,
    ManagedServer,
    ServerStartError,
    free_port,
)

__all__ = [
    "INFLUXD_BINARY",
    "MOSQUITTO_BINARY",
    "BinaryNotFoundError",
    "InfluxServer",
    "MosquittoServer",
    "ServerStartError",
    "free_port",
    "quote_ident",
]

MOSQUITTO_BINARY = "/usr/sbin/mosquitto"
INFLUXD_BINARY = "/usr/bin/influxd"


def quote_ident(name: str) -> str:
    """Quote an InfluxQL identifier the way influxql.QuoteIdent does."""
    escaped = name.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


class MosquittoServer(ManagedServer):
    """Debian's mosquitto 2.0 on 127.0.0.1 with persistence and no queue limits."""

    binary = MOSQUITTO_BINARY
    config_flag = "-c"
    apt_package = "mosquitto"
    name = "mosquitto"

    def __init__(
        self,
        workdir: Path | None = None,
        *,
        port: int | None = None,
        startup_timeout: float = 10.0,
    ) -> None:
        super().__init__(workdir, startup_timeout, ports_fixed=port is not None)
        self._port = port or free_port()

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self._port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "mosquitto.log"

    def __enter__(self) -> MosquittoServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _pick_ports(self) -> None:
        self._port = free_port()

    def _log_paths(self) -> list[Path]:
        return [self.log_path, self.stderr_path]

    def _write_config(self) -> Path:
        persistence = self.workdir / "persistence"
        persistence.mkdir(exist_ok=True)
        # All limits below are global options in mosquitto 2.0. The defaults (1000 queued,
        # 20 in flight) silently drop messages under load (ARCHITECTURE.md §8).
        config = "\n".join(
            [
                # As root mosquitto would switch to the mosquitto user and then fail to
                # write its persistence and log files in our temp dir.
                "user root",
                "per_listener_settings false",
                "allow_anonymous true",
                "persistence true",
                f"persistence_location {persistence}/",
                "persistence_file mosquitto.db",
                "autosave_interval 1",
                "max_queued_messages 0",
                "max_queued_bytes 0",
                "max_inflight_messages 1000",
                "max_inflight_bytes 0",
                "set_tcp_nodelay true",
                f"log_dest file {self.log_path}",
                "log_type error",
                "log_type warning",
                "log_type notice",
                "log_timestamp_format %Y-%m-%dT%H:%M:%S",
                f"listener {self._port} {self.host}",
                "",
            ]
        )
        path = self.workdir / "mosquitto.conf"
        path.write_text(config)
        return path

    def _ready(self) -> bool:
        with socket.create_connection((self.host, self._port), timeout=1):
            pass
        # A listening socket is not enough: the broker may still be loading its
        # persistence file, so wait for a real CONNACK.
        client = Client(CallbackAPIVersion.VERSION2, client_id=f"harness-probe-{uuid.uuid4()}")
        try:
            client.connect(self.host, self._port, keepalive=10)
            deadline = time.monotonic() + 2
            while not client.is_connected() and time.monotonic() < deadline:
                client.loop(timeout=0.1)
            return client.is_connected()
        finally:
            client.disconnect()


class InfluxServer(ManagedServer):
    """Debian's influxd 1.6.7 behind a :class:`V2WriteAdapter`.

    ``url`` is the adapter (what the product talks to), ``direct_url`` influxd itself.
    ``stop()`` takes both away, so clients see "connection refused" as with a real outage;
    ``start()`` brings both back on the same ports with the same data.
    """

    binary = INFLUXD_BINARY
    config_flag = "-config"
    apt_package = "influxdb"
    name = "influxd"

    def __init__(
        self,
        workdir: Path | None = None,
        *,
        http_port: int | None = None,
        rpc_port: int | None = None,
        adapter_port: int | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        fixed = (http_port, rpc_port, adapter_port) != (None, None, None)
        super().__init__(workdir, startup_timeout, ports_fixed=fixed)
        self._http_port = http_port or free_port()
        self._rpc_port = rpc_port or free_port()
        self._adapter_port = adapter_port or free_port()
        self._adapter: V2WriteAdapter | None = None

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def http_port(self) -> int:
        return self._http_port

    @property
    def rpc_port(self) -> int:
        return self._rpc_port

    @property
    def adapter_port(self) -> int:
        return self._adapter_port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self._adapter_port}"

    @property
    def direct_url(self) -> str:
        return f"http://{self.host}:{self._http_port}"

    def __enter__(self) -> InfluxServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self) -> None:
        may_repick = self._may_repick
        super().start()
        for attempt in range(START_ATTEMPTS if may_repick else 1):
            adapter = V2WriteAdapter(self.host, self._http_port, port=self._adapter_port)
            try:
                adapter.start()
            except OSError:
                if may_repick and attempt + 1 < START_ATTEMPTS:
                    self._adapter_port = free_port()
                    continue
                super().stop()
                raise
            self._adapter = adapter
            return

    def stop(self) -> None:
        adapter, self._adapter = self._adapter, None
        if adapter is not None:
            adapter.stop()
        super().stop()

    def create_database(self, name: str) -> None:
        self.query(f"CREATE DATABASE {quote_ident(name)}", method="POST")

    def drop_database(self, name: str) -> None:
        self.query(f"DROP DATABASE {quote_ident(name)}", method="POST")

    def query(
        self,
        q: str,
        *,
        db: str | None = None,
        params: dict[str, Any] | None = None,
        epoch: str | None = "ns",
        method: str = "GET",
    ) -> dict[str, Any]:
        """Run raw InfluxQL against influxd; raise on HTTP or statement errors."""
        args = {"q": q}
        if db is not None:
            args["db"] = db
        if params is not None:
            args["params"] = json.dumps(params)
        if epoch is not None:
            args["epoch"] = epoch
        conn = http.client.HTTPConnection(self.host, self._http_port, timeout=60)
        try:
            if method == "GET":
                conn.request("GET", "/query?" + urlencode(args))
            else:
                conn.request(
                    method,
                    "/query",
                    body=urlencode(args),
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                )
            resp = conn.getresponse()
            body = resp.read()
        finally:
            conn.close()
        if resp.status != 200:
            raise RuntimeError(f"InfluxQL {q!r} failed: HTTP {resp.status} {body!r}")
        result: dict[str, Any] = json.loads(body)
        errors = [r["error"] for r in result.get("results", []) if "error" in r]
        if errors:
            raise RuntimeError(f"InfluxQL {q!r} failed: {errors}")
        return result

    def _pick_ports(self) -> None:
        self._http_port, self._rpc_port = free_port(), free_port()

    def _write_config(self) -> Path:
        data = self.workdir / "data"
        config = f"""\
# Debian renamed upstream's reporting-disabled to reporting-enabled; influxd ignores the
# key it does not know, so both are set.
reporting-disabled = true
reporting-enabled = false
bind-address = "{self.host}:{self._rpc_port}"

[meta]
  dir = "{data}/meta"
  logging-enabled = false

[data]
  dir = "{data}/data"
  wal-dir = "{data}/wal"
  query-log-enabled = false
  trace-logging-enabled = false
  max-series-per-database = 0
  max-values-per-tag = 0

[coordinator]
  write-timeout = "30s"
  max-select-point = 0
  max-select-series = 0
  max-select-buckets = 0

[monitor]
  store-enabled = false

[subscriber]
  enabled = false

[http]
  enabled = true
  bind-address = "{self.host}:{self._http_port}"
  auth-enabled = false
  log-enabled = false
  suppress-write-log = true
  write-tracing = false
  pprof-enabled = false
  max-row-limit = 0
  max-body-size = 0
  max-concurrent-write-limit = 0
  max-enqueued-write-limit = 0

[continuous_queries]
  enabled = false
  log-enabled = false

[logging]
  level = "warn"
  suppress-logo = true
"""
        path = self.workdir / "influxdb.conf"
        path.write_text(config)
        return path

    def _ready(self) -> bool:
        conn = http.client.HTTPConnection(self.host, self._http_port, timeout=1)
        try:
            conn.request("GET", "/ping")
            resp = conn.getresponse()
            resp.read()
            return resp.status == 204
        finally:
            conn.close()
