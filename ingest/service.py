"""The ingest service: paho network thread, worker thread, drainer, health server.

Threads and hand-offs
- paho's network thread (`_network`) only turns each PUBLISH into a `InboundMessage` and puts it on
  an in-memory queue; it never blocks, so keepalives keep flowing whatever the store does.
- the worker thread (`_work`) decodes into the `Batcher` and hands each full batch over;
- the writer thread (`_write_loop`) writes it or spools it, dead-letters, and then acks the
  batch's messages in receive order (MQTT wants PUBACKs in order), one batch at a time.
- the drainer thread moves spooled batches into the store once it is back.

Acks and connections. A message is acked only on the connection it arrived on: each
`InboundMessage` carries the connection generation, and acks of an older generation are dropped
(the broker redelivers those messages after the reconnect, and the store treats the second
write of a reading as the same point). Acking an old packet id on a new connection could
otherwise acknowledge a *different* message that reuses the id, before it is stored.

Back-pressure. The broker may only send `ReceiveMaximum` unacked messages (MQTT 5), so
when the worker stops acking (spool full, or slower than the inflow) a conforming broker stops
sending. Mosquitto 2.0.11 (Debian 12) does not keep to that window once messages queue up for
a client: after the first PUBACKs it sends the whole backlog (measured: 100 allowed, 4,900
sent; the same with 3.1.1 and max_inflight_messages). So the queue has its own bound
(`max_pending_messages`, `max_pending_bytes`), enforced in two steps:
1. a full queue holds the network thread for up to `max_block_s` (5 s, far below the
   keepalive) until the worker has taken messages: paho stops reading, TCP flow control stops
   the broker. This is the normal case when the inflow outpaces the store for a while.
2. if the worker makes no room in that time (spool full, disk error), further messages are
   neither queued nor acked — the broker still holds them as in flight — and once the worker
   has caught up the service reconnects, which makes the broker redeliver every unacked
   message of the persistent session.
Memory stays bounded, nothing is dropped.

Shutdown (SIGTERM/SIGINT): stop taking messages (new deliveries stay unacked and come back
to this session or another share-group member), let the worker store or spool what it holds
and ack it, disconnect (the DISCONNECT is queued behind those PUBACKs), stop the drainer.
"""

from __future__ import annotations

import logging
import queue
import struct
import threading
import time
from collections.abc import Sequence
from typing import Any

from paho.mqtt.client import Client, ConnectFlags, DisconnectFlags, MQTTMessage
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from ingest.batcher import Batch, Batcher, InboundMessage, StoreHealth
from ingest.config import IngestConfig
from ingest.deadletter import DeadLetterStore
from ingest.decoders.contract import ReadingDecoder
from ingest.drainer import Drainer
from ingest.health import HealthServer
from ingest.metrics import IngestMetrics
from ingest.mqtt_client import FastClient
from ingest.spool import Spool
from stadtpuls.store import Store

log = logging.getLogger("stadtpuls.ingest")

_PUBACK = 0x40
_MIN_RECONNECT_S = 1
_MAX_RECONNECT_S = 30


