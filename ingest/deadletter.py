"""Dead letters: every message the ingest could not store, kept with its reason for replay.

One SQLite file (`<data-dir>/deadletter.db`) is shared by all replicas on a host: WAL mode and
a busy timeout let several processes append. A rejected message is acked only after its dead
letter is committed, so "visibly rejected" holds across crashes just as "stored" does.

`replay` re-decodes each message with the current catalogue (after an operator fixed it),
writes what now decodes (`stadtpuls.refusal.write_isolating`: what the store still refuses is
found by bisection), and deletes exactly the dead letters now stored; the others stay, with
their new reason. Letters of oversized payloads hold only their first bytes and are left as
they are.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ingest.decoders.contract import ReadingDecoder, Rejected
from ingest.limits import is_truncated
from stadtpuls.reading import Reading
from stadtpuls.refusal import write_isolating
from stadtpuls.store import StoreWriter

_SCHEMA = """
CREATE TABLE IF NOT EXISTS dead_letters (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at_ns INTEGER NOT NULL,
    topic          TEXT    NOT NULL,
    payload        BLOB    NOT NULL,
    reason         TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS dead_letters_by_time ON dead_letters (received_at_ns);
-- Count and bytes kept by triggers, so the caps cost O(1) per append and hold for every
-- process sharing the file.
CREATE TABLE IF NOT EXISTS dead_letter_totals (
    one     INTEGER PRIMARY KEY CHECK (one = 1),
    letters INTEGER NOT NULL,
    bytes   INTEGER NOT NULL
);
INSERT OR IGNORE INTO dead_letter_totals (one, letters, bytes)
    SELECT 1, COUNT(*), COALESCE(SUM(length(payload) + length(topic) + length(reason)), 0)
    FROM dead_letters;
CREATE TRIGGER IF NOT EXISTS dead_letters_added AFTER INSERT ON dead_letters BEGIN
    UPDATE dead_letter_totals SET letters = letters + 1,
        bytes = bytes + length(NEW.payload) + length(NEW.topic) + length(NEW.reason);
END;
CREATE TRIGGER IF NOT EXISTS dead_letters_removed AFTER DELETE ON dead_letters BEGIN
    UPDATE dead_letter_totals SET letters = letters - 1,
        bytes = bytes - length(OLD.payload) - length(OLD.topic) - length(OLD.reason);
END;
CREATE TRIGGER IF NOT EXISTS dead_letters_changed AFTER UPDATE OF reason ON dead_letters BEGIN
    UPDATE dead_letter_totals SET bytes = bytes - length(OLD.reason) + length(NEW.reason);
END;
"""

DEFAULT_MAX_LETTERS = 1_000_000
DEFAULT_MAX_BYTES = 1024 * 1024 * 1024
_PURGE_CHUNK = 1_000

log = logging.getLogger("stadtpuls.ingest")


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: int
    received_at_ns: int
    topic: str
    payload: bytes
    reason: str


@dataclass(frozen=True, slots=True)
class NewDeadLetter:
    received_at_ns: int
    topic: str
    payload: bytes
    reason: str


class Source(Protocol):
    """A message as received (the ingest's `InboundMessage`, the spool's `SourceMessage`)."""

    @property
    def topic(self) -> str: ...
    @property
    def payload(self) -> bytes: ...
    @property
    def received_at_ns(self) -> int: ...


def letters_for(messages: Sequence[Source],
                reasons: Iterable[tuple[int, str]]) -> list[NewDeadLetter]:
    """Dead letters for `messages[i]` with `reason`, for each (i, reason)."""
    return [NewDeadLetter(messages[i].received_at_ns, messages[i].topic, messages[i].payload,
                          reason) for i, reason in reasons]


@dataclass
class ReplayResult:
    replayed: int = 0  # decoded, written and deleted
    readings: int = 0
    still_rejected: int = 0  # kept, reason updated
    reasons: dict[str, int] = field(default_factory=dict)


class DeadLetterError(Exception):
    """The dead-letter file cannot be opened or written."""


class DeadLetterStore:
    """Bounded: beyond `max_letters` letters or `max_bytes` bytes (payload, topic, reason)
    the oldest are deleted at the next append; `on_purged(n)` is told how many (the ingest
    counts them in a metric), and a warning is logged at most once a minute."""

    def __init__(self, path: str | Path, *, max_letters: int = DEFAULT_MAX_LETTERS,
                 max_bytes: int = DEFAULT_MAX_BYTES,
                 on_purged: Callable[[int], None] = lambda n: None) -> None:
        if max_letters <= 0 or max_bytes <= 0:
            raise ValueError("dead-letter caps must be positive")
        self.path = Path(path)
        self.max_letters = max_letters
        self.max_bytes = max_bytes
        self._on_purged = on_purged
        self._last_purge_log = -1e18
        self._purged_unlogged = 0
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), timeout=30, check_same_thread=False,
                                       isolation_level=None)
            self._db.execute("PRAGMA busy_timeout=30000")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise DeadLetterError(f"cannot open dead-letter store {self.path}: {exc}; check "
                                  "the data directory (--data-dir / STADTPULS_DATA_DIR)") from None

    def add_many(self, letters: Sequence[NewDeadLetter]) -> None:
        """Commit all letters in one transaction (durable when this returns)."""
        if not letters:
            return
        rows = [(d.received_at_ns, d.topic, d.payload, d.reason) for d in letters]
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany("INSERT INTO dead_letters (received_at_ns, topic, payload, "
                                     "reason) VALUES (?, ?, ?, ?)", rows)
                purged = self._purge_over_caps()
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise DeadLetterError(f"cannot write dead letters to {self.path}: {exc}; "
                                      "check free disk space") from None
        if purged:
            self._purged(purged)

    def _purge_over_caps(self) -> int:
        """Delete the oldest letters until both caps hold (inside the caller's transaction).
        The newest letter stays even if it alone is over the byte cap."""
        purged = 0
        while True:
            letters, size = self._db.execute("SELECT letters, bytes FROM dead_letter_totals"
                                             ).fetchone()
            if letters <= 1 or (letters <= self.max_letters and size <= self.max_bytes):
                return purged
            n = letters - self.max_letters
            if size > self.max_bytes:
                n = max(n, self._letters_to_free(size - self.max_bytes))
            n = max(1, min(n, _PURGE_CHUNK, letters - 1))
            cur = self._db.execute("DELETE FROM dead_letters WHERE id IN (SELECT id FROM "
                                   "dead_letters ORDER BY id LIMIT ?)", (n,))
            purged += int(cur.rowcount)

    def _letters_to_free(self, excess: int) -> int:
        """How many of the oldest letters hold at least `excess` bytes (at most a chunk)."""
        rows = self._db.execute("SELECT length(payload) + length(topic) + length(reason) FROM "
                                "dead_letters ORDER BY id LIMIT ?", (_PURGE_CHUNK,)).fetchall()
        freed = 0
        for i, (size,) in enumerate(rows, 1):
            freed += int(size)
            if freed >= excess:
                return i
        return len(rows)

    def _purged(self, n: int) -> None:
        self._on_purged(n)
        self._purged_unlogged += n
        now = time.monotonic()
        if now - self._last_purge_log >= 60.0:
            log.warning("dead letters over their cap (%d letters, %d bytes): purged the %d "
                        "oldest", self.max_letters, self.max_bytes, self._purged_unlogged)
            self._last_purge_log = now
            self._purged_unlogged = 0

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM dead_letters").fetchone()[0])

    def reasons(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("SELECT reason, COUNT(*) FROM dead_letters GROUP BY reason "
                                    "ORDER BY COUNT(*) DESC").fetchall()
        return {str(r): int(n) for r, n in rows}

    def newest(self, limit: int | None = 50, topic_prefix: str | None = None) -> list[DeadLetter]:
        """Newest first."""
        sql = "SELECT id, received_at_ns, topic, payload, reason FROM dead_letters"
        params: list[object] = []
        if topic_prefix:
            # substr instead of LIKE: topics contain '%' and '_' more often than one thinks.
            sql += " WHERE substr(topic, 1, ?) = ?"
            params += [len(topic_prefix), topic_prefix]
        sql += " ORDER BY id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        return [DeadLetter(int(i), int(t), str(tp), bytes(p), str(r)) for i, t, tp, p, r in rows]

    def _oldest_from(self, after_id: int, limit: int) -> list[DeadLetter]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, received_at_ns, topic, payload, reason FROM dead_letters "
                "WHERE id > ? ORDER BY id LIMIT ?", (after_id, limit)).fetchall()
        return [DeadLetter(int(i), int(t), str(tp), bytes(p), str(r)) for i, t, tp, p, r in rows]

    def _iter_all(self, chunk: int) -> Iterator[list[DeadLetter]]:
        last = 0
        while True:
            letters = self._oldest_from(last, chunk)
            if not letters:
                return
            yield letters
            last = letters[-1].id

    def replay(self, decoder: ReadingDecoder, store: StoreWriter, *,
               chunk: int = 1_000) -> ReplayResult:
        """Re-decode every dead letter, write what decodes now, delete what was written.

        Raises StoreUnavailable (nothing of the current chunk deleted) if the store is down,
        DeadLetterError if the dead letters cannot be updated (rolled back).
        """
        result = ReplayResult()
        for letters in self._iter_all(chunk):
            decoded: list[tuple[DeadLetter, list[Reading]]] = []
            new_reasons: list[tuple[str, int]] = []
            for letter in letters:
                if is_truncated(letter.reason):  # only the head was kept: never replayable
                    new_reasons.append((letter.reason, letter.id))
                    continue
                try:
                    decoded.append((letter, decoder.decode(letter.topic, letter.payload,
                                                           letter.received_at_ns)))
                except Rejected as exc:
                    new_reasons.append((exc.reason, letter.id))
            readings: list[Reading] = []
            origins: list[int] = []
            for i, (_, decoded_readings) in enumerate(decoded):
                readings += decoded_readings
                origins += [i] * len(decoded_readings)
            refused = write_isolating(store, readings, origins).refused
            new_reasons += [(reason, decoded[i][0].id) for i, reason in refused.items()]
            done = [d for i, d in enumerate(decoded) if i not in refused]
            with self._lock:
                try:
                    self._db.execute("BEGIN IMMEDIATE")
                    self._db.executemany("UPDATE dead_letters SET reason = ? WHERE id = ?",
                                         new_reasons)
                    self._db.executemany("DELETE FROM dead_letters WHERE id = ?",
                                         [(letter.id,) for letter, _ in done])
                    self._db.execute("COMMIT")
                except sqlite3.Error as exc:
                    # Never leave the write lock held: the ingests share this file.
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                    raise DeadLetterError(f"cannot update dead letters in {self.path}: "
                                          f"{exc}") from None
            result.replayed += len(done)
            result.readings += sum(len(r) for _, r in done)
            result.still_rejected += len(new_reasons)
            for reason, _ in new_reasons:
                result.reasons[reason] = result.reasons.get(reason, 0) + 1
        return result

    def purge(self, before_ns: int) -> int:
        """Delete dead letters received before `before_ns`; return how many."""
        with self._lock:
            cur = self._db.execute("DELETE FROM dead_letters WHERE received_at_ns < ?",
                                   (before_ns,))
            return int(cur.rowcount)

    def close(self) -> None:
        with self._lock:
            self._db.close()
