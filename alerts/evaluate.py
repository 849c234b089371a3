"""The evaluator: one round = read health from the store, move alerts along their lifecycle,
queue notifications. Time is a parameter (`round(now_ns)`), so tests and the preview drive it.

Lifecycle of one alert (one per rule and sensor):

    (none) --FIRE--> pending --held for the rule's `for`--> firing --CLEAR--> resolved
                        \\--CLEAR--> (none: a pending alert that clears was never an alert)

Notifications, per alert, decided from what was last told (`notified`), so every decision is
idempotent and survives restarts: firing and not yet told → "firing"; firing, told, not
acknowledged and `reminder` elapsed → "reminder:N"; resolved after "firing" was told →
"resolved". While a silence covers the alert nothing is queued and `notified` stays as it
was, so when the silence ends a still-firing alert is told then, and one that resolved in
the silence (never told) stays quiet.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from alerts.conditions import (
    Condition,
    Trigger,
    pipeline_conditions,
    screen_conditions,
    sensor_conditions,
    store_condition,
)
from alerts.messages import render
from alerts.state import AlertRow, AlertState, Silence
from stadtpuls.catalogue import Catalogue
from stadtpuls.health_inputs import gather
from stadtpuls.pipeline import PIPELINE_SITE, PipelineFigure, split_pipeline_sensor
from stadtpuls.reading import SeriesKey
from stadtpuls.state.current import current_state
from stadtpuls.store.errors import StoreUnavailable
from stadtpuls.store.protocol import Aggregate, StoreReader, WindowSeries
from stadtpuls.timebase import NS_PER_S

log = logging.getLogger(__name__)

LOOKBACK_MIN_S = 3_600.0
"""The newest reading is looked for this far back, or three of the slowest sensor's
intervals if that is longer; older counts as never seen (no data either way). Short, because
this is the query every round pays for."""
COUNTS_BUCKET_NS = 10 * 60 * NS_PER_S
"""Completeness counts asked of the store (24 h windows, the costliest query; only for
sensors no current snapshot covers) are refreshed every 10 minutes, not every round: the
window's end moving by that changes a day's share by 0.7 % at most, and readings that arrive
late (a spool drained, a back-fill) count within 10 minutes."""


class _RoundReader:
    """The evaluator's view of the store for `gather`: completeness counts cached per bucket."""

    def __init__(self, reader: StoreReader) -> None:
        self.reader = reader
        self._counts: dict[tuple[int, int, str | None], dict[SeriesKey, int]] = {}

    def aggregate(self, series: Iterable[SeriesKey], start_ns: int, end_ns: int,
                  window_ns: int, aggregates: Sequence[Aggregate], *,
                  offset_ns: int = 0) -> dict[SeriesKey, WindowSeries]:
        return self.reader.aggregate(series, start_ns, end_ns, window_ns, aggregates,
                                     offset_ns=offset_ns)

    def counts(self, start_ns: int, end_ns: int,
               site: str | None = None) -> dict[SeriesKey, int]:
        length, end = end_ns - start_ns, end_ns - end_ns % COUNTS_BUCKET_NS
        key = (length, end, site)
        found = self._counts.get(key)
        if found is None:
            found = self.reader.counts(end - length, end, site)
            # Keep this bucket's answers (one per window length and site), drop older ones.
            self._counts = {k: v for k, v in self._counts.items() if k[1] == end}
            self._counts[key] = found
        return found


@dataclass
class RoundResult:
    transitions: list[tuple[str, AlertRow]] = field(default_factory=list)
    """(new state, alert) for every change this round."""
    queued: int = 0
    store_ok: bool = True