class IngestService:
    def __init__(self, config: IngestConfig, decoder: ReadingDecoder, store: Store) -> None:
        self.config = config
        self.metrics = IngestMetrics()
        self.store = store
        self.spool = Spool(config.spool_path, config.spool_max_readings)
        self.deadletters = DeadLetterStore(config.deadletter_path)
        self.store_health = StoreHealth()
        self.drainer = Drainer(self.spool, store, self.deadletters, self.metrics,
                               self.store_health, batch_size=config.batch_size)
        self.batcher = Batcher(decoder, store, self.spool, self.deadletters, self.metrics,
                               self._ack, store_health=self.store_health,
                               batch_size=config.batch_size, batch_ms=config.batch_ms,
                               on_spooled=self.drainer.kick)
        self.metrics.spool_depth.set(self.spool.depth)
        self.metrics.store_ok.set(1)  # until a write says otherwise
        self._queue: queue.SimpleQueue[InboundMessage] = queue.SimpleQueue()
        # Written by one thread each, so no lock: pending = put - taken.
        self._put_msgs = self._put_bytes = 0
        self._taken_msgs = self._taken_bytes = 0
        self._overflowed = False
        self._space = threading.Event()
        self._space_wanted = False
        self._gen_lock = threading.Lock()
        self._generation = 0
        self._connected = False
        self._stopping = False  # no new messages are taken
        self._closing = False  # the network loop ends at the next disconnect
        self._reconnect_requested = False
        self._broker_state = "starting"
        self._reconnect_delay: float = _MIN_RECONNECT_S
        self._worker_done = threading.Event()
        self.failed = False  # the worker died of a bug: the process should exit non-zero
        self._client = self._make_client()
        self._network_thread = threading.Thread(target=self._network, name="mqtt", daemon=True)
        self._worker_thread = threading.Thread(target=self._work, name="ingest-worker",
                                               daemon=True)
        # Decoding the next batch overlaps writing the last one (the store's HTTP round trip
        # and its parsing happen outside our GIL): measured +25 % for SenML packs.
        self._batches: queue.Queue[Batch | None] = queue.Queue(maxsize=1)
        self._writer_thread = threading.Thread(target=self._write_loop, name="ingest-writer",
                                               daemon=True)
        self.http: HealthServer | None = None
        if config.http_port:
            self.http = HealthServer(config.http_host, config.http_port, self.health,
                                     self.metrics.exposition)

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        c = self.config
        log.info("ingest %s: subscribing to %s on %s (MQTT %s); spool %s (%d readings "
                 "waiting)", c.client_id, ", ".join(c.subscriptions), c.mqtt.url,
                 "5" if c.mqtt_version == 5 else "3.1.1", c.spool_path, self.spool.depth)
        if self.http is not None:
            self.http.start()
            log.info("health on http://%s:%d/healthz, metrics on /metrics", c.http_host,
                     self.http.port)
        self.drainer.start()
        self._worker_thread.start()
        self._connect_async()
        # paho writes to the socket from the calling thread unless it believes its own loop
        # thread runs; ours does (it restarts loop_forever for forced reconnects), so tell it.
        # Otherwise the worker's acks would race the network thread's socket writes.
        self._client._thread = self._network_thread
        self._network_thread.start()

    def stop(self) -> None:
        """Graceful stop: stop taking messages, store or spool what is held, ack, disconnect."""
        if self._stopping:
            return
        log.info("stopping: finishing the batch in hand")
        self._stopping = True
        self._worker_done.wait(self.config.shutdown_timeout_s)
        self._closing = True
        self._client.disconnect()
        self._network_thread.join(10)
        self.drainer.stop()
        if self.http is not None:
            self.http.stop()
        pending = self.spool.depth
        self.spool.close()
        self.deadletters.close()
        log.info("stopped%s", f"; {pending} readings stay spooled for the next start"
                 if pending else "")

    # -- MQTT ------------------------------------------------------------------------------

    def _make_client(self) -> Client:
        c = self.config
        v5 = c.mqtt_version == 5
        client = FastClient(CallbackAPIVersion.VERSION2, client_id=c.client_id,
                        protocol=MQTTProtocolVersion.MQTTv5 if v5
                        else MQTTProtocolVersion.MQTTv311,
                        clean_session=None if v5 else False, manual_ack=True)
        if c.mqtt.username:
            client.username_pw_set(c.mqtt.username, c.mqtt.password)
        if c.mqtt.tls:
            client.tls_set(ca_certs=c.mqtt.ca_file)
        client.reconnect_delay_set(_MIN_RECONNECT_S, _MAX_RECONNECT_S)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    def _connect_async(self) -> None:
        c = self.config
        if c.mqtt_version == 5:
            props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            # Without a session expiry an MQTT 5 broker forgets the session (and the unacked
            # messages in it) the moment we disconnect.
            props.SessionExpiryInterval = c.session_expiry_s
            props.ReceiveMaximum = min(65_535, c.max_pending_messages)
            self._client.connect_async(c.mqtt.host, c.mqtt.port, c.keepalive_s,
                                       clean_start=False, properties=props)
        else:
            self._client.connect_async(c.mqtt.host, c.mqtt.port, c.keepalive_s)

    def _network(self) -> None:
        while True:
            try:
                self._client.loop_forever(retry_first_connection=True)
            except Exception as exc:  # e.g. TLS setup errors: log, back off, try again
                log.error("MQTT network loop failed: %s: %s", type(exc).__name__, exc)
                time.sleep(_MIN_RECONNECT_S)
            if self._closing:
                return
            if self._reconnect_requested:
                self._reconnect_requested = False
                log.info("reconnecting to %s to get unacked messages redelivered",
                         self.config.mqtt.url)
            self._connect_async()

    def _on_connect(self, client: Client, _u: Any, flags: ConnectFlags, code: ReasonCode,
                    _p: Any) -> None:
        if code.is_failure:
            self._state(f"broker {self.config.mqtt.url} refused the connection: {code}; "
                        "check --mqtt-username and the password", logging.ERROR)
            return
        with self._gen_lock:
            self._generation += 1
            self._connected = True
        self._reconnect_delay = _MIN_RECONNECT_S
        self.metrics.broker_connected.set(1)
        self._state(f"connected to {self.config.mqtt.url} as {self.config.client_id} "
                    f"(session present: {'yes' if flags.session_present else 'no'})")
        if self.config.mqtt_version == 5:
            topics: list[tuple[str, Any]] = [(s, SubscribeOptions(qos=1))
                                             for s in self.config.subscriptions]
        else:
            topics = [(s, 1) for s in self.config.subscriptions]
        client.subscribe(topics)

    def _on_subscribe(self, _c: Client, _u: Any, _mid: int, codes: list[ReasonCode],
                      _p: Any) -> None:
        for sub, code in zip(self.config.subscriptions, codes, strict=False):
            if code.is_failure:
                log.error("broker refused the subscription to %s: %s", sub, code)

    def _on_connect_fail(self, _c: Client, _u: Any) -> None:
        delay = self._next_delay()
        self._state(f"cannot reach broker {self.config.mqtt.url}; retrying every "
                    f"{delay:.0f}-{_MAX_RECONNECT_S} s", logging.WARNING, key="unreachable")

    def _on_disconnect(self, _c: Client, _u: Any, _f: DisconnectFlags, code: ReasonCode,
                       _p: Any) -> None:
        with self._gen_lock:
            self._generation += 1
            self._connected = False
        self.metrics.broker_connected.set(0)
        if self._closing or self._reconnect_requested:
            self._state(f"disconnected from {self.config.mqtt.url}")
            return
        self._state(f"lost connection to {self.config.mqtt.url}: {code}; retrying in "
                    f"{self._next_delay():.0f} s", logging.WARNING)

    def _next_delay(self) -> float:
        delay = self._reconnect_delay
        self._reconnect_delay = min(delay * 2, _MAX_RECONNECT_S)
        return delay

    def _state(self, line: str, level: int = logging.INFO, key: str | None = None) -> None:
        """One log line per change of the broker connection's state."""
        state = key or line
        if state != self._broker_state:
            self._broker_state = state
            log.log(level, "%s", line)

    def _on_message(self, _c: Client, _u: Any, msg: MQTTMessage) -> None:
        if self._stopping:
            return  # not acked: the broker redelivers it to this session or another replica
        payload = msg.payload
        if not isinstance(payload, bytes):
            payload = bytes(payload)
        if self._queue_full() and not self._wait_for_space():
            if not self._overflowed:
                self._overflowed = True
                self.metrics.overflows.inc()
                log.warning("in-memory queue still full after %.0f s (%d messages); leaving "
                            "further messages unacked at the broker until the backlog is "
                            "written", self.config.max_block_s,
                            self._put_msgs - self._taken_msgs)
            return
        try:
            topic = msg.topic
        except UnicodeDecodeError:
            topic = msg._topic.decode("utf-8", "replace")
        self._put_msgs += 1
        self._put_bytes += len(payload)
        self._queue.put(InboundMessage(topic, payload, msg.mid, msg.qos, time.time_ns(),
                                self._generation))

    def _queue_full(self) -> bool:
        return (self._put_msgs - self._taken_msgs >= self.config.max_pending_messages
                or self._put_bytes - self._taken_bytes >= self.config.max_pending_bytes)

    def _wait_for_space(self) -> bool:
        """Hold the network thread (TCP back-pressure) while the worker catches up, but only
        briefly: keepalives and our own PUBACKs wait meanwhile. Never once overflowed."""
        if self._overflowed or self._stopping:
            return False
        self._space.clear()
        self._space_wanted = True
        deadline = time.monotonic() + self.config.max_block_s
        while self._queue_full():
            left = deadline - time.monotonic()
            if left <= 0 or self._stopping:
                self._space_wanted = False
                return False
            self._space.wait(min(left, 0.5))
            self._space.clear()
        self._space_wanted = False
        return True

    def _ack(self, messages: Sequence[InboundMessage]) -> None:
        """PUBACK the messages of the current connection, in order, in one write."""
        with self._gen_lock:
            if not self._connected:
                return
            gen = self._generation
            mids = [m.mid for m in messages if m.qos == 1 and m.generation == gen]
            if not mids:
                return
            # One packet entry for all PUBACKs instead of one client.ack() per message (each
            # wakes paho's loop through a socket write). The bytes are exactly what
            # client.ack() sends for QoS 1: type 0x40, remaining length 2, packet id.
            packet = struct.pack(f"!{len(mids)}I", *((_PUBACK << 24) | (2 << 16) | mid
                                                     for mid in mids))
            self._client._packet_queue(_PUBACK, packet, 0, 0)

    # -- worker ----------------------------------------------------------------------------

    def _work(self) -> None:
        self._writer_thread.start()
        try:
            self._work_loop()
        except Exception:
            log.exception("ingest worker failed; stopping")
            self.failed = True
            self._stopping = True
        finally:
            self._batches.put(None)
            self._writer_thread.join()
            self._worker_done.set()

    def _work_loop(self) -> None:
        b = self.batcher
        q = self._queue
        stats_every = self.config.stats_interval_s
        next_stats = time.monotonic() + stats_every
        while True:
            wait = b.seconds_until_due()
            try:
                msg = q.get(timeout=0.2 if wait is None else min(wait, 0.2))
            except queue.Empty:
                if self._stopping and q.empty():
                    self._hand_over()
                    return
            else:
                self._taken(msg)
                b.add(msg)
                # Take what is already queued without sleeping, up to the batch's limits.
                while not b.due():
                    try:
                        msg = q.get_nowait()
                    except queue.Empty:
                        break
                    self._taken(msg)
                    b.add(msg)
            now = time.monotonic()
            if stats_every > 0 and now >= next_stats:
                next_stats = now + stats_every
                self.metrics.queue_depth.set(self._put_msgs - self._taken_msgs)
                b.add_internal(self.metrics.pipeline_readings(self.config.client_id,
                                                              time.time_ns()))
            if b.due(now):
                self._hand_over()
            if self._overflowed and self._put_msgs - self._taken_msgs == 0 \
                    and b.pending_messages == 0 and not self._stopping:
                self._request_redelivery()

    def _hand_over(self) -> None:
        """Give the full batch to the writer and go on decoding. The hand-off holds one
        batch, so at most three exist (filling, waiting, being written); a slow store
        blocks the worker here, and then the queue bound takes over."""
        batch = self.batcher.take()
        if batch is not None:
            self._batches.put(batch)

    def _taken(self, msg: InboundMessage) -> None:
        self._taken_msgs += 1
        self._taken_bytes += len(msg.payload)
        if self._space_wanted:
            self._space.set()

    def _write_loop(self) -> None:
        while True:
            batch = self._batches.get()
            if batch is None:
                return
            try:
                self._flush_until_done(batch)
            except Exception:
                log.exception("ingest writer failed; stopping")
                self.failed = True
                self._stopping = True

    def _flush_until_done(self, batch: Batch) -> None:
        give_up_at: float | None = None
        warned = False
        while not self.batcher.flush_batch(batch):
            if not warned:
                warned = True
                log.warning("cannot make the batch durable (spool full: %d readings, or a "
                            "disk error); not acking until there is room", self.spool.depth)
            if self._stopping:
                now = time.monotonic()
                give_up_at = give_up_at or now + self.config.shutdown_timeout_s / 2
                if now > give_up_at:
                    log.error("giving up on %d unacked messages at shutdown; the broker "
                              "keeps them for the next start", len(batch.messages))
                    return
            self.drainer.wait_for_progress(0.5)

    def _request_redelivery(self) -> None:
        self._overflowed = False
        self._reconnect_requested = True
        self._client.disconnect()

    # -- health ----------------------------------------------------------------------------

    def health(self) -> tuple[bool, dict[str, Any]]:
        connected = self._connected
        spool_full = self.spool.full
        ok = connected and (self.store_health.ok or not spool_full) and not self._stopping
        body: dict[str, Any] = {
            "status": "ok" if ok else "unavailable",
            "client_id": self.config.client_id,
            "broker": "connected" if connected else "disconnected",
            "broker_url": self.config.mqtt.url,
            "store": "ok" if self.store_health.ok else "unavailable",
            "spool_depth": self.spool.depth,
            "spool_max_readings": self.spool.max_readings,
            "spool_full": spool_full,
            "queue_depth": self._put_msgs - self._taken_msgs,
        }
        if not self.store_health.ok:
            body["store_error"] = self.store_health.last_error
        if self._stopping:
            body["stopping"] = True
        return ok, body
