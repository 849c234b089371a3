"""The sensor state readers use now: every client's newest snapshot, merged, if current.

One home for the dashboard and the alert evaluator, so both judge a sensor by the same
figures (the evaluator once asked the store for 24-hour counts and kept them an hour: after
a back-fill or a spool drain it reported complete sensors as incomplete for that hour).
"""

from __future__ import annotations

from stadtpuls.reading import SeriesKey
from stadtpuls.state.rows import SeriesState, merge
from stadtpuls.store.protocol import SensorStateStore
from stadtpuls.timebase import NS_PER_S

STATE_MAX_AGE_S = 1_200
"""Snapshots older than this (two buckets) are not used: the ingest has stopped writing."""
STATE_SKEW_S = 60
"""A snapshot stamped up to this far after `now` still counts (the ingest's clock may run a
little ahead); one stamped later belongs to another time (an evaluation of the past)."""


def current_state(store: object, now_ns: int) -> dict[SeriesKey, SeriesState]:
    """Merged snapshots written in the `STATE_MAX_AGE_S` before `now_ns`; empty when the
    store keeps none (readers then ask the store itself). Raises what the store raises."""
    if not isinstance(store, SensorStateStore):
        return {}
    latest = now_ns + STATE_SKEW_S * NS_PER_S
    return merge(r for r in store.read_states(now_ns - STATE_MAX_AGE_S * NS_PER_S)
                 if r.at_ns <= latest)
