"""Alert state: one SQLite file in the data dir that survives restarts and is shared safely.

Tables: `alerts` (one row per alert: rule, site, sensor, lifecycle, acknowledgement, what was
last notified), `silences` (sensor, site or rule, from–until), `outbox` (notifications to
send, one row per alert × transition × recipient), `screen_contacts` (each lobby screen's
last poll, written by the dashboard, read by the kiosk rule).

Several evaluators may share the file (replicas for availability). Two things keep them from
notifying twice:

- every evaluation round is one `BEGIN IMMEDIATE` transaction: SQLite lets one writer in at a
  time, so the second replica's round reads the first one's result and finds nothing to do;
- an outbox row's key is UNIQUE (alert, transition, recipient) and is inserted with
  `INSERT OR IGNORE`, and a sender *claims* a row (an UPDATE that succeeds for one replica
  only) before sending it. A claim expires, so a sender that died mid-send is taken over;
  that is the only case in which a message can go out twice (the server accepted it but the
  crash came before the row was marked sent) — at-least-once, never lost.

`synchronous=FULL`: a committed transition survives a power cut, so no restart forgets that a
message was already queued or sent. An SQLite file must sit on a local or properly locking
file system (not an NFS share without locks) for this to hold.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stadtpuls.sqlite_threads import ThreadConnections

_SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    rule        TEXT NOT NULL,
    site        TEXT NOT NULL,
    sensor      TEXT NOT NULL,
    severity    TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('pending', 'firing', 'resolved')),
    since_ns    INTEGER NOT NULL,
    fired_ns    INTEGER,
    resolved_ns INTEGER,
    value       REAL,
    detail      TEXT NOT NULL DEFAULT '',
    notified    TEXT NOT NULL DEFAULT 'none',
    notified_ns INTEGER,
    reminders   INTEGER NOT NULL DEFAULT 0,
    ack_by      TEXT,
    ack_ns      INTEGER,
    ack_comment TEXT
);
-- one open alert per rule and sensor, whatever the number of evaluators
CREATE UNIQUE INDEX IF NOT EXISTS alerts_open ON alerts (rule, site, sensor)
    WHERE state != 'resolved';
CREATE INDEX IF NOT EXISTS alerts_by_state ON alerts (state, notified);
CREATE TABLE IF NOT EXISTS silences (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    rule     TEXT,
    site     TEXT,
    sensor   TEXT,
    from_ns  INTEGER NOT NULL,
    until_ns INTEGER NOT NULL,
    by       TEXT NOT NULL,
    comment  TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id    INTEGER NOT NULL,
    transition  TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    channel     TEXT NOT NULL,
    address     TEXT NOT NULL,
    message     TEXT NOT NULL,
    created_ns  INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_try_ns INTEGER NOT NULL,
    claim_owner TEXT,
    claim_until INTEGER,
    sent_ns     INTEGER,
    last_error  TEXT,
    UNIQUE (alert_id, transition, recipient)
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (sent_ns, next_try_ns);
-- lobby screens' last poll, written by the dashboard that serves them (one row per screen)
CREATE TABLE IF NOT EXISTS screen_contacts (
    screen  TEXT PRIMARY KEY,
    last_ns INTEGER NOT NULL
);
"""


@dataclass
class AlertRow:
    id: int
    rule: str
    site: str
    sensor: str
    severity: str
    state: str
    since_ns: int
    fired_ns: int | None
    resolved_ns: int | None
    value: float | None
    detail: str
    notified: str
    notified_ns: int | None
    reminders: int
    ack_by: str | None
    ack_ns: int | None
    ack_comment: str | None

    @property
    def key(self) -> tuple[str, str, str]:
        return self.rule, self.site, self.sensor


@dataclass(frozen=True)
class Silence:
    id: int
    rule: str | None
    site: str | None
    sensor: str | None
    from_ns: int
    until_ns: int
    by: str
    comment: str

    def covers(self, row: AlertRow, now_ns: int) -> bool:
        return (self.from_ns <= now_ns < self.until_ns
                and self.rule in (None, row.rule) and self.site in (None, row.site)
                and self.sensor in (None, row.sensor))


@dataclass(frozen=True)
class OutboxRow:
    id: int
    alert_id: int
    transition: str
    recipient: str
    channel: str
    address: str
    message: dict[str, Any]
    created_ns: int
    attempts: int
    next_try_ns: int
    sent_ns: int | None
    last_error: str | None


_ALERT_COLS = ", ".join(AlertRow.__dataclass_fields__)
_OUTBOX_COLS = ("id, alert_id, transition, recipient, channel, address, message, created_ns, "
                "attempts, next_try_ns, sent_ns, last_error")