class Evaluator:
    def __init__(self, reader: StoreReader, catalogue: Catalogue, state: AlertState, *,
                 dashboard_url: str | None = None, use_snapshots: bool = True) -> None:
        """`use_snapshots=False` (the preview, which evaluates the past): completeness and
        stuck windows from the store only, never from the ingest's current state."""
        self.reader = reader
        self.use_snapshots = use_snapshots
        self.catalogue = catalogue
        self.state = state
        self.dashboard_url = dashboard_url
        self._reader = _RoundReader(reader)
        slowest = max((s.interval_s for _, s in catalogue.sensors()), default=60.0)
        self.lookback_ns = int(max(LOOKBACK_MIN_S, 3 * slowest) * NS_PER_S)

    def conditions(self, now_ns: int) -> tuple[list[Condition], bool]:
        """Every rule's condition at `now_ns`, and whether the store answered."""
        rules = self.catalogue.alerts
        end = now_ns + 1  # a reading stamped exactly `now` counts
        try:
            latest = self.reader.latest(None, now_ns - self.lookback_ns, end)
            # The ingest's snapshots answer the 24-hour counts and stuck windows of every
            # sensor they cover, as they do for the dashboard; the store only for the rest.
            state = current_state(self.reader, now_ns) if self.use_snapshots else {}
            # They also know each series' newest reading however old: a sensor silent for
            # longer than the look-back keeps its last value and when its silence began.
            older = {key: s.newest for key, s in state.items()
                     if key not in latest and s.newest is not None and s.newest.time_ns < end}
            healths = gather(self._reader, self.catalogue, {**older, **latest},
                             now_ns=now_ns, window_end_ns=end, limits_for=rules.limits_for,
                             state=state)
            spool_then = self._spool_depths(now_ns - int(rules.pipeline.spool_growing.for_s
                                                         * NS_PER_S))
        except StoreUnavailable as exc:
            log.warning("store unavailable for alert evaluation: %s", exc)
            store = store_condition(rules.pipeline, reachable=False)
            return ([store] if store else []), False
        out: list[Condition] = []
        for h in healths:
            out.extend(sensor_conditions(h, rules.rules_for(h.site, h.sensor.id,
                                                            h.sensor.quantity)))
        out.extend(pipeline_conditions(rules.pipeline, latest, spool_then, now_ns))
        out.extend(screen_conditions(rules.pipeline, self.catalogue.displays,
                                     self.state.screen_contacts(), now_ns))
        store = store_condition(rules.pipeline, reachable=True)
        out += [store] if store else []
        return out, True

    def _spool_depths(self, at_ns: int) -> dict[str, float]:
        then = self.reader.latest(PIPELINE_SITE, at_ns - self.lookback_ns, at_ns)
        out: dict[str, float] = {}
        for key, reading in then.items():
            parts = split_pipeline_sensor(key.sensor)
            if parts and parts[1] == PipelineFigure.SPOOL_DEPTH:
                out[parts[0]] = reading.value
        return out

    def round(self, now_ns: int) -> RoundResult:
        conditions, store_ok = self.conditions(now_ns)
        result = RoundResult(store_ok=store_ok)
        with self.state.transaction() as conn:
            active = self.state.active(conn)
            silences = self.state.silences(now_ns, conn)
            seen: set[tuple[str, str, str]] = set()
            touched: list[AlertRow] = []
            for cond in conditions:
                key = (cond.rule, cond.site, cond.sensor)
                seen.add(key)
                row = self._step(conn, active.get(key), cond, now_ns, result)
                if row is not None:
                    touched.append(row)
            if store_ok:  # a rule or sensor that is gone resolves its alerts
                for key, row in active.items():
                    if key not in seen:
                        gone = Condition(row.rule, row.site, row.sensor, Trigger.CLEAR,
                                         row.severity, 0.0, row.value)
                        moved = self._step(conn, row, gone, now_ns, result)
                        if moved is not None:
                            touched.append(moved)
            firing = {r.id: r for r in self.state.active(conn).values()}
            for row in [*touched, *self.state.resolved_waiting(conn)]:
                firing.setdefault(row.id, row)
            for row in firing.values():
                result.queued += self._notify(conn, row, silences, now_ns)
        return result

    def _step(self, conn: sqlite3.Connection, row: AlertRow | None, cond: Condition,
              now_ns: int, result: RoundResult) -> AlertRow | None:
        if row is None:
            if cond.trigger is not Trigger.FIRE:
                return None
            since = now_ns if cond.since_ns is None else min(now_ns, cond.since_ns)
            row = AlertRow(0, cond.rule, cond.site, cond.sensor, cond.severity, "pending",
                           since, None, None, cond.value, cond.detail, "none", None, 0,
                           None, None, None)
            self.state.insert(conn, row)
            result.transitions.append(("pending", row))
        elif cond.trigger is Trigger.CLEAR:
            if row.state == "pending":
                self.state.delete(conn, row)
                result.transitions.append(("cancelled", row))
                return None
            row.state, row.resolved_ns = "resolved", now_ns
            row.value = cond.value if cond.value is not None else row.value
            self.state.update(conn, row)
            result.transitions.append(("resolved", row))
            return row
        else:
            row.value = cond.value if cond.value is not None else row.value
        if row.state == "pending" and now_ns - row.since_ns >= cond.for_s * NS_PER_S:
            row.state, row.fired_ns, row.severity = "firing", now_ns, cond.severity
            result.transitions.append(("firing", row))
        self.state.update(conn, row)
        return row

    def _notify(self, conn: sqlite3.Connection, row: AlertRow, silences: list[Silence],
                now_ns: int) -> int:
        if any(s.covers(row, now_ns) for s in silences):
            return 0
        reminder_ns = int(self.catalogue.alerts.reminder_every * NS_PER_S)
        if row.state == "firing" and row.notified != "firing":
            transition = "firing"
            row.notified = "firing"
        elif (row.state == "firing" and row.ack_by is None and reminder_ns > 0
              and row.notified_ns is not None and now_ns - row.notified_ns >= reminder_ns):
            row.reminders += 1
            transition = f"reminder:{row.reminders}"
        elif row.state == "resolved" and row.notified == "firing":
            transition = "resolved"
            row.notified = "resolved"
        else:
            return 0
        row.notified_ns = now_ns
        self.state.update(conn, row)
        queued = 0
        for recipient in self.catalogue.alerts.recipients:
            if not recipient.wants(row.site, row.severity):
                continue
            message = render(row, transition, recipient.language, self.catalogue,
                             self.dashboard_url)
            channel, address = (("email", recipient.email) if recipient.email
                                else ("webhook", "webhook"))
            queued += self.state.enqueue(conn, row.id, transition, recipient.id, channel,
                                         address, message, now_ns)
        return queued
