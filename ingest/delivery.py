"""Delivery: make one batch durable and say which of its messages may now be acked.

`deliver(batch)` does, in this order:

1. readings -> the store, or the on-disk spool if the store is unavailable or the spool still
   holds older batches (see `ingest.spool` on order); readings the store refuses as bad data
   are isolated (`stadtpuls.refusal.write_isolating`) and their messages become dead letters;
2. rejected messages (decoder or store) -> the dead-letter store (one committed transaction);
3. count the outcome and return every message of the batch, in receive order: now they may
   be acked (the caller, `ingest.service`, hands them to the MQTT session).

If step 1 or 2 cannot complete (spool full, disk error), `deliver` returns None: nothing of
the batch may be acked, and the caller retries the same batch later (steps already done are
not repeated).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from operator import attrgetter

from ingest.batching import Batch
from ingest.deadletter import DeadLetterError, DeadLetterStore, letters_for
from ingest.health import DurableHealth, StoreHealth
from ingest.inbound import INTERNAL, InboundMessage
from ingest.limits import edge_refusal
from ingest.metrics import IngestMetrics
from ingest.spool import SourceMessage, Spool, SpooledBatch, SpoolError
from stadtpuls.printable import printable
from stadtpuls.reading import Reading
from stadtpuls.refusal import write_isolating
from stadtpuls.store import StoreUnavailable, StoreWriter

log = logging.getLogger("stadtpuls.ingest")

_time_ns = attrgetter("time_ns")


class RateLimitedLog:
    """At most one line per key per `interval_s`; the next line says how many were skipped.

    Keys are fixed kinds chosen by the code ("rejected", "unexpected"), never text from a
    message, so the table stays small and a sender cannot buy a log line per message."""

    def __init__(self, interval_s: float = 10.0, clock: Callable[[], float] = time.monotonic):
        self.interval_s = interval_s
        self._clock = clock
        self._last: dict[str, tuple[float, int]] = {}

    def warning(self, key: str, msg: str, *args: object, exc_info: bool = False) -> None:
        now = self._clock()
        last, skipped = self._last.get(key, (-1e18, 0))
        if now - last < self.interval_s:
            self._last[key] = (last, skipped + 1)
            return
        self._last[key] = (now, 0)
        suffix = f" (and {skipped} more like it in the last {self.interval_s:.0f} s)" \
            if skipped else ""
        log.warning(msg + suffix, *args, exc_info=exc_info)


class Delivery:
    """One thread delivers; `on_spooled` wakes the drainer after a spool append."""

    def __init__(self, store: StoreWriter, spool: Spool, deadletters: DeadLetterStore,
                 metrics: IngestMetrics, health: StoreHealth, *,
                 on_spooled: Callable[[], None] = lambda: None,
                 durable: DurableHealth | None = None,
                 on_stored: Callable[[Sequence[Reading]], None] = lambda _r: None) -> None:
        self.store = store
        self._on_stored = on_stored
        self.spool = spool
        self.deadletters = deadletters
        self.metrics = metrics
        self.health = health
        self._on_spooled = on_spooled
        self.durable = durable or DurableHealth()
        self.rejections = RateLimitedLog()
        self.unexpected = RateLimitedLog(60.0)

    def deliver(self, batch: Batch) -> Sequence[InboundMessage] | None:
        """Make the batch durable; return its messages (to be acked in this order), or None
        if that is not possible now. Call again with the same batch to retry."""
        if not batch.readings_done:
            for i, reason in batch.dead:
                # Keyed by a fixed kind, never by the reason's text: a sender choosing
                # ever-new texts must not get a log line each.
                self.rejections.warning("rejected", "rejected message on %s: %s",
                                        printable(batch.messages[i].topic), printable(reason))
            try:
                if not self._store_or_spool(batch):
                    return None
            except SpoolError as exc:
                self.durable.failed("spool", exc, self.metrics)
                return None
            batch.readings_done = True
        if batch.dead:
            try:
                self.deadletters.add_many(letters_for(batch.messages, batch.dead))
            except DeadLetterError as exc:
                self.durable.failed("dead letters", exc, self.metrics)
                return None
            self.durable.ok("dead letters", self.metrics)
        rejected = len({i for i, _ in batch.dead})
        if rejected:
            self.metrics.rejected.inc(rejected)
            for _, reason in batch.dead:
                limit = edge_refusal(reason)
                if limit is not None:
                    self.metrics.refused_at_edge.labels(limit=limit).inc()
        if batch.skipped_retained:
            self.metrics.retained_skipped.inc(batch.skipped_retained)
        accepted = (sum(1 for m in batch.messages if m.generation != INTERNAL) - rejected
                    - batch.skipped_retained)
        if accepted > 0:
            self.metrics.accepted.inc(accepted)
        return batch.messages

    def _store_or_spool(self, batch: Batch) -> bool:
        readings = batch.readings
        if not readings:
            return True
        if self.spool.is_empty():
            started = time.perf_counter()
            try:
                kept, refused = write_isolating(self.store, readings, batch.origins)
            except StoreUnavailable as exc:
                self.health.down(exc, self.metrics)
            except Exception as exc:
                # A store should reduce every failure to unavailable or rejected; one that
                # does not is treated as unavailable (the readings are kept) and logged with
                # its traceback, so the writer thread never dies of it.
                self.unexpected.warning("unexpected", "unexpected %s from the store; spooling "
                                        "the batch", type(exc).__name__, exc_info=True)
                self.health.down(exc, self.metrics)
            else:
                self.metrics.write_seconds.observe(time.perf_counter() - started)
                self.metrics.write_readings.observe(len(readings))
                self.health.up(self.metrics)
                batch.dead += refused.items()
                self._count_durable(kept, written=True)
                self._on_stored(kept)
                self.durable.ok("spool", self.metrics)  # nothing needs the spool now
                return True
        return self._to_spool(batch)

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
        self.durable.ok("spool", self.metrics)
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
