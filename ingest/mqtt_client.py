"""A paho 2.x client that reads its socket in large chunks.

Stock paho reads each packet with several small `recv` calls (fixed header, each byte of the
remaining length, then the body) and handles one packet per `select`. Every one of those
system calls releases the GIL, and with the ingest's worker thread busy decoding, the network
thread then waits up to the interpreter's switch interval to get it back: profiled, the
network thread spent most of its time in `_sock_recv`/`select` while the worker waited for
messages. Here the socket is read 256 KiB at a time and every complete packet already in
memory is handled before paho goes back to `select`.

What is overridden, all private paho API (checked against paho-mqtt 2.1 and 2.2; the
test suite exercises it against a real broker):
- `_create_socket`: wraps the socket in `_BufferedSocket`, which answers paho's small `recv`
  calls from its buffer and reports buffered bytes through `pending()` — the hook paho
  already uses for TLS sockets, so `select` never sleeps while data is buffered;
- `loop_read`: keeps handling packets while buffered bytes remain (bounded, so PUBACKs and
  keepalives still get their turn);
- `_handle_on_message`: calls `on_message` directly, skipping the per-message topic-filter
  match for `message_callback_add`, which the ingest does not use.
"""

from __future__ import annotations

from typing import Any

from paho.mqtt.client import Client, MQTTMessage
from paho.mqtt.enums import MQTTErrorCode

_READ_SIZE = 256 * 1024
_MAX_PACKETS_PER_READ = 4096


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