class AlertState:
    """The state file; thread-safe (one connection per thread)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._conns = ThreadConnections(self._open)
        self._conn().executescript(_SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        return self._conns.get()

    def _open(self) -> sqlite3.Connection:
        # autocommit mode: transactions are opened explicitly (BEGIN IMMEDIATE) below
        conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None,
                               check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One writer at a time across threads and processes (see the module docstring)."""
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    # -- alerts ---------------------------------------------------------------------------

    def active(self, conn: sqlite3.Connection | None = None) -> dict[tuple[str, str, str],
                                                                     AlertRow]:
        """Pending and firing alerts by (rule, site, sensor)."""
        rows = (conn or self._conn()).execute(
            f"SELECT {_ALERT_COLS} FROM alerts WHERE state != 'resolved'").fetchall()
        return {alert.key: alert for alert in (AlertRow(*row) for row in rows)}

    def resolved_waiting(self, conn: sqlite3.Connection) -> list[AlertRow]:
        rows = conn.execute(f"SELECT {_ALERT_COLS} FROM alerts WHERE state = 'resolved' "
                            "AND notified = 'firing'").fetchall()
        return [AlertRow(*row) for row in rows]

    def insert(self, conn: sqlite3.Connection, row: AlertRow) -> AlertRow:
        cur = conn.execute(
            "INSERT INTO alerts (rule, site, sensor, severity, state, since_ns, fired_ns, value, "
            "detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (row.rule, row.site, row.sensor, row.severity, row.state, row.since_ns,
             row.fired_ns, row.value, row.detail))
        assert cur.lastrowid is not None  # an INSERT always sets it
        row.id = cur.lastrowid
        return row

    def update(self, conn: sqlite3.Connection, row: AlertRow) -> None:
        fields = [f for f in AlertRow.__dataclass_fields__ if f != "id"]
        conn.execute(f"UPDATE alerts SET {', '.join(f'{f} = ?' for f in fields)} WHERE id = ?",
                     [*(getattr(row, f) for f in fields), row.id])

    def delete(self, conn: sqlite3.Connection, row: AlertRow) -> None:
        conn.execute("DELETE FROM alerts WHERE id = ?", (row.id,))

    def alerts(self, *, limit: int = 200) -> list[AlertRow]:
        rows = self._conn().execute(f"SELECT {_ALERT_COLS} FROM alerts ORDER BY id DESC "
                                    "LIMIT ?", (limit,)).fetchall()
        return [AlertRow(*row) for row in rows]

    def history(self, since_ns: int, *, limit: int = 200) -> list[AlertRow]:
        """Alerts resolved at or after `since_ns`, newest first."""
        rows = self._conn().execute(f"SELECT {_ALERT_COLS} FROM alerts WHERE state = "
                                    "'resolved' AND resolved_ns >= ? ORDER BY resolved_ns DESC "
                                    "LIMIT ?", (since_ns, limit)).fetchall()
        return [AlertRow(*row) for row in rows]

    def alert(self, alert_id: int) -> AlertRow | None:
        row = self._conn().execute(f"SELECT {_ALERT_COLS} FROM alerts WHERE id = ?",
                                   (alert_id,)).fetchone()
        return None if row is None else AlertRow(*row)

    def acknowledge(self, alert_id: int, by: str, comment: str, now_ns: int) -> bool:
        """Acknowledge an open alert (stops reminders); False if there is none by that id."""
        with self.transaction() as conn:
            cur = conn.execute("UPDATE alerts SET ack_by = ?, ack_ns = ?, ack_comment = ? "
                               "WHERE id = ? AND state != 'resolved'",
                               (by, now_ns, comment, alert_id))
            return cur.rowcount == 1

    # -- silences -------------------------------------------------------------------------

    def silence(self, *, rule: str | None, site: str | None, sensor: str | None, from_ns: int,
                until_ns: int, by: str, comment: str = "") -> int:
        if until_ns <= from_ns:
            raise ValueError("a silence must end after it starts")
        with self.transaction() as conn:
            cur = conn.execute("INSERT INTO silences (rule, site, sensor, from_ns, until_ns, by, "
                               "comment) VALUES (?, ?, ?, ?, ?, ?, ?)",
                               (rule, site, sensor, from_ns, until_ns, by, comment))
            assert cur.lastrowid is not None  # an INSERT always sets it
            return cur.lastrowid

    def end_silence(self, silence_id: int, now_ns: int) -> bool:
        """End a current or planned silence now; False if none by that id is left."""
        with self.transaction() as conn:
            cur = conn.execute("UPDATE silences SET until_ns = ? WHERE id = ? AND until_ns > ?",
                               (now_ns, silence_id, now_ns))
            return cur.rowcount == 1

    def silences(self, now_ns: int, conn: sqlite3.Connection | None = None) -> list[Silence]:
        """Silences that have not ended yet (current and planned)."""
        rows = (conn or self._conn()).execute(
            "SELECT id, rule, site, sensor, from_ns, until_ns, by, comment FROM silences "
            "WHERE until_ns > ?", (now_ns,)).fetchall()
        return [Silence(*row) for row in rows]

    # -- lobby screens --------------------------------------------------------------------

    def record_screen_contacts(self, contacts: dict[str, int]) -> None:
        """Each screen's newest poll (ns); an older time never replaces a newer one."""
        with self.transaction() as conn:
            conn.executemany(
                "INSERT INTO screen_contacts (screen, last_ns) VALUES (?, ?) ON CONFLICT "
                "(screen) DO UPDATE SET last_ns = max(last_ns, excluded.last_ns)",
                sorted(contacts.items()))

    def screen_contacts(self) -> dict[str, int]:
        rows = self._conn().execute("SELECT screen, last_ns FROM screen_contacts").fetchall()
        return {str(screen): int(last_ns) for screen, last_ns in rows}

    # -- outbox ---------------------------------------------------------------------------

    def enqueue(self, conn: sqlite3.Connection, alert_id: int, transition: str, recipient: str,
                channel: str, address: str, message: dict[str, Any], now_ns: int) -> bool:
        cur = conn.execute(
            "INSERT OR IGNORE INTO outbox (alert_id, transition, recipient, channel, address, "
            "message, created_ns, next_try_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (alert_id, transition, recipient, channel, address,
             json.dumps(message, ensure_ascii=False), now_ns, now_ns))
        return cur.rowcount == 1

    def due(self, now_ns: int, limit: int = 50) -> list[OutboxRow]:
        rows = self._conn().execute(
            f"SELECT {_OUTBOX_COLS} FROM outbox WHERE sent_ns IS NULL AND next_try_ns <= ? "
            "AND (claim_until IS NULL OR claim_until < ?) ORDER BY id LIMIT ?",
            (now_ns, now_ns, limit)).fetchall()
        return [_outbox(row) for row in rows]

    def claim(self, row_id: int, owner: str, now_ns: int, until_ns: int) -> bool:
        """Take a row for sending; exactly one sender (thread or replica) gets True."""
        cur = self._conn().execute(
            "UPDATE outbox SET claim_owner = ?, claim_until = ? WHERE id = ? AND sent_ns IS NULL "
            "AND (claim_until IS NULL OR claim_until < ?)", (owner, until_ns, row_id, now_ns))
        return cur.rowcount == 1

    # Both only by the claim's owner: a sender whose claim expired and was taken over must not
    # overwrite what the new owner records.
    def mark_sent(self, row_id: int, owner: str, now_ns: int) -> None:
        self._conn().execute("UPDATE outbox SET sent_ns = ?, attempts = attempts + 1, "
                             "claim_owner = NULL, claim_until = NULL, last_error = NULL "
                             "WHERE id = ? AND claim_owner = ?", (now_ns, row_id, owner))

    def mark_failed(self, row_id: int, owner: str, error: str, next_try_ns: int) -> None:
        self._conn().execute("UPDATE outbox SET attempts = attempts + 1, last_error = ?, "
                             "next_try_ns = ?, claim_owner = NULL, claim_until = NULL "
                             "WHERE id = ? AND claim_owner = ?",
                             (error[:500], next_try_ns, row_id, owner))

    def outbox(self, *, unsent_only: bool = False, limit: int = 200) -> list[OutboxRow]:
        where = "WHERE sent_ns IS NULL" if unsent_only else ""
        rows = self._conn().execute(f"SELECT {_OUTBOX_COLS} FROM outbox {where} "
                                    "ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [_outbox(row) for row in rows]

    def outbox_figures(self) -> tuple[int, int]:
        """(unsent notifications, of which failed at least once)."""
        unsent, failing = self._conn().execute(
            "SELECT COUNT(*), COALESCE(SUM(attempts > 0), 0) FROM outbox "
            "WHERE sent_ns IS NULL").fetchone()
        return int(unsent), int(failing)

    def close(self) -> None:
        self._conns.close()


def _outbox(row: tuple[Any, ...]) -> OutboxRow:
    values = list(row)
    values[6] = json.loads(values[6])
    return OutboxRow(*values)
