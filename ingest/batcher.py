"""The batcher: decoded readings in, durable readings out, then (and only then) acks.

One thread fills a `Batcher` (`add` decodes each message as it arrives; `take` hands the
batch over) and one thread flushes (`flush_batch`; `flush` does both in one thread), making
the whole batch durable in this order:

1. readings -> the store, or the on-disk spool if the store is unavailable or the spool still
   holds older batches (see `ingest.spool` on order); if the store refuses the data itself,
   `isolate_rejected` bisects the batch to find the readings it refuses, and their messages
   become dead letters;
2. rejected messages -> the dead-letter store (one committed transaction);
3. `ack` is called with every message of the batch, in receive order.

If step 1 or 2 cannot complete (spool full, disk error), `flush_batch` returns False:
nothing of the batch is acked, and the caller retries the same batch (steps already done are
not repeated) while the worker stops getting new batches accepted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import NamedTuple

from ingest.deadletter import DeadLetterError, DeadLetterStore, NewDeadLetter
from ingest.decoders.contract import ReadingDecoder, Rejected
from ingest.metrics import IngestMetrics
from ingest.spool import SourceMessage, Spool, SpooledBatch, SpoolError
from stadtpuls.reading import Reading
from stadtpuls.store import Store, StoreRejected, StoreUnavailable

log = logging.getLogger("stadtpuls.ingest")

_time_ns = attrgetter("time_ns")

INTERNAL = -1  # InboundMessage.generation of readings the ingest makes itself: never acked


class InboundMessage(NamedTuple):
    """One received MQTT message, as handed from the network thread to the worker."""

    topic: str
    payload: bytes
    mid: int
    qos: int
    received_at_ns: int
    generation: int = 0


@dataclass
class StoreHealth:
    """Shared by the batcher and the drainer; read by /healthz."""

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


class RateLimitedLog:
    """At most one line per key per `interval_s`; the next line says how many were skipped."""

    def __init__(self, interval_s: float = 10.0, clock: Callable[[], float] = time.monotonic):
        self.interval_s = interval_s
        self._clock = clock
        self._last: dict[str, tuple[float, int]] = {}

    def warning(self, key: str, msg: str, *args: object) -> None:
        now = self._clock()
        last, skipped = self._last.get(key, (-1e18, 0))
        if now - last < self.interval_s:
            self._last[key] = (last, skipped + 1)
            return
        if len(self._last) > 10_000:  # keys come from payload errors: keep the dict bounded
            self._last.clear()
        self._last[key] = (now, 0)
        suffix = f" (and {skipped} more like it in the last {self.interval_s:.0f} s)" \
            if skipped else ""
        log.warning(msg + suffix, *args)


def isolate_rejected(store: Store, readings: Sequence[Reading]) -> list[tuple[int, str]]:
    """Write `readings` (which the store refused as a whole) in halves until every refused
    reading is alone; return (index, reason) of those. Raises StoreUnavailable."""
    bad: list[tuple[int, str]] = []

    def split(lo: int, hi: int, reason: str) -> None:
        if hi - lo == 1:
            bad.append((lo, reason))
            return
        mid = (lo + hi) // 2
        for a, b in ((lo, mid), (mid, hi)):
            try:
                store.write(readings[a:b])
            except StoreRejected as exc:
                split(a, b, str(exc))

    if readings:
        split(0, len(readings), "store rejected the batch")
    return bad


@dataclass
class Batch:
    """Messages in receive order; readings of message i are `counts[i]` consecutive ones."""

    messages: list[InboundMessage]
    counts: list[int]
    readings: list[Reading]
    dead: list[tuple[int, str]]  # (message index, reason)
    readings_done: bool = False

    def origins(self) -> list[int]:
        """InboundMessage index of every reading."""
        return [i for i, c in enumerate(self.counts) for _ in range(c)]


class Batcher:
    def __init__(
        self,
        decoder: ReadingDecoder,
        store: Store,
        spool: Spool,
        deadletters: DeadLetterStore,
        metrics: IngestMetrics,
        ack: Callable[[Sequence[InboundMessage]], None],
        *,
        store_health: StoreHealth | None = None,
        batch_size: int = 5_000,
        batch_ms: float = 100.0,
        on_spooled: Callable[[], None] = lambda: None,
    ) -> None:
        self.decoder = decoder
        self.store = store
        self.spool = spool
        self.deadletters = deadletters
        self.metrics = metrics
        self.health = store_health or StoreHealth()
        self._ack = ack
        self.batch_size = batch_size
        self.batch_s = batch_ms / 1000.0
        self._on_spooled = on_spooled
        self.rejections = RateLimitedLog()
        self._held: Batch | None = None  # taken by flush() but not yet durable
        self._reset()

    def _reset(self) -> None:
        self._messages: list[InboundMessage] = []
        self._counts: list[int] = []  # readings per message, parallel to _messages
        self._readings: list[Reading] = []
        self._dead: list[tuple[int, str]] = []  # (message index, reason)
        self._first_mono = 0.0

    # -- filling ---------------------------------------------------------------------------

    @property
    def pending_messages(self) -> int:
        return len(self._messages)

    @property
    def pending_readings(self) -> int:
        return len(self._readings)

    def add(self, msg: InboundMessage) -> None:
        """Decode one message into the batch (a rejection is kept as a dead letter to be)."""
        if not self._messages:
            self._first_mono = time.monotonic()
        try:
            readings = self.decoder.decode(msg.topic, msg.payload, msg.received_at_ns)
        except Rejected as exc:
            self._reject(msg, exc.reason)
            return
        except Exception as exc:  # a decoder bug must not stop the pipeline either
            self._reject(msg, f"decoder failed: {type(exc).__name__}: {exc}")
            return
        self._messages.append(msg)
        self._counts.append(len(readings))
        self._readings += readings

    def _reject(self, msg: InboundMessage, reason: str) -> None:
        self._dead.append((len(self._messages), reason))
        self._messages.append(msg)
        self._counts.append(0)
        self.rejections.warning(reason.split(":", 1)[0], "rejected message on %s: %s",
                                msg.topic, reason)

    def add_internal(self, readings: list[Reading], topic: str = "$internal/pipeline") -> None:
        """Readings the ingest makes itself (pipeline figures): same path, nothing to ack."""
        self.add_readings(InboundMessage(topic, b"", 0, 0, time.time_ns(), INTERNAL), readings)

    def add_readings(self, msg: InboundMessage, readings: list[Reading]) -> None:
        if not self._messages:
            self._first_mono = time.monotonic()
        self._messages.append(msg)
        self._counts.append(len(readings))
        self._readings += readings

    def due(self, now_mono: float | None = None) -> bool:
        if not self._messages:
            return False
        if len(self._readings) >= self.batch_size:
            return True
        now = time.monotonic() if now_mono is None else now_mono
        return now - self._first_mono >= self.batch_s

    def seconds_until_due(self) -> float | None:
        if not self._messages:
            return None
        return max(0.0, self._first_mono + self.batch_s - time.monotonic())

    def take(self) -> Batch | None:
        """Hand the batch over for flushing (by another thread) and start a new one."""
        if not self._messages:
            return None
        batch = Batch(self._messages, self._counts, self._readings, self._dead)
        self._reset()
        return batch

    # -- flushing (one thread; may differ from the filling thread) -------------------------

    def flush(self) -> bool:
        """Take and flush the current batch; a batch that fails is kept and retried first."""
        if self._held is None:
            self._held = self.take()
        if self._held is None:
            return True
        if not self.flush_batch(self._held):
            return False
        self._held = None
        return True

    def flush_batch(self, batch: Batch) -> bool:
        """Make the batch durable and ack it; False if that is not possible now. Call again
        with the same batch to retry: steps already done are not repeated."""
        if not batch.readings_done:
            try:
                if not self._store_or_spool(batch):
                    return False
            except SpoolError as exc:
                log.error("%s", exc)
                return False
            batch.readings_done = True
        if batch.dead:
            letters = [NewDeadLetter(batch.messages[i].received_at_ns, batch.messages[i].topic,
                                     batch.messages[i].payload, reason)
                       for i, reason in batch.dead]
            try:
                self.deadletters.add_many(letters)
            except DeadLetterError as exc:
                log.error("%s", exc)
                return False
        self._ack(batch.messages)
        rejected = len({i for i, _ in batch.dead})
        if rejected:
            self.metrics.rejected.inc(rejected)
        accepted = sum(1 for m in batch.messages if m.generation != INTERNAL) - rejected
        if accepted > 0:
            self.metrics.accepted.inc(accepted)
        return True

    def _store_or_spool(self, batch: Batch) -> bool:
        readings = batch.readings
        if not readings:
            return True
        if self.spool.is_empty():
            started = time.perf_counter()
            try:
                self.store.write(readings)
            except StoreUnavailable as exc:
                self.health.down(exc, self.metrics)
            except StoreRejected as exc:
                try:
                    self._write_isolating(batch, str(exc))
                except StoreUnavailable as exc2:
                    self.health.down(exc2, self.metrics)
                else:
                    return True
            else:
                self.metrics.write_seconds.observe(time.perf_counter() - started)
                self.health.up(self.metrics)
                self._count_durable(readings, written=True)
                return True
        return self._to_spool(batch)

    def _write_isolating(self, batch: Batch, reason: str) -> None:
        """The store refused the batch: find the refused readings, dead-letter their
        messages, keep the rest written."""
        log.warning("store refused a batch of %d readings (%s); isolating the bad ones",
                    len(batch.readings), reason)
        bad = isolate_rejected(self.store, batch.readings)
        origins = batch.origins()
        bad_messages: dict[int, str] = {}
        for index, why in bad:
            bad_messages.setdefault(origins[index], f"store rejected: {why}")
        batch.dead += bad_messages.items()
        good = [r for i, r in enumerate(batch.readings) if origins[i] not in bad_messages]
        self._count_durable(good, written=True)

    def _to_spool(self, batch: Batch) -> bool:
        index: dict[int, int] = {}
        sources: list[SourceMessage] = []
        for i, c in enumerate(batch.counts):
            if c:
                index[i] = len(sources)
                m = batch.messages[i]
                sources.append(SourceMessage(m.topic, m.payload, m.received_at_ns))
        origins = [index[i] for i in batch.origins()]
        if not self.spool.append(SpooledBatch(sources, batch.readings, origins)):
            return False
        self.metrics.readings_spooled.inc(len(batch.readings))
        self.metrics.spool_depth.set(self.spool.depth)
        self._count_durable(batch.readings, written=False)
        self._on_spooled()
        return True

    def _count_durable(self, readings: Sequence[Reading], *, written: bool) -> None:
        if not readings:
            return
        m = self.metrics
        if written:
            m.readings_written.inc(len(readings))
        unregistered = sum(1 for r in readings if r.unregistered)
        implausible = sum(1 for r in readings if r.implausible)
        if unregistered:
            m.readings_unregistered.inc(unregistered)
        if implausible:
            m.readings_implausible.inc(implausible)
        m.saw_readings(max(map(_time_ns, readings)))
