"""`GET /healthz` and `GET /metrics` on a small threaded HTTP server, and `StoreHealth`.

`/healthz` answers 200 while the ingest can accept data and 503 otherwise, with a JSON body
of states and fixed reasons (`ingest.service.IngestService.health` decides). The body says
nothing a stranger could use: no broker URL, no client id, no error texts; those are in the
log. `/metrics` is the Prometheus text exposition of the service's own registry.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST

from ingest.metrics import IngestMetrics

log = logging.getLogger("stadtpuls.ingest")

HealthFn = Callable[[], tuple[bool, dict[str, Any]]]


@dataclass
class StoreHealth:
    """Whether the store took the last write; set by delivery and the drainer, read by
    /healthz."""

    ok: bool = True
    last_error: str = ""
    since_ns: int = 0

    def up(self, metrics: IngestMetrics) -> None:
        if not self.ok:
            log.info("store is available again; writing directly")
            self.ok, self.since_ns = True, time.time_ns()
        metrics.store_ok.set(1)

    def down(self, error: Exception, metrics: IngestMetrics) -> None:
        self.last_error = str(error)
        if self.ok:
            log.warning("store unavailable: %s; spooling to disk and retrying", error)
            self.ok, self.since_ns = False, time.time_ns()
        metrics.store_ok.set(0)


@dataclass
class DurableHealth:
    """Whether the last write to each local file (spool, dead letters) succeeded: a disk that
    is full or read-only means nothing more can be made durable, so nothing can be acked.
    Set by delivery and the drainer, read by /healthz; the reason is logged once per change,
    never shown to HTTP clients."""

    failing: dict[str, str] = field(default_factory=dict)  # part -> last error (for logs)

    @property
    def all_ok(self) -> bool:
        return not self.failing

    def ok(self, part: str, metrics: IngestMetrics) -> None:
        if part in self.failing:
            del self.failing[part]
            log.info("%s can be written again", part)
        if not self.failing:
            metrics.durable_ok.set(1)

    def failed(self, part: str, error: Exception, metrics: IngestMetrics) -> None:
        if part not in self.failing:
            log.error("%s cannot be written: %s; not acking until it can", part, error)
        self.failing[part] = str(error)
        metrics.durable_ok.set(0)


class HealthServer:
    def __init__(self, host: str, port: int, health: HealthFn,
                 metrics: Callable[[], bytes]) -> None:
        handler = _handler(health, metrics)
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="health-http",
                                        daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler(health: HealthFn, metrics: Callable[[], bytes]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/healthz":
                ok, body = health()
                self._send(200 if ok else 503, "application/json",
                           json.dumps(body, sort_keys=True).encode() + b"\n")
            elif path == "/metrics":
                self._send(200, CONTENT_TYPE_LATEST, metrics())
            else:
                self._send(404, "text/plain; charset=utf-8", b"try /healthz or /metrics\n")

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # a scrape every few seconds is not worth a log line

    return Handler
