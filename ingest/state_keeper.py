"""The state keeper: counts durable readings into a `StateTracker` and publishes snapshots.

`Delivery` and the spool drainer call `stored(readings)` once the store holds them (spooled
readings are counted when drained, so a snapshot never counts what the store does not yet
have). `stored` only queues the batch: the keeper's thread counts it, off the writer's path,
and every snapshot first counts whatever still waits, so it counts exactly what it did when
the writer counted. With 10,000 series the writer is what limits the rate (each store write
waits on InfluxDB), and counting there cost 0.35–0.7 s per 100,000 readings of its time
(`bench/bench_scale.py --ingest-only`). At most `MAX_WAITING` batches wait; beyond that,
or without the thread, `stored` counts them itself, in order.

Every `interval_s` the thread writes one row per series to the store (when the store
keeps sensor state) and, every `dump_every` snapshots and at stop, the buckets to
`state-<client-id>.bin` in the data directory, which the next start loads: a restarted
ingest goes on counting where it stopped. A crash loses the counts of at most
`dump_every × interval_s` of readings from the file (they are still in the store; readers
see them as missing until they leave the window). See docs/architecture.md, "Sensor state".
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path

from stadtpuls.reading import Reading
from stadtpuls.state.rows import BUCKET_S, RING_S
from stadtpuls.state.tracker import StateTracker
from stadtpuls.store import StoreError, StoreWriter
from stadtpuls.store.protocol import SensorStateStore, StoreReader
from stadtpuls.timebase import NS_PER_S

log = logging.getLogger("stadtpuls.ingest")

MAX_WAITING = 16
"""Batches queued for counting (at 5,000 readings each, 80,000 readings held at most)."""


def _holds_recent_readings(store: StoreWriter) -> bool:
    """Whether the store holds readings inside the longest window a snapshot answers (the
    ingest starts with no buckets file). If it cannot tell, assume it does."""
    if not isinstance(store, StoreReader):
        return True
    since = time.time_ns() - (RING_S + BUCKET_S) * NS_PER_S
    try:
        found = store.latest(None, since)
    except StoreError as exc:
        log.warning("sensor state: cannot tell whether the store holds readings (%s)", exc)
        return True
    return any(not key.site.startswith("_") for key in found)


def state_file_name(client_id: str) -> str:
    return f"state-{re.sub(r'[^A-Za-z0-9_.-]', '_', client_id)}.bin"


class StateKeeper:
    def __init__(self, tracker: StateTracker, store: StoreWriter, client_id: str,
                 data_dir: Path, *, interval_s: float = 60.0, dump_every: int = 5,
                 history_fed: bool = False) -> None:
        """`history_fed`: the caller writes the history it feeds in itself (the demo's
        back-fill), so readings already in the store are not a reason to count from now."""
        self.tracker = tracker
        self.store = store if isinstance(store, SensorStateStore) else None
        self.client_id = client_id
        self.path = data_dir / state_file_name(client_id)
        self.interval_s = interval_s
        self.dump_every = dump_every
        self.snapshots = 0
        self._stop = threading.Event()
        self._waiting: deque[Sequence[Reading]] = deque()
        self._wake = threading.Event()
        self._counting = threading.Lock()  # one counter at a time: batches count in order
        self._thread = threading.Thread(target=self._run, name="state-keeper", daemon=True)
        loaded = tracker.load(self.path)
        if loaded:
            log.info("sensor state: took over %d series from %s", loaded, self.path)
        elif not history_fed and _holds_recent_readings(store):
            # Readings this tracker never saw (a demo's back-fill, another writer, a lost
            # buckets file): its counts would read every sensor "incomplete" for a day.
            # Its windows count from now; until then readers ask the store.
            tracker.covered_from_ns = time.time_ns()
            log.info("sensor state: the store already holds readings; window figures "
                     "from the snapshot once they cover only what this ingest counted")

    def stored(self, readings: Sequence[Reading]) -> None:
        if self._thread.is_alive() and len(self._waiting) < MAX_WAITING:
            self._waiting.append(readings)
            self._wake.set()
            return
        with self._counting:
            self._count_waiting_locked()
            self.tracker.add(readings)

    def count_waiting(self) -> None:
        """Count every queued batch now (a snapshot does this first)."""
        with self._counting:
            self._count_waiting_locked()

    def _count_waiting_locked(self) -> None:
        while self._waiting:
            self.tracker.add(self._waiting.popleft())

    def start(self) -> None:
        if self.interval_s > 0:
            self._thread.start()

    def stop(self) -> None:
        """Publish a last snapshot and keep the buckets for the next start."""
        self._stop.set()
        self._wake.set()
        if self._thread.ident is not None:
            self._thread.join(30.0)
        self.publish(dump=True)

    def publish(self, *, dump: bool = False, now_ns: int | None = None) -> None:
        """Write one snapshot now (and the buckets file if `dump`); never raises."""
        self.count_waiting()
        rows = self.tracker.rows(self.client_id, now_ns or time.time_ns())
        if self.store is not None and rows:
            try:
                self.store.write_states(rows)
            except StoreError as exc:
                log.warning("sensor state snapshot not written (%s); next try in %g s",
                            exc, self.interval_s)
        self.snapshots += 1
        if dump or self.snapshots % self.dump_every == 0:
            try:
                self.tracker.dump(self.path)
            except OSError as exc:
                log.warning("sensor state not saved to %s: %s", self.path, exc)

    def _run(self) -> None:
        next_snapshot = time.monotonic() + self.interval_s
        while not self._stop.is_set():
            self._wake.wait(max(0.0, next_snapshot - time.monotonic()))
            self._wake.clear()
            try:
                self.count_waiting()
                if time.monotonic() >= next_snapshot:
                    next_snapshot = time.monotonic() + self.interval_s
                    self.publish()
            except Exception:
                # A bug here must not take the ingest down: readers fall back to raw queries.
                log.exception("sensor state counting or snapshot failed")
