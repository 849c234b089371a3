"""The on-disk spool: where a batch goes when the store cannot take it, so it can be acked.

A spooled batch is one row of an SQLite table (`PRAGMA synchronous=FULL`, so a row survives a
power cut once `append` returns). Rows are drained oldest first by `ingest.drainer`, and a row
is deleted only after the store accepted its readings, so a crash between the write and the
delete only rewrites the same readings, which the store treats as the same points.

Order. While the spool holds anything, delivery appends new batches here instead of writing
them to the store directly. Writes are idempotent, but the same reading identity can arrive
twice with different values (a sensor re-sending a corrected value): if a newer batch
overtook an older spooled one, the older value would win when the spool drained. Keeping one
path while the spool is non-empty keeps "last received wins" without any lock: delivery is
the only writer of new rows and checks `depth == 0` before it writes directly; the drainer
deletes the last row only after its store write returned.

Each row keeps the source messages (topic, payload, receive time) next to the readings, so a
batch the store later refuses as bad data can still be dead-lettered as the messages it came
from, ready for replay, instead of being dropped.

Full. The spool is bounded in readings (`max_readings`) and in stored bytes (`max_bytes`: each
row keeps its messages' payloads, so a sender of large payloads with one reading each would
fill the disk long before the readings bound). `append` refuses a batch that would overflow
either; the batch then stays in memory, unacked, and the worker stops taking messages
(see `ingest.inbound` for how that reaches the broker as back-pressure).
"""

from __future__ import annotations

import base64
import fcntl
import json
import logging
import os
import sqlite3
import threading
import time
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ingest.limits import SPOOL_MAX_BYTES
from stadtpuls.reading import Reading
from stadtpuls.units import Quantity

_SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    created_ns INTEGER NOT NULL,
    readings   INTEGER NOT NULL,
    payload    BLOB    NOT NULL
);
"""
_FORMAT = 1

log = logging.getLogger("stadtpuls.ingest")


@dataclass(frozen=True, slots=True)
class SourceMessage:
    """Where readings came from: enough to dead-letter and later replay the message."""

    topic: str
    payload: bytes
    received_at_ns: int


@dataclass(frozen=True, slots=True)
class SpooledBatch:
    """Readings plus, for each reading, the index of its message in `messages`.

    `invalid` names the messages (index -> reason) whose readings no longer pass `Reading`'s
    checks when read back — a batch spooled by an older version that accepted them. Those
    messages are dead-lettered whole by the drainer; the batch's other readings drain."""

    messages: Sequence[SourceMessage]
    readings: Sequence[Reading]
    origins: Sequence[int]
    invalid: Mapping[int, str] = field(default_factory=dict)


class SpoolError(Exception):
    """The spool file cannot be opened or written (disk full, permissions)."""


def encode_batch(batch: SpooledBatch) -> bytes:
    """Compact, version-tagged and Python-version independent (JSON, zlib level 1)."""
    doc = {
        "v": _FORMAT,
        "m": [[m.topic, m.received_at_ns, base64.b64encode(m.payload).decode("ascii")]
              for m in batch.messages],
        "r": [[o, r.site, r.sensor, r.quantity.value, r.time_ns, r.value,
               int(r.implausible) | int(r.unregistered) << 1]
              for r, o in zip(batch.readings, batch.origins, strict=True)],
    }
    return zlib.compress(json.dumps(doc, separators=(",", ":")).encode(), 1)


def decode_batch(blob: bytes) -> SpooledBatch:
    doc = json.loads(zlib.decompress(blob))
    if doc.get("v") != _FORMAT:
        raise SpoolError(f"spool batch has format {doc.get('v')!r}, expected {_FORMAT}")
    messages = [SourceMessage(t, base64.b64decode(p), int(at)) for t, at, p in doc["m"]]
    readings: list[Reading] = []
    origins: list[int] = []
    invalid: dict[int, str] = {}
    for o, site, sensor, quantity, time_ns, value, flags in doc["r"]:
        try:
            reading = Reading(site, sensor, Quantity(quantity), int(time_ns), float(value),
                              bool(flags & 1), bool(flags & 2))
        except ValueError as exc:
            invalid.setdefault(int(o), f"spooled reading no longer valid: {exc}")
            continue
        origins.append(int(o))
        readings.append(reading)
    if invalid:  # a message is stored whole or dead-lettered whole
        kept = [(r, o) for r, o in zip(readings, origins, strict=True) if o not in invalid]
        readings, origins = [r for r, _ in kept], [o for _, o in kept]
    return SpooledBatch(messages, readings, origins, invalid)


