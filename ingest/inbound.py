"""The ingest's message type and the bounded queue between the MQTT session and the worker.

The session's network thread `put`s every PUBLISH; the worker `get`s them. The queue is
bounded in messages and bytes because Mosquitto 2.0.11 (Debian 12) does not keep to the
client's MQTT 5 Receive Maximum once messages queue up for it: after the first PUBACKs it
sends the whole backlog (measured: 100 allowed, 4,900 sent; the same with 3.1.1 and
max_inflight_messages). The bound is enforced in two steps:

1. a full queue holds the network thread for up to `max_block_s` (5 s, far below the
   keepalive) until the worker has taken messages: paho stops reading, TCP flow control stops
   the broker. This is the normal case when the inflow outpaces the store for a while.
2. if the worker makes no room in that time (spool full, disk error), further messages are
   neither queued nor acked — the broker still holds them as in flight — and the queue is
   marked `overflowed`; once the worker has caught up the service asks the session to
   reconnect, which makes the broker redeliver every unacked message of the persistent session.

Memory stays bounded, nothing is dropped. `close` stops taking messages (shutdown): new
deliveries stay unacked and come back to this session or another share-group member.

`put` and `get` run once per message: the counters are written by one thread each, so they
need no lock.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import NamedTuple

from prometheus_client import Counter

log = logging.getLogger("stadtpuls.ingest")

INTERNAL = -1  # InboundMessage.generation of readings the ingest makes itself: never acked


class InboundMessage(NamedTuple):
    """One received MQTT message, as handed from the network thread to the worker.

    `generation` is the session's connection generation at reception: an ack is sent only on
    the connection the message arrived on (see `ingest.mqtt.session`). `retained` is the
    MQTT retain flag on delivery: set only for a retained message the broker sent because
    of our subscription, not for a live one (see `ingest.batching` for what that means).
    """

    topic: str
    payload: bytes
    mid: int
    qos: int
    received_at_ns: int
    generation: int = 0
    retained: bool = False


class InboundQueue:
    def __init__(self, max_messages: int, max_bytes: int, max_block_s: float,
                 overflows: Counter) -> None:
        self.max_messages = max_messages
        self.max_bytes = max_bytes
        self.max_block_s = max_block_s
        self._overflows = overflows
        self._queue: queue.SimpleQueue[InboundMessage] = queue.SimpleQueue()
        # pending = put - taken; put_* written by the network thread, taken_* by the worker.
        self._put_msgs = self._put_bytes = 0
        self._taken_msgs = self._taken_bytes = 0
        self.overflowed = False
        self.closed = False
        self._space = threading.Event()
        self._space_wanted = False

    @property
    def depth(self) -> int:
        """Messages received but not yet taken by the worker."""
        return self._put_msgs - self._taken_msgs

    # -- network thread --------------------------------------------------------------------

    def put(self, topic: str, payload: bytes, mid: int, qos: int, generation: int,
            retained: bool = False) -> None:
        """Queue a message (stamped with its reception time), holding the caller while the
        queue is full; leaves it unqueued (so unacked) when closed or overflowed."""
        if self.closed:
            return
        if self._full() and not self._wait_for_space():
            if not self.overflowed:
                self.overflowed = True
                self._overflows.inc()
                log.warning("in-memory queue still full after %.0f s (%d messages); leaving "
                            "further messages unacked at the broker until the backlog is "
                            "written", self.max_block_s, self.depth)
            return
        self._put_msgs += 1
        self._put_bytes += len(payload)
        self._queue.put(InboundMessage(topic, payload, mid, qos, time.time_ns(), generation,
                                       retained))

    def _full(self) -> bool:
        return (self._put_msgs - self._taken_msgs >= self.max_messages
                or self._put_bytes - self._taken_bytes >= self.max_bytes)

    def _wait_for_space(self) -> bool:
        """Hold the network thread (TCP back-pressure) while the worker catches up, but only
        briefly: keepalives and our own PUBACKs wait meanwhile. Never once overflowed."""
        if self.overflowed or self.closed:
            return False
        self._space.clear()
        self._space_wanted = True
        deadline = time.monotonic() + self.max_block_s
        while self._full():
            left = deadline - time.monotonic()
            if left <= 0 or self.closed:
                self._space_wanted = False
                return False
            self._space.wait(min(left, 0.5))
            self._space.clear()
        self._space_wanted = False
        return True

    # -- worker ----------------------------------------------------------------------------

    def get(self, timeout: float = 0.0) -> InboundMessage | None:
        """The next message, or None after `timeout` seconds (0: at once) without one."""
        try:
            msg = self._queue.get(timeout > 0, timeout if timeout > 0 else None)
        except queue.Empty:
            return None
        self._taken_msgs += 1
        self._taken_bytes += len(msg.payload)
        if self._space_wanted:
            self._space.set()
        return msg

    def empty(self) -> bool:
        return self._queue.empty()

    def close(self) -> None:
        """Take no more messages (shutdown)."""
        self.closed = True
