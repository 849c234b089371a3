"""A paho 2.x client that reads its socket in large chunks and acks in bulk.

This module is the only place that touches paho's private API; `PRIVATE_API` lists every
such name, and tests/test_paho_internals.py checks each against the installed paho (one clear
line naming what changed). Why private API at all: speed. With stock paho the ingest
reached 55-60 % of a bare paho subscriber's rate and used 4.5 s of CPU per 100,000 messages;
with these overrides 2.4 s, and it keeps up with the broker (docs/benchmarks.md). paho is
pinned in pyproject.toml to the minor versions this was checked against; before widening the
pin, run the fence test and the ingest integration tests against the new release.

Reads. Stock paho reads each packet with several small `recv` calls (fixed header, each byte
of the remaining length, then the body) and handles one packet per `select`. Every one of
those system calls releases the GIL, and with the worker thread busy decoding, the network
thread then waits up to the interpreter's switch interval to get it back: profiled, the
network thread spent most of its time in `_sock_recv`/`select` while the worker waited for
messages. Here the socket is read 256 KiB at a time and every complete packet already in
memory is handled before paho goes back to `select`:
- `_create_socket`: wraps the socket in `_BufferedSocket`, which answers paho's small `recv`
  calls from its buffer and reports buffered bytes through `pending()` — the hook paho's
  `_loop` already uses for TLS sockets, so `select` never sleeps while data is buffered;
- `loop_read`: keeps handling packets while buffered bytes remain (bounded, so PUBACKs and
  keepalives still get their turn);
- `_handle_on_message`: calls `on_message` directly, skipping the per-message topic-filter
  match for `message_callback_add`, which the ingest does not use;
- `_handle_publish`: a QoS 1 PUBLISH without MQTT 5 properties (what sensors send) is parsed
  here in a few slices; anything else goes to paho's own parser. paho builds a `Properties`
  object and logs every PUBLISH, which profiled as about 30 % of the network thread while
  draining a backlog; skipping it halved the ingest's CPU per message (docs/benchmarks.md,
  catch-up after downtime).

Acks. `queue_pubacks` queues the PUBACKs of a whole batch as one packet entry instead of one
`client.ack()` per message (each of which wakes paho's loop through a socket write); the bytes
are exactly what `client.ack()` sends for QoS 1. `run_in` tells paho which thread runs its
loop, so that `_packet_queue` leaves the socket write to that thread instead of racing it.
"""

from __future__ import annotations

import struct
import threading
import time
from collections.abc import Sequence
from typing import Any

from paho.mqtt.client import Client, MQTTMessage
from paho.mqtt.enums import MQTTErrorCode, MQTTProtocolVersion

_READ_SIZE = 256 * 1024
_MAX_PACKETS_PER_READ = 4096
_PUBACK = 0x40

PRIVATE_API: tuple[tuple[type, str, tuple[str, ...] | None], ...] = (
    # (class, name, its parameters after self — or None for an instance attribute)
    (Client, "_create_socket", ()),
    (Client, "loop_read", ("max_packets",)),
    (Client, "_handle_on_message", ("message",)),
    (Client, "_packet_queue", ("command", "packet", "mid", "qos", "info")),
    (Client, "_sock", None),
    (Client, "_thread", None),
    (Client, "_in_callback_mutex", None),
    (Client, "_userdata", None),
    (Client, "_in_packet", None),
    (Client, "_protocol", None),
    (Client, "_manual_ack", None),
    (Client, "_handle_publish", ()),
    (MQTTMessage, "_topic", None),
)
"""Every private paho name used here; checked by tests/test_paho_internals.py."""

