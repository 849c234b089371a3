"""Bench helpers: a raw-socket MQTT 3.1.1 QoS 1 publisher and a bare paho subscriber.

The publisher writes pre-encoded PUBLISH packets straight to a socket and counts PUBACKs, with
a bounded window of unacked messages. It costs a fraction of a microsecond per message, so the
broker and the subscriber under test, not the publisher, set the pace (the bench prints the
publisher's own finishing time to show it).

Run as a script for the bare subscriber (the "raw ceiling"):
    python bench/_common.py subscribe|subscribe-fast HOST PORT TOPIC N
prints the wall-clock time (time.time()) at which the N-th message arrived;
    python bench/_common.py drain HOST PORT CLIENT_ID TOPIC N
drains the persistent session CLIENT_ID (catch-up scenario) and prints a JSON line of times.
"""

from __future__ import annotations

import json
import socket
import struct
import sys
import time
from collections.abc import Callable, Sequence


def _remaining_length(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _utf8(s: str) -> bytes:
    b = s.encode()
    return struct.pack("!H", len(b)) + b


def connect_packet(client_id: str, keepalive: int = 600) -> bytes:
    body = _utf8("MQTT") + bytes([4, 0x02]) + struct.pack("!H", keepalive) + _utf8(client_id)
    return b"\x10" + _remaining_length(len(body)) + body


def publish_packet(topic: str, payload: bytes, mid: int) -> bytes:
    """QoS 1 PUBLISH."""
    body = _utf8(topic) + struct.pack("!H", mid) + payload
    return b"\x32" + _remaining_length(len(body)) + body


class RawPublisher:
    """QoS 1 over a plain socket; at most `window` unacked PUBLISHes at any time."""

    def __init__(self, host: str, port: int, client_id: str, window: int = 20_000) -> None:
        if not 0 < window < 65_535:
            raise ValueError("window must be below 65,535 (packet ids must not be reused)")
        self.window = window
        self.sock = socket.create_connection((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.sendall(connect_packet(client_id))
        connack = self._recv_exact(4)
        if connack[0] != 0x20 or connack[3] != 0:
            raise RuntimeError(f"broker refused the publisher: {connack!r}")
        self.sent = 0
        self.acked = 0
        self._pending = b""

    def _recv_exact(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("broker closed the connection")
            data += chunk
        return data

    def _read_acks(self, block: bool) -> None:
        self.sock.setblocking(block)
        try:
            data = self.sock.recv(1 << 20)
        except BlockingIOError:
            return
        finally:
            self.sock.setblocking(True)
        if not data:
            raise ConnectionError("broker closed the connection")
        data = self._pending + data
        whole = len(data) - len(data) % 4  # PUBACK = 40 02 id id: the only packet we get
        self.acked += whole // 4
        self._pending = data[whole:]

    @staticmethod
    def mid(i: int) -> int:
        return i % 65_535 + 1

    def publish_packets(self, packets: Sequence[bytes], chunk: int = 500) -> None:
        """Send pre-encoded packets (packet ids from `mid(i)`), then wait for all acks."""
        for start in range(0, len(packets), chunk):
            part = packets[start:start + chunk]
            while self.sent + len(part) - self.acked > self.window:
                self._read_acks(block=True)
            self.sock.sendall(b"".join(part))
            self.sent += len(part)
            self._read_acks(block=False)
        self.wait_all()

    def publish_paced(self, make: Callable[[int], bytes], n: int, rate: float,
                      tick_s: float = 0.002) -> list[int]:
        """Publish n packets (make(i) builds packet i) at `rate` per second; return the
        time.time_ns() at which each was handed to the socket."""
        sent_at: list[int] = []
        start = time.perf_counter()
        i = 0
        while i < n:
            due = min(n, int((time.perf_counter() - start) * rate) + 1)
            if due > i:
                now = time.time_ns()
                batch = [make(j) for j in range(i, due)]
                while self.sent + len(batch) - self.acked > self.window:
                    self._read_acks(block=True)
                self.sock.sendall(b"".join(batch))
                self.sent += len(batch)
                sent_at += [now] * len(batch)
                i = due
            self._read_acks(block=False)
            time.sleep(tick_s)
        self.wait_all()
        return sent_at

    def wait_all(self) -> None:
        while self.acked < self.sent:
            self._read_acks(block=True)

    def close(self) -> None:
        self.sock.sendall(b"\xe0\x00")  # DISCONNECT
        self.sock.close()


def bare_subscriber(host: str, port: int, topic: str, n: int, fast: bool = False) -> float:
    """paho 2.x at QoS 1 (MQTT 5, auto-ack), doing nothing per message: the ceiling.
    `fast`: with the ingest's buffered socket reader (ingest.mqtt.fast_client.FastClient)."""
    from paho.mqtt.client import Client
    from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

    from ingest.mqtt.fast_client import FastClient

    got = 0
    done_at = 0.0
    cls = FastClient if fast else Client
    client = cls(CallbackAPIVersion.VERSION2, client_id="bench-bare-subscriber",
                 protocol=MQTTProtocolVersion.MQTTv5)

    def on_message(c: Client, _u: object, _m: object) -> None:
        nonlocal got, done_at
        got += 1
        if got == n:
            done_at = time.time()
            c.disconnect()

    def on_connect(c: Client, *_: object) -> None:
        c.subscribe(topic, qos=1)
        print("subscribed", flush=True)

    client.on_message = on_message
    client.on_connect = on_connect
    client.connect(host, port, 60)
    client.loop_forever()
    return done_at


def drain_subscriber(host: str, port: int, client_id: str, topic: str, n: int) -> dict[str, float]:
    """The catch-up ceiling: stock paho 2.x, MQTT 5, QoS 1 with auto-ack and an empty
    `on_message`, resuming the persistent session `client_id` whose queue holds n messages.
    Returns wall-clock times (time.time()): connected (CONNACK), first message, and done:
    the n-th message handled and its PUBACK sent (the DISCONNECT is queued behind it, and
    `loop_forever` returns once that is written), plus the process's CPU seconds."""
    from paho.mqtt.client import Client
    from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    times = {"imported": time.time()}
    got = 0
    client = Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                    protocol=MQTTProtocolVersion.MQTTv5)

    def on_message(c: Client, _u: object, _m: object) -> None:
        nonlocal got
        got += 1
        if got == 1:
            times["first"] = time.time()
        if got == n:
            c.disconnect()

    def on_connect(c: Client, *_: object) -> None:
        times["connected"] = time.time()
        c.subscribe(topic, qos=1)  # as the ingest does on every connect

    client.on_message = on_message
    client.on_connect = on_connect
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = 3600
    client.connect(host, port, 60, clean_start=False, properties=props)
    client.loop_forever()
    times["done"] = time.time()
    times["cpu_s"] = time.process_time()
    times["messages"] = got
    return times


if __name__ == "__main__":
    if len(sys.argv) == 7 and sys.argv[1] == "drain":
        print(json.dumps(drain_subscriber(sys.argv[2], int(sys.argv[3]), sys.argv[4],
                                          sys.argv[5], int(sys.argv[6]))), flush=True)
    elif len(sys.argv) == 6 and sys.argv[1] in ("subscribe", "subscribe-fast"):
        print(bare_subscriber(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]),
                              fast=sys.argv[1] == "subscribe-fast"), flush=True)
    else:
        sys.exit(__doc__)