class Spool:
    """A bounded, durable FIFO of batches. Thread-safe: delivery appends, one drainer
    reads and deletes."""

    def __init__(self, path: str | Path, max_readings: int = 5_000_000,
                 max_bytes: int = SPOOL_MAX_BYTES) -> None:
        if max_readings <= 0 or max_bytes <= 0:
            raise ValueError("max_readings and max_bytes must be positive")
        self.path = Path(path)
        self.max_readings = max_readings
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._owner = _lock_file(self.path)
            if self._owner is None:
                raise SpoolError(f"spool {self.path} is in use by another ingest with the same "
                                 "client id; give each replica its own --client-id")
            self._db = sqlite3.connect(str(self.path), timeout=30, check_same_thread=False,
                                       isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            # FULL: an acked message must survive a power cut, not only a process crash.
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            row = self._db.execute("SELECT COUNT(*), COALESCE(SUM(readings), 0), "
                                   "COALESCE(SUM(length(payload)), 0) FROM batches").fetchone()
        except (OSError, sqlite3.Error) as exc:
            raise SpoolError(f"cannot open spool {self.path}: {exc}; check the data directory "
                             "(--data-dir / STADTPULS_DATA_DIR) and its permissions") from None
        # In-memory counters: delivery asks "is the spool empty?" for every batch.
        self._batches = int(row[0])
        self._readings = int(row[1])
        self._bytes = int(row[2])
        self._refused = False

    @property
    def depth(self) -> int:
        """Readings waiting in the spool."""
        return self._readings

    @property
    def batches(self) -> int:
        return self._batches

    def is_empty(self) -> bool:
        return self._batches == 0

    def would_overflow(self, readings: int, size: int) -> bool:
        # An empty spool takes any batch, or one batch larger than the bound could never go.
        return self._batches > 0 and (self._readings + readings > self.max_readings
                                      or self._bytes + size > self.max_bytes)

    @property
    def full(self) -> bool:
        """At a bound, or the last batch offered did not fit."""
        return (self._refused or self._readings >= self.max_readings
                or self._bytes >= self.max_bytes)

    def append(self, batch: SpooledBatch) -> bool:
        """Store the batch durably; False (nothing written) if it would overflow a bound."""
        n = len(batch.readings)
        blob = encode_batch(batch)
        if self.would_overflow(n, len(blob)):
            self._refused = True
            return False
        with self._lock:
            try:
                self._db.execute("INSERT INTO batches (created_ns, readings, payload) "
                                 "VALUES (?, ?, ?)", (time.time_ns(), n, blob))
            except sqlite3.Error as exc:
                raise SpoolError(f"cannot write to spool {self.path}: {exc}; check free disk "
                                 "space") from None
            self._batches += 1
            self._readings += n
            self._bytes += len(blob)
            self._refused = False
        return True

    def oldest(self, max_readings: int) -> list[tuple[int, SpooledBatch]]:
        """The oldest batches, together at most `max_readings` readings (at least one)."""
        out: list[tuple[int, SpooledBatch]] = []
        total = 0
        rows: list[tuple[int, int, bytes]] = []
        with self._lock:
            try:
                # Row by row, stopping at the bound: later payloads are never read from disk.
                for rowid, n, blob in self._db.execute(
                        "SELECT id, readings, payload FROM batches ORDER BY id LIMIT 64"):
                    if rows and total + n > max_readings:
                        break
                    rows.append((rowid, n, blob))
                    total += n
            except sqlite3.Error as exc:
                raise SpoolError(f"cannot read spool {self.path}: {exc}") from None
        for rowid, n, blob in rows:
            try:
                batch = decode_batch(blob)
            except (SpoolError, ValueError, KeyError, TypeError, zlib.error) as exc:
                # A damaged row would stop the drain for good: set it aside, go on.
                self._quarantine(int(rowid), int(n), len(blob), f"{type(exc).__name__}: {exc}")
                continue
            out.append((int(rowid), batch))
        return out

    def _quarantine(self, rowid: int, readings: int, size: int, why: str) -> None:
        """Move an undecodable row to `damaged_batches` (kept for an operator to inspect)."""
        log.error("spool %s: batch %d cannot be decoded (%s); moved to damaged_batches",
                  self.path, rowid, why[:200])
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.execute("CREATE TABLE IF NOT EXISTS damaged_batches AS SELECT * FROM "
                                 "batches WHERE 0")
                self._db.execute("INSERT INTO damaged_batches SELECT * FROM batches WHERE id = ?",
                                 (rowid,))
                self._db.execute("DELETE FROM batches WHERE id = ?", (rowid,))
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise SpoolError(f"spool {self.path}: cannot set damaged batch aside: {exc}"
                                 ) from None
            self._batches -= 1
            self._readings -= readings
            self._bytes -= size

    def delete(self, ids: Sequence[int]) -> None:
        if not ids:
            return
        with self._lock:
            try:
                self._db.execute("BEGIN")
                removed = readings = size = 0
                for rowid in ids:
                    row = self._db.execute("DELETE FROM batches WHERE id = ? RETURNING readings, "
                                           "length(payload)", (rowid,)).fetchone()
                    if row is not None:
                        removed += 1
                        readings += int(row[0])
                        size += int(row[1])
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise SpoolError(f"spool {self.path}: drained batches stay: {exc}") from None
            self._batches -= removed
            self._readings -= readings
            self._bytes -= size
            self._refused = False

    def adopt(self, other: Path) -> int:
        """Move every batch of the spool file `other` (oldest first) behind ours, then
        delete that file; return the readings moved. A crash in between leaves the batches
        in both files: draining both writes the same points twice, which the store absorbs."""
        with self._lock:
            try:
                self._db.execute("ATTACH DATABASE ? AS orphan", (str(other),))
                try:
                    self._db.execute("BEGIN IMMEDIATE")
                    batches, readings, size = self._db.execute(
                        "SELECT COUNT(*), COALESCE(SUM(readings), 0), "
                        "COALESCE(SUM(length(payload)), 0) FROM orphan.batches").fetchone()
                    self._db.execute("INSERT INTO main.batches (created_ns, readings, payload) "
                                     "SELECT created_ns, readings, payload FROM orphan.batches "
                                     "ORDER BY id")
                    self._db.execute("COMMIT")
                finally:
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                    self._db.execute("DETACH DATABASE orphan")
            except sqlite3.Error as exc:
                raise SpoolError(f"cannot take over spool {other}: {exc}") from None
            self._batches += int(batches)
            self._readings += int(readings)
            self._bytes += int(size)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{other}{suffix}").unlink(missing_ok=True)
        return int(readings)

    def close(self) -> None:
        with self._lock:
            self._db.close()
        _unlock_file(self._owner)


def adopt_orphaned_spools(spool: Spool, data_dir: Path) -> int:
    """Take over every other `spool-*.db` in `data_dir` that no running ingest holds (one
    written under an earlier client id, e.g. a container's old host name), so nothing stays
    stranded; return the readings taken over. Spools of running replicas are left alone."""
    moved = 0
    for other in sorted(data_dir.glob("spool-*.db")):
        if other.resolve() == spool.path.resolve():
            continue
        owner = _lock_file(other)
        if owner is None:
            continue  # a live replica's
        try:
            readings = spool.adopt(other)
            log.info("took over spool %s (%d readings)", other.name, readings)
            moved += readings
        except SpoolError as exc:
            log.error("%s; leaving it in place", exc)
        finally:
            _unlock_file(owner)
            Path(f"{other}.lock").unlink(missing_ok=True)
    return moved


def _lock_file(path: Path) -> int | None:
    """An exclusive lock on `<path>.lock` for this process's lifetime (the kernel drops it
    when the process dies, even by SIGKILL); None if another process holds it."""
    fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _unlock_file(fd: int | None) -> None:
    if fd is not None:
        os.close(fd)  # closing the descriptor releases the flock
