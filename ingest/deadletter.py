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

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
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
"""


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
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
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
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise DeadLetterError(f"cannot write dead letters to {self.path}: {exc}; "
                                      "check free disk space") from None

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

        Raises StoreUnavailable (nothing of the current chunk deleted) if the store is down.
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
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany("UPDATE dead_letters SET reason = ? WHERE id = ?",
                                     new_reasons)
                self._db.executemany("DELETE FROM dead_letters WHERE id = ?",
                                     [(letter.id,) for letter, _ in done])
                self._db.execute("COMMIT")
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
