"""HTTP adapter that gives InfluxDB 1.6.7 the ``/api/v2/write`` route of InfluxDB 1.8+.

Debian only ships influxd 1.6.7, which predates the 2.x-compatible write endpoint that the
product (influxdb-client) talks to. The adapter rewrites that one route to ``/write`` exactly
as InfluxDB 1.8 does natively and forwards everything else untouched, so line-protocol
parsing, storage and InfluxQL are all done by the real server.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import cast
from urllib.parse import parse_qsl, urlencode, urlsplit

__all__ = ["V2WriteAdapter", "translate_target"]

V2_WRITE_PATH = "/api/v2/write"
_PRECISIONS = {"ns": "n", "us": "u", "ms": "ms", "s": "s"}

# Allowlists rather than denylists: hop-by-hop headers (Connection, Transfer-Encoding, ...)
# must never cross the proxy, and the body is re-framed with Content-Length anyway.
_REQUEST_HEADERS = (
    "Content-Type",
    "Content-Encoding",
    "Accept",
    "Accept-Encoding",
    "User-Agent",
    "Authorization",
)
_RESPONSE_HEADERS = (
    "Content-Type",
    "Content-Encoding",
    "X-Influxdb-Version",
    "X-Influxdb-Build",
    "X-Influxdb-Error",
    "Request-Id",
    "X-Request-Id",
)
# 1xx/204/304 responses must not carry a body nor (for 204) a Content-Length.
_NO_BODY_STATUSES = frozenset({204, 304})


def translate_target(target: str) -> str:
    """Map a ``/api/v2/write?bucket=DB/RP&precision=..`` target to 1.x ``/write``.

    Any other target is returned unchanged.
    """
    parts = urlsplit(target)
    if parts.path.rstrip("/") != V2_WRITE_PATH:
        return target
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    out: list[tuple[str, str]] = []
    bucket = params.get("bucket", "")
    if bucket:
        db, _, rp = bucket.partition("/")
        out.append(("db", db))
        if rp:
            out.append(("rp", rp))
    precision = params.get("precision", "ns")
    # An unknown precision is passed on so that influxd itself rejects it.
    out.append(("precision", _PRECISIONS.get(precision, precision)))
    return "/write?" + urlencode(out)


class _AdapterServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # The ingest benchmark opens many connections at once; the default backlog of 5 would
    # make the kernel drop SYNs and add a 1 s retransmit delay.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], upstream: tuple[str, int], timeout: float):
        self.upstream = upstream
        self.upstream_timeout = timeout
        self._clients: set[socket.socket] = set()
        self._clients_lock = threading.Lock()
        super().__init__(address, _ProxyHandler)

    def track(self, sock: socket.socket) -> None:
        with self._clients_lock:
            self._clients.add(sock)

    def untrack(self, sock: socket.socket) -> None:
        with self._clients_lock:
            self._clients.discard(sock)

    def drop_clients(self) -> None:
        # A database that goes down closes its keep-alive connections too; without this the
        # handler threads would keep serving idle clients after stop().
        with self._clients_lock:
            clients = list(self._clients)
        for sock in clients:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "stadtpuls-v2-write-adapter"
    _upstream: http.client.HTTPConnection | None

    def setup(self) -> None:
        super().setup()
        self._upstream = None
        self._adapter.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self._adapter.untrack(self.connection)
            self._close_upstream()

    @property
    def _adapter(self) -> _AdapterServer:
        return cast(_AdapterServer, self.server)

    def log_message(self, format: str, *args: object) -> None:
        # Logging every request would cost more than forwarding it under benchmark load.
        return

    def do_GET(self) -> None:
        self._proxy()

    def do_POST(self) -> None:
        self._proxy()

    def do_HEAD(self) -> None:
        self._proxy()

    def do_PUT(self) -> None:
        self._proxy()

    def do_DELETE(self) -> None:
        self._proxy()

    def do_OPTIONS(self) -> None:
        self._proxy()

    def _read_body(self) -> bytes | None:
        length = self.headers.get("Content-Length")
        if length is not None:
            return self.rfile.read(int(length))
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers are of no interest to influxd
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return None

    def _proxy(self) -> None:
        body = self._read_body()
        headers = {}
        for name in _REQUEST_HEADERS:
            value = self.headers.get(name)
            if value is None:
                continue
            # influxd 1.6 with auth disabled cannot parse a 2.x token and would answer 401.
            if name == "Authorization" and value.lower().startswith("token "):
                continue
            headers[name] = value
        result = self._forward(translate_target(self.path), body, headers)
        if result is None:
            self._send_unavailable()
            return
        status, reason, resp_headers, data = result
        self.send_response(status, reason)
        for name, value in resp_headers:
            self.send_header(name, value)
        if status not in _NO_BODY_STATUSES:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD" and status not in _NO_BODY_STATUSES:
            self.wfile.write(data)

    def _forward(
        self, target: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, str, list[tuple[str, str]], bytes] | None:
        for _attempt in range(2):
            if self._upstream is None:
                host, port = self._adapter.upstream
                self._upstream = http.client.HTTPConnection(
                    host, port, timeout=self._adapter.upstream_timeout
                )
            conn = self._upstream
            reused = conn.sock is not None
            try:
                conn.request(self.command, target, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
            except (OSError, http.client.HTTPException):
                self._close_upstream()
                # A kept-alive upstream connection may have been closed by influxd in the
                # meantime (or influxd restarted); one fresh attempt tells that apart from
                # influxd really being down. Writes are idempotent in InfluxDB.
                if reused:
                    continue
                return None
            if resp.will_close:
                self._close_upstream()
            kept = [(n, v) for n in _RESPONSE_HEADERS for v in resp.headers.get_all(n) or ()]
            return resp.status, resp.reason, kept, data
        return None

    def _send_unavailable(self) -> None:
        host, port = self._adapter.upstream
        message = f"influxd at {host}:{port} is unreachable"
        data = json.dumps({"error": message}).encode()
        self.send_response(503)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Influxdb-Error", message)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _close_upstream(self) -> None:
        if self._upstream is not None:
            self._upstream.close()
            self._upstream = None


class V2WriteAdapter:
    """Threaded reverse proxy in front of influxd; see the module docstring.

    ``port=0`` picks a free port on the first ``start()``; later starts reuse it, so a
    client configured with ``url`` reconnects after a ``stop()``/``start()`` cycle.
    """

    def __init__(
        self,
        upstream_host: str,
        upstream_port: int,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        upstream_timeout: float = 60.0,
    ) -> None:
        self._upstream = (upstream_host, upstream_port)
        self._host = host
        self._port = port
        self._timeout = upstream_timeout
        self._server: _AdapterServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return self._host

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self._port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("adapter already running")
        server = _AdapterServer((self._host, self._port), self._upstream, self._timeout)
        self._port = server.server_address[1]
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"v2-write-adapter-{self._port}",
            daemon=True,
        )
        thread.start()
        self._server, self._thread = server, thread

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        server.drop_clients()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> V2WriteAdapter:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