PRIVATE_BEHAVIOUR: tuple[tuple[type, str, str, str], ...] = (
    # (class, method, text its source must contain, what we rely on)
    (Client, "reconnect", "self._create_socket()", "every connection's socket comes from "
     "_create_socket"),
    (Client, "_loop", ".pending()", "select() skips its wait while the socket has pending bytes"),
    (Client, "_sock_recv", ".recv(", "packets are read through the socket's recv()"),
    (Client, "_handle_publish", "self._handle_on_message(", "a received PUBLISH reaches "
     "on_message through _handle_on_message"),
    (Client, "_packet_handle", "self._handle_publish()", "a received PUBLISH is handled by "
     "_handle_publish, which FastClient overrides"),
    (Client, "_packet_queue", "self._thread is None",
     "a queued packet is written by the loop thread when one is set"),
)
"""What paho's own code must keep doing for the overrides to work."""


class _BufferedSocket:
    """Delegates everything to the real socket except `recv` and `pending`."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self._buf = b""
        self._pos = 0

    def buffered(self) -> int:
        return len(self._buf) - self._pos

    def recv(self, bufsize: int) -> bytes:
        if self._pos >= len(self._buf):
            data = self._sock.recv(_READ_SIZE)  # BlockingIOError etc. reach paho unchanged
            if not data:
                return b""
            self._buf, self._pos = data, 0
        start = self._pos
        self._pos = min(len(self._buf), start + bufsize)
        return self._buf[start:self._pos]

    def pending(self) -> int:
        inner = self._sock.pending() if hasattr(self._sock, "pending") else 0
        return self.buffered() + int(inner)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class FastClient(Client):
    def _create_socket(self) -> Any:
        return _BufferedSocket(super()._create_socket())

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        rc = super().loop_read(max_packets)
        for _ in range(_MAX_PACKETS_PER_READ):
            sock = self._sock
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS or not isinstance(sock, _BufferedSocket) \
                    or not sock.buffered():
                break
            rc = super().loop_read(max_packets)
        return rc

    def _handle_on_message(self, message: MQTTMessage) -> None:
        on_message = self.on_message
        if on_message is not None:
            with self._in_callback_mutex:
                on_message(self, self._userdata, message)

    def _handle_publish(self) -> MQTTErrorCode:
        # Layout (MQTT 3.1.1 §3.3, 5 §3.3): topic length (2 bytes), topic, packet id (2 bytes,
        # QoS > 0), then in MQTT 5 the properties' length (varint; one 0 byte: none), payload.
        command = self._in_packet["command"]
        if (command & 0x06) != 0x02 or not self._manual_ack:  # not QoS 1 with manual acks
            return super()._handle_publish()
        packet = bytes(self._in_packet["packet"])  # paho reads into a bytearray
        end = 2 + ((packet[0] << 8) | packet[1])
        if self._protocol == MQTTProtocolVersion.MQTTv5:
            if len(packet) < end + 3 or packet[end + 2] != 0:  # has properties (topic alias…)
                return super()._handle_publish()
            body = end + 3
        else:
            if end == 2 or len(packet) < end + 2:
                return super()._handle_publish()
            body = end + 2
        message = MQTTMessage(mid=(packet[end] << 8) | packet[end + 1], topic=packet[2:end])
        message.qos = 1
        message.dup = bool(command & 0x08)
        message.retain = bool(command & 0x01)
        message.payload = packet[body:]
        message.timestamp = time.monotonic()
        self._handle_on_message(message)
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    def run_in(self, thread: threading.Thread) -> None:
        """`thread` runs this client's loop (`loop_forever`), possibly restarting it."""
        self._thread = thread

    def queue_pubacks(self, mids: Sequence[int]) -> None:
        """PUBACK these QoS 1 packet ids, in order, as one write of the loop thread."""
        # Per PUBACK: type 0x40, remaining length 2, packet id — what client.ack() sends.
        packet = struct.pack(f"!{len(mids)}I", *((_PUBACK << 24) | (2 << 16) | mid
                                                 for mid in mids))
        self._packet_queue(_PUBACK, packet, 0, 0)


def undecodable_topic(message: MQTTMessage) -> str:
    """The topic of a message whose `topic` raised UnicodeDecodeError, bad bytes replaced (a
    valid MQTT topic is UTF-8, but a broker may pass anything on; such a message is then
    dead-lettered, not lost)."""
    return message._topic.decode("utf-8", "replace")
