"""The drainer: a background thread that moves spooled batches into the store, oldest first.

It retries with exponential backoff while the store is unavailable (0.5 s doubling to 30 s,
and at once when kicked after a new spool append following a long pause), merges small
spooled batches into writes of up to `batch_size` readings, and deletes rows only after the
store accepted them. Readings the store refuses as bad data are isolated and their source
messages dead-lettered by the same function as on the direct path
(`stadtpuls.refusal.write_isolating`).

Supervised: an exception nobody classified (neither "store unavailable" nor a spool or
dead-letter disk error) does not end the thread silently; the loop is restarted with backoff,
each restart logged and counted (`stadtpuls_ingest_drainer_restarts_total`), and /healthz
reports the drainer as not alive while it waits to restart.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from ingest.deadletter import DeadLetterError, DeadLetterStore, letters_for
from ingest.health import DurableHealth, StoreHealth
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
        durable: DurableHealth | None = None,
        on_stored: Callable[[Sequence[Reading]], None] = lambda _r: None,
    ) -> None:
        self._on_stored = on_stored
        self.spool = spool
        self.store = store
        self.deadletters = deadletters
        self.metrics = metrics
        self.health = health
        self.batch_size = batch_size
        self.durable = durable or DurableHealth()
        self.restarts = 0
        self.crashed = False
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._progress = threading.Condition()
        self._thread = threading.Thread(target=self._supervise, name="spool-drainer", daemon=True)
        self._backoff = MIN_BACKOFF_S

    def start(self) -> None:
        self._thread.start()
        self.metrics.drainer_alive.set(1)

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

    @property
    def alive(self) -> bool:
        """Not dead and not waiting to restart after a crash (before start and while
        stopping it counts as alive: only a crash is a health problem)."""
        if self.crashed:
            return False
        return self._thread.is_alive() or self._thread.ident is None or self._stop.is_set()

    def _supervise(self) -> None:
        """Run the drain loop; if it dies of an exception nobody classified (a bug, a
        poisoned row), log it once, count it and run it again after a backoff: a dead
        drainer would leave the spool undrained and, once full, stop every ack."""
        backoff = MIN_BACKOFF_S
        while not self._stop.is_set():
            try:
                self._run()
            except Exception:
                self.crashed = True
                self.restarts += 1
                self.metrics.drainer_restarts.inc()
                self.metrics.drainer_alive.set(0)
                log.exception("spool drainer crashed (restart %d); restarting in %.1f s",
                              self.restarts, backoff)
                self._sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
                self.crashed = False
                self.metrics.drainer_alive.set(1)
            else:
                return

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
                self._back_off()
            except SpoolError as exc:
                self.durable.failed("spool", exc, self.metrics)
                self._back_off()
            except DeadLetterError as exc:
                self.durable.failed("dead letters", exc, self.metrics)
                self._back_off()
            else:
                self._backoff = MIN_BACKOFF_S

    def _back_off(self) -> None:
        self._sleep(self._backoff)
        self._backoff = min(self._backoff * 2, MAX_BACKOFF_S)

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
        invalid: dict[int, str] = {}
        for _, batch in items:
            offset = len(messages)
            messages += batch.messages
            readings += batch.readings
            origins += [o + offset for o in batch.origins]
            invalid.update((o + offset, why) for o, why in batch.invalid.items())
        started = time.perf_counter()
        kept, refused = write_isolating(self.store, readings, origins)
        refused = {**invalid, **refused}
        if refused:
            self.deadletters.add_many(letters_for(messages, refused.items()))
            self.durable.ok("dead letters", self.metrics)
            self.metrics.rejected.inc(len(refused))
        self.metrics.write_seconds.observe(time.perf_counter() - started)
        self.metrics.write_readings.observe(len(readings))
        self.health.up(self.metrics)
        self.spool.delete([rowid for rowid, _ in items])
        self.durable.ok("spool", self.metrics)
        self.metrics.readings_written.inc(len(kept))
        self._on_stored(kept)
        self.metrics.spool_depth.set(self.spool.depth)
        if self.spool.is_empty():
            log.info("spool drained")
        with self._progress:
            self._progress.notify_all()
        return len(readings)
