"""The ingest service: wires the threads of one ingest process together.

Data flows one way:

    MqttSession (paho's network thread) -> InboundQueue -> worker: BatchBuilder
        -> writer: Delivery (store, else spool, else dead letters) -> MqttSession.ack

- the worker thread (`_work`) decodes messages into the `BatchBuilder` and hands each due
  batch to the writer through a hand-off of one;
- the writer thread (`_write_loop`) has `Delivery` make the batch durable and gives the
  messages it returns to `MqttSession.ack`, one batch at a time, so PUBACKs go out in receive
  order (MQTT wants them in order);
- the drainer thread moves spooled batches into the store once it is back;
- the health server answers /healthz and /metrics.

Shutdown (SIGTERM/SIGINT): stop taking messages (new deliveries stay unacked and come back
to this session or another share-group member), let the worker store or spool what it holds
and ack it, disconnect (the DISCONNECT is queued behind those PUBACKs), stop the drainer.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any

from ingest.batching import Batch, BatchBuilder
from ingest.config import IngestConfig
from ingest.deadletter import DeadLetterStore
from ingest.decoders.contract import ReadingDecoder
from ingest.delivery import Delivery
from ingest.drainer import Drainer
from ingest.health import DurableHealth, HealthServer, StoreHealth
from ingest.inbound import InboundQueue
from ingest.metrics import IngestMetrics
from ingest.mqtt.session import MqttSession
from ingest.spool import Spool, adopt_orphaned_spools
from ingest.state_keeper import StateKeeper
from stadtpuls.catalogue.models import Catalogue
from stadtpuls.state.tracker import StateTracker
from stadtpuls.state.windows import catalogue_windows
from stadtpuls.store import StoreWriter
from stadtpuls.timebase import NS_PER_S

log = logging.getLogger("stadtpuls.ingest")


class IngestService:
    def __init__(self, config: IngestConfig, decoder: ReadingDecoder, store: StoreWriter, *,
                 catalogue: Catalogue | None = None,
                 state_store: StoreWriter | None = None) -> None:
        """`store` takes the readings; `state_store` (default `store`) the sensor-state
        snapshots, for when `store` is a wrapper such as the roll-ups' dirty marker."""
        self.config = config
        windows = catalogue_windows(catalogue) if catalogue is not None else None
        self.state = StateKeeper(StateTracker(windows) if windows else StateTracker(),
                                 state_store if state_store is not None else store,
                                 config.client_id, config.data_dir,
                                 interval_s=config.state_interval_s)
        self.metrics = IngestMetrics()
        self.spool = Spool(config.spool_path, config.spool_max_readings,
                           config.spool_max_bytes)
        adopted = adopt_orphaned_spools(self.spool, config.data_dir)
        if adopted:
            log.info("took over %d readings spooled under other client ids", adopted)
        self.deadletters = DeadLetterStore(config.deadletter_path,
                                           max_letters=config.deadletter_max_letters,
                                           max_bytes=config.deadletter_max_bytes,
                                           on_purged=self.metrics.deadletters_purged.inc)
        self.store_health = StoreHealth()
        self.durable = DurableHealth()
        self.drainer = Drainer(self.spool, store, self.deadletters, self.metrics,
                               self.store_health, batch_size=config.batch_size,
                               durable=self.durable, on_stored=self.state.stored)
        self.builder = BatchBuilder(decoder, batch_size=config.batch_size,
                                    batch_ms=config.batch_ms)
        self.delivery = Delivery(store, self.spool, self.deadletters, self.metrics,
                                 self.store_health, on_spooled=self.drainer.kick,
                                 durable=self.durable, on_stored=self.state.stored)
        self.inbound = InboundQueue(config.max_pending_messages, config.max_pending_bytes,
                                    config.max_block_s, self.metrics.overflows)
        self.session = MqttSession(config, self.inbound, self.metrics)
        self.metrics.spool_depth.set(self.spool.depth)
        self.metrics.store_ok.set(1)  # until a write says otherwise
        self._worker_done = threading.Event()
        self.failed = False  # the worker died of a bug: the process should exit non-zero
        self._stopped = False
        self._worker_thread = threading.Thread(target=self._work, name="ingest-worker",
                                               daemon=True)
        # Decoding the next batch overlaps writing the last one (the store's HTTP round trip
        # and its parsing happen outside our GIL): measured +25 % for SenML packs.
        self._batches: queue.Queue[Batch | None] = queue.Queue(maxsize=1)
        self._writer_thread = threading.Thread(target=self._write_loop, name="ingest-writer",
                                               daemon=True)
        # Reception time of the oldest message of the batch being made durable (0: none):
        # the writer is the one place messages wait for their ack, in receive order.
        self._unacked_since_ns = 0
        self.metrics.worker_alive.set_function(lambda: float(self.workers_alive))
        self.metrics.oldest_unacked_age.set_function(self.oldest_unacked_age_s)
        self.http: HealthServer | None = None
        if config.http_port:
            self.http = HealthServer(config.http_host, config.http_port, self.health,
                                     self.metrics.exposition)

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        c = self.config
        log.info("ingest %r: subscribing to %s on %s (MQTT %s); spool %s (%d readings "
                 "waiting)", c.client_id, ", ".join(c.subscriptions), c.mqtt.url,
                 "5" if c.mqtt_version == 5 else "3.1.1", c.spool_path, self.spool.depth)
        if self.http is not None:
            self.http.start()
            log.info("health on http://%s:%d/healthz, metrics on /metrics", c.http_host,
                     self.http.port)
        self.drainer.start()
        self.state.start()
        self._worker_thread.start()
        self.session.start()

    def stop(self) -> None:
        """Graceful stop: stop taking messages, store or spool what is held, ack, disconnect."""
        if self._stopped:
            return
        self._stopped = True
        log.info("stopping: finishing the batch in hand")
        self.inbound.close()
        if self._worker_thread.ident is not None:  # started (tests run parts alone)
            self._worker_done.wait(self.config.shutdown_timeout_s)
        self.session.close()
        self.drainer.stop()
        self.state.stop()
        if self.http is not None:
            self.http.stop()
        pending = self.spool.depth
        self.spool.close()
        self.deadletters.close()
        log.info("stopped%s", f"; {pending} readings stay spooled for the next start"
                 if pending else "")

    def _fail(self, what: str) -> None:
        log.exception("ingest %s failed; stopping", what)
        self.failed = True
        self.inbound.close()

    # -- worker: queue -> batch builder -> hand-off ----------------------------------------

    def _work(self) -> None:
        self._writer_thread.start()
        try:
            self._work_loop()
        except Exception:
            self._fail("worker")
        finally:
            self._batches.put(None)
            self._writer_thread.join()
            self._worker_done.set()

    def _work_loop(self) -> None:
        b = self.builder
        inbound = self.inbound
        stats_every = self.config.stats_interval_s
        next_stats = time.monotonic() + stats_every
        while True:
            wait = b.seconds_until_due()
            msg = inbound.get(0.2 if wait is None else min(wait, 0.2))
            if msg is None:
                if inbound.closed and inbound.empty():
                    self._hand_over()
                    return
            else:
                b.add(msg)
                # Take what is already queued without sleeping, up to the batch's limits.
                while not b.due() and (msg := inbound.get()) is not None:
                    b.add(msg)
            now = time.monotonic()
            if stats_every > 0 and now >= next_stats:
                next_stats = now + stats_every
                self.metrics.queue_depth.set(inbound.depth)
                b.add_internal(self.metrics.pipeline_readings(self.config.client_id,
                                                              time.time_ns()))
            if b.due(now):
                self._hand_over()
            if inbound.overflowed and inbound.depth == 0 and b.pending_messages == 0 \
                    and not inbound.closed:
                inbound.overflowed = False
                self.session.request_redelivery()

    def _hand_over(self) -> None:
        """Give the due batch to the writer and go on decoding. The hand-off holds one
        batch, so at most three exist (filling, waiting, being written); a slow store
        blocks the worker here, and then the queue bound takes over."""
        batch = self.builder.take()
        if batch is not None:
            self._batches.put(batch)

    # -- writer: delivery -> acks ----------------------------------------------------------

    def _write_loop(self) -> None:
        while True:
            batch = self._batches.get()
            if batch is None:
                return
            self._unacked_since_ns = min((m.received_at_ns for m in batch.messages),
                                         default=0)
            try:
                self._deliver_until_done(batch)
            except Exception:
                self._fail("writer")
            self._unacked_since_ns = 0

    def _deliver_until_done(self, batch: Batch) -> None:
        give_up_at: float | None = None
        warned = False
        while (ackable := self.delivery.deliver(batch)) is None:
            if not warned:
                warned = True
                log.warning("cannot make the batch durable (spool full: %d readings, or a "
                            "disk error); not acking until there is room", self.spool.depth)
            if self.inbound.closed:
                now = time.monotonic()
                give_up_at = give_up_at or now + self.config.shutdown_timeout_s / 2
                if now > give_up_at:
                    log.error("giving up on %d unacked messages at shutdown; the broker "
                              "keeps them for the next start", len(batch.messages))
                    return
            self.drainer.wait_for_progress(0.5)
        self.session.ack(ackable)

    # -- health ----------------------------------------------------------------------------

    @property
    def workers_alive(self) -> bool:
        """Worker and writer run (before start, and after a clean stop, they count as alive:
        only a death by exception is a health problem)."""
        return not self.failed

    def oldest_unacked_age_s(self) -> float:
        since = self._unacked_since_ns
        return max(0.0, (time.time_ns() - since) / NS_PER_S) if since else 0.0

    def health(self) -> tuple[bool, dict[str, Any]]:
        """(ok, body). The body holds states and fixed reasons only: no broker URL, client
        id or error text (strangers may read it; details are in the log and /metrics)."""
        reasons: list[str] = []
        connected = self.session.connected
        spool_full = self.spool.full
        age = self.oldest_unacked_age_s()
        if not connected:
            reasons.append("not connected to the broker")
        if not self.store_health.ok and spool_full:
            reasons.append("store unavailable and spool full")
        if not self.durable.all_ok:
            reasons.append("cannot write the spool or dead letters (disk full or read-only)")
        if not self.workers_alive:
            reasons.append("worker died")
        if not self.drainer.alive:
            reasons.append("spool drainer is not running")
        if age > self.config.max_unacked_age_s:
            reasons.append(f"oldest unacknowledged message older than "
                           f"{self.config.max_unacked_age_s:g} s")
        if self.inbound.closed:
            reasons.append("stopping")
        body: dict[str, Any] = {
            "status": "unavailable" if reasons else "ok",
            "reasons": reasons,
            "broker": "connected" if connected else "disconnected",
            "store": "ok" if self.store_health.ok else "unavailable",
            "durable": "ok" if self.durable.all_ok else "failing",
            "worker": "alive" if self.workers_alive else "dead",
            "drainer": "alive" if self.drainer.alive else "not running",
            "drainer_restarts": self.drainer.restarts,
            "oldest_unacked_age_s": round(age, 3),
            "spool_depth": self.spool.depth,
            "spool_max_readings": self.spool.max_readings,
            "spool_full": spool_full,
            "queue_depth": self.inbound.depth,
        }
        return not reasons, body
