"""The drainer: a background thread that moves spooled batches into the store, oldest first.

It retries with exponential backoff while the store is unavailable (0.5 s doubling to 30 s,
and at once when kicked after a new spool append following a long pause), merges small
spooled batches into writes of up to `batch_size` readings, and deletes rows only after the
store accepted them. Readings the store refuses as bad data are isolated and their source
messages dead-lettered by the same function as on the direct path
(`stadtpuls.refusal.write_isolating`).
"""

from __future__ import annotations

import logging
import threading
import time

from ingest.deadletter import DeadLetterError, DeadLetterStore, letters_for
from ingest.health import StoreHealth
from ingest.metrics import IngestMetrics
from ingest.spool import SourceMessage, Spool, SpoolError
from stadtpuls.reading import Reading
from stadtpuls.refusal import write_isolating
from stadtpuls.store import StoreUnavailable, StoreWriter

log = logging.getLogger("stadtpuls.ingest")

MIN_BACKOFF_S = 0.5
MAX_BACKOFF_S = 30.0


class Drainer:
    def __init__(
        self,
        spool: Spool,
        store: StoreWriter,
        deadletters: DeadLetterStore,
        metrics: IngestMetrics,
        health: StoreHealth,
        *,
        batch_size: int = 5_000,
    ) -> None:
        self.spool = spool
        self.store = store
        self.deadletters = deadletters
        self.metrics = metrics
        self.health = health
        self.batch_size = batch_size
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._progress = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="spool-drainer", daemon=True)
        self._backoff = MIN_BACKOFF_S

    def start(self) -> None:
        self._thread.start()

    def kick(self) -> None:
        """Something was spooled: make sure the drainer is awake."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def wait_for_progress(self, timeout: float) -> None:
        """Block until the drainer deleted something (or `timeout`): for a full spool."""
        with self._progress:
            self._progress.wait(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.spool.is_empty():
                self._wake.wait(1.0)
                self._wake.clear()
                continue
            try:
                self.drain_once()
            except StoreUnavailable as exc:
                self.health.down(exc, self.metrics)
                self._sleep(self._backoff)
                self._backoff = min(self._backoff * 2, MAX_BACKOFF_S)
            except (SpoolError, DeadLetterError) as exc:
                log.error("spool drain stalled: %s", exc)
                self._sleep(self._backoff)
                self._backoff = min(self._backoff * 2, MAX_BACKOFF_S)
            else:
                self._backoff = MIN_BACKOFF_S

    def _sleep(self, seconds: float) -> None:
        self._stop.wait(seconds)

    def drain_once(self) -> int:
        """Write the oldest spooled batches; return readings drained. Raises
        StoreUnavailable, SpoolError, DeadLetterError (nothing deleted then)."""
        items = self.spool.oldest(self.batch_size)
        if not items:
            return 0
        messages: list[SourceMessage] = []
        readings: list[Reading] = []
        origins: list[int] = []
        for _, batch in items:
            offset = len(messages)
            messages += batch.messages
            readings += batch.readings
            origins += [o + offset for o in batch.origins]
        started = time.perf_counter()
        kept, refused = write_isolating(self.store, readings, origins)
        if refused:
            self.deadletters.add_many(letters_for(messages, refused.items()))
            self.metrics.rejected.inc(len(refused))
        self.metrics.write_seconds.observe(time.perf_counter() - started)
        self.health.up(self.metrics)
        self.spool.delete([rowid for rowid, _ in items])
        self.metrics.readings_written.inc(len(kept))
        self.metrics.spool_depth.set(self.spool.depth)
        if self.spool.is_empty():
            log.info("spool drained")
        with self._progress:
            self._progress.notify_all()
        return len(readings)
