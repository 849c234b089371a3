"""Alert lifecycle over a real SQLite store, time driven explicitly (`Evaluator.round(now)`).

Notifications are checked in the outbox here (what would be sent, exactly once); the real
SMTP and webhook delivery is in tests/test_alert_notifications.py.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from alert_helpers import CO2, MIDNIGHT, NOON, PV, SITE, catalogue, feed, healthy, rounds

from alerts.evaluate import Evaluator
from alerts.state import AlertState
from stadtpuls.reading import SeriesKey
from stadtpuls.state.tracker import StateTracker
from stadtpuls.state.windows import catalogue_windows
from stadtpuls.store.sqlite import SQLiteStore
from stadtpuls.timebase import NS_PER_S, to_ns
from stadtpuls.units import Quantity

RECIPIENT = {"id": "ops", "email": "ops@example.org", "language": "en"}


def _setup(tmp_path: Path, alerts: dict[str, object]) -> tuple[SQLiteStore, Evaluator]:
    store = SQLiteStore(tmp_path / "store.db")
    state = AlertState(tmp_path / "alerts.db")
    alerts = {"recipients": [RECIPIENT], **alerts}
    return store, Evaluator(store, catalogue(alerts), state, dashboard_url="http://dash")


def _outbox(evaluator: Evaluator) -> list[tuple[str, str, str]]:
    return sorted((r.message["alert"]["rule"], r.message["alert"]["sensor"], r.transition)
                  for r in evaluator.state.outbox())


def test_silent_sensor_fires_once_within_two_intervals_plus_wait_and_resolves(
        tmp_path: Path) -> None:
    store, ev = _setup(tmp_path, {"defaults": {"no_data": {"for": "5m"}}})
    stop = NOON  # the CO2 sensor falls silent here, for 20 minutes
    feed(store, CO2, NOON - timedelta(hours=25), stop, healthy)
    feed(store, PV, NOON - timedelta(hours=25), NOON + timedelta(hours=1), lambda i: 9e3 + i % 5)
    fired_at = None
    for now in rounds(NOON, NOON + timedelta(minutes=20)):
        result = ev.round(now)
        if any(s == "firing" for s, _ in result.transitions):
            assert fired_at is None
            fired_at = now
    assert fired_at is not None
    last_reading = to_ns(stop) - 60 * NS_PER_S
    assert fired_at - last_reading <= (2 * 60 + 300) * NS_PER_S
    assert _outbox(ev) == [("no_data", CO2, "firing")]
    feed(store, CO2, NOON + timedelta(minutes=20), NOON + timedelta(minutes=30),
         lambda i: healthy(i + 1200))
    for now in rounds(NOON + timedelta(minutes=21), NOON + timedelta(minutes=30)):
        ev.round(now)
    assert _outbox(ev) == [("no_data", CO2, "firing"), ("no_data", CO2, "resolved")]
    message = ev.state.outbox()[0].message
    assert "http://dash/sensors/rathaus~saal_co2" in message["text"]
    assert "saal_co2 (en)" in message["subject"]


def test_an_evaluator_started_next_to_a_sensor_silent_for_long_fires_at_once(
        tmp_path: Path) -> None:
    # The wait time counts from when the sensor fell silent, not from the evaluator's start
    # (a restart of `alerts run` used to give every silent sensor its wait time again).
    store, ev = _setup(tmp_path, {"defaults": {"no_data": {"for": "30m"}}})
    feed(store, CO2, NOON - timedelta(hours=3), NOON - timedelta(minutes=40), healthy)
    feed(store, PV, NOON - timedelta(hours=3), NOON + timedelta(minutes=1), lambda i: 9e3 + i)
    ev.round(to_ns(NOON))
    (row,) = [r for r in ev.state.active().values() if r.rule == "no_data"]
    assert (row.sensor, row.state) == (CO2, "firing")
    last = to_ns(NOON - timedelta(minutes=40)) - 60 * NS_PER_S
    assert row.since_ns == last + int((1.6 * 60 + 5) * NS_PER_S)  # silent from here


def test_a_sensor_silent_beyond_the_look_back_is_known_from_the_snapshot(
        tmp_path: Path) -> None:
    store, ev = _setup(tmp_path, {"defaults": {"no_data": {"for": "30m"}}})
    feed(store, CO2, NOON - timedelta(hours=5), NOON - timedelta(hours=3), healthy)
    _snapshot(store, ev, to_ns(NOON) - 30 * NS_PER_S)
    ev.round(to_ns(NOON))
    (row,) = [r for r in ev.state.active().values()
              if r.rule == "no_data" and r.sensor == CO2]
    assert row.state == "firing" and row.value == healthy(119)  # its last value, 3 h old
    last = to_ns(NOON - timedelta(hours=3)) - 60 * NS_PER_S
    assert row.since_ns == last + int((1.6 * 60 + 5) * NS_PER_S)


def _snapshot(store: SQLiteStore, ev: Evaluator, at_ns: int) -> None:
    """The sensor-state snapshot an ingest that stored the CO2 readings would write at
    `at_ns` (stadtpuls.state)."""
    tracker = StateTracker(catalogue_windows(ev.catalogue))
    tracker.add(store.readings(SeriesKey(SITE, CO2, Quantity.CO2), 0, at_ns, limit=100_000))
    store.write_states(tracker.rows("ingest", at_ns))


def _completeness(ev: Evaluator) -> list[str]:
    return [r.state for r in ev.state.active().values() if r.rule == "completeness"]


@pytest.mark.parametrize("snapshot", [True, False])
def test_readings_that_arrive_late_count_towards_completeness_within_minutes(
        tmp_path: Path, snapshot: bool) -> None:
    # A back-fill or a drained spool: the day's readings land after the first round saw none.
    store, ev = _setup(tmp_path, {"defaults": {"no_data": {"enabled": False},
                                               "completeness": {"severity": "warning"}}})
    feed(store, PV, NOON - timedelta(hours=25), NOON + timedelta(hours=1), lambda i: 9e3 + i % 5)
    feed(store, CO2, NOON - timedelta(minutes=1), NOON, healthy)
    ev.round(to_ns(NOON))
    assert _completeness(ev) == ["firing"]  # the CO2 sensor: one reading in 24 h
    feed(store, CO2, NOON - timedelta(hours=25), NOON + timedelta(minutes=12), healthy)
    if snapshot:  # what the ingest writes every minute (stadtpuls.state)
        _snapshot(store, ev, to_ns(NOON) + 30 * NS_PER_S)
        ev.round(to_ns(NOON + timedelta(minutes=1)))
        assert _completeness(ev) == []  # at once: the snapshot counts
    else:  # no snapshot: the store's counts, asked again within 10 minutes
        for now in rounds(NOON + timedelta(minutes=1), NOON + timedelta(minutes=11)):
            ev.round(now)
        assert _completeness(ev) == []
    assert ("completeness", CO2, "resolved") in _outbox(ev)


def test_flapping_around_a_threshold_with_hysteresis_is_one_alert(tmp_path: Path) -> None:
    store, ev = _setup(tmp_path, {"quantities": {"co2": {"threshold": [
        {"above": 1000, "clear": 900, "for": "2m"}]}}})
    feed(store, PV, NOON - timedelta(hours=25), NOON + timedelta(hours=2), lambda i: 9e3 + i % 5)
    feed(store, CO2, NOON - timedelta(hours=25), NOON, healthy)
    # 990, 1010, 990, 1010 … for an hour: without a clear level this would fire and resolve
    # every other minute
    feed(store, CO2, NOON, NOON + timedelta(hours=1), lambda i: 1010.0 if i % 2 else 990.0)
    feed(store, CO2, NOON + timedelta(hours=1), NOON + timedelta(hours=2), healthy)
    fired = resolved = 0
    for now in rounds(NOON, NOON + timedelta(hours=2), step_s=60):
        for state, _ in ev.round(now).transitions:
            fired += state == "firing"
            resolved += state == "resolved"
    assert (fired, resolved) == (1, 1)
    assert _outbox(ev) == [("threshold:above_1000", CO2, "firing"),
                           ("threshold:above_1000", CO2, "resolved")]


def test_a_short_excursion_within_the_wait_time_stays_pending_and_quiet(tmp_path: Path) -> None:
    store, ev = _setup(tmp_path, {"quantities": {"co2": {"threshold": [
        {"above": 1000, "for": "10m"}]}}})
    feed(store, PV, NOON - timedelta(hours=25), NOON + timedelta(hours=1), lambda i: 9e3 + i % 5)
    feed(store, CO2, NOON - timedelta(hours=25), NOON, healthy)
    feed(store, CO2, NOON, NOON + timedelta(minutes=5), lambda i: 1500.0 + i)
    feed(store, CO2, NOON + timedelta(minutes=5), NOON + timedelta(hours=1), healthy)
    states = [s for now in rounds(NOON, NOON + timedelta(minutes=30), step_s=60)
              for s, _ in ev.round(now).transitions]
    assert states == ["pending", "cancelled"]
    assert _outbox(ev) == []


@pytest.mark.parametrize(("at", "stuck"), [(NOON, True), (MIDNIGHT, False)])
def test_stuck_is_found_and_pv_at_night_is_not(tmp_path: Path, at: object, stuck: bool) -> None:
    assert at in (NOON, MIDNIGHT)
    start = NOON if at is NOON else MIDNIGHT
    store, ev = _setup(tmp_path, {})
    feed(store, CO2, start - timedelta(hours=25), start + timedelta(hours=1), healthy)
    # flat: 7 kW at noon is a stuck inverter reading; 0 W at 01:00 is night
    flat = 7_000.0 if stuck else 0.0
    feed(store, PV, start - timedelta(hours=25), start - timedelta(hours=3), lambda i: 5e3 + i % 9
         if stuck else float(i % 9))
    feed(store, PV, start - timedelta(hours=3), start + timedelta(hours=1), lambda i: flat)
    for now in rounds(start, start + timedelta(minutes=5), step_s=60):
        ev.round(now)
    expected = [("stuck", PV, "firing")] if stuck else []
    assert _outbox(ev) == expected


def test_a_silence_suppresses_and_its_end_resumes(tmp_path: Path) -> None:
    store, ev = _setup(tmp_path, {})
    feed(store, PV, NOON - timedelta(hours=25), NOON + timedelta(hours=3), lambda i: 9e3 + i % 5)
    feed(store, CO2, NOON - timedelta(hours=25), NOON, healthy)
    ev.state.silence(rule=None, site=SITE, sensor=CO2, from_ns=to_ns(NOON),
                     until_ns=to_ns(NOON + timedelta(hours=1)), by="technician",
                     comment="replacing the sensor")
    for now in rounds(NOON, NOON + timedelta(minutes=59), step_s=60):
        ev.round(now)
    assert _outbox(ev) == []  # silent for an hour, and nobody is told
    assert [r.state for r in ev.state.alerts()] == ["firing"]
    ev.round(to_ns(NOON + timedelta(hours=1)))
    assert _outbox(ev) == [("no_data", CO2, "firing")]


def test_an_acknowledgement_stops_reminders(tmp_path: Path) -> None:
    store, ev = _setup(tmp_path, {"reminder": "1h"})
    feed(store, PV, NOON - timedelta(hours=25), NOON + timedelta(hours=6), lambda i: 9e3 + i % 5)
    feed(store, CO2, NOON - timedelta(hours=25), NOON, healthy)
    for now in rounds(NOON, NOON + timedelta(hours=2, minutes=30), step_s=300):
        ev.round(now)
    assert _outbox(ev) == [("no_data", CO2, "firing"), ("no_data", CO2, "reminder:1"),
                           ("no_data", CO2, "reminder:2")]
    alert = ev.state.alerts()[0]
    assert ev.state.acknowledge(alert.id, "maria", "on my way", to_ns(NOON))
    for now in rounds(NOON + timedelta(hours=2, minutes=30), NOON + timedelta(hours=6),
                      step_s=300):
        ev.round(now)
    assert len(_outbox(ev)) == 3
    acked = ev.state.alerts()[0]
    assert (acked.ack_by, acked.ack_comment) == ("maria", "on my way")


def test_restart_and_replicas_send_nothing_twice(tmp_path: Path) -> None:
    store, ev = _setup(tmp_path, {})
    feed(store, PV, NOON - timedelta(hours=25), NOON + timedelta(hours=1), lambda i: 9e3 + i % 5)
    feed(store, CO2, NOON - timedelta(hours=25), NOON, healthy)
    ev.round(to_ns(NOON + timedelta(minutes=5)))
    assert _outbox(ev) == [("no_data", CO2, "firing")]
    ev.state.close()
    # a restarted evaluator and a second replica on the same state file, racing
    cat = ev.catalogue
    replicas = [Evaluator(store, cat, AlertState(tmp_path / "alerts.db")) for _ in range(2)]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(replica: Evaluator) -> None:
        try:
            barrier.wait()
            for now in rounds(NOON + timedelta(minutes=5), NOON + timedelta(minutes=15)):
                replica.round(now)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(r,)) for r in replicas]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    assert _outbox(replicas[0]) == [("no_data", CO2, "firing")]
    assert len(replicas[0].state.alerts()) == 1


def test_pipeline_rules_store_unreachable_ingest_quiet_spool_growing(tmp_path: Path) -> None:
    from stadtpuls.pipeline import PIPELINE_SITE, PipelineFigure, pipeline_sensor
    from stadtpuls.reading import Reading
    from stadtpuls.store.influx import InfluxStore
    from stadtpuls.units import Quantity
    from testkit.process import free_port

    store, ev = _setup(tmp_path, {"pipeline": {"store_unreachable": {"for": "2m"},
                                               "spool_growing": {"for": "10m"},
                                               "ingest_not_reporting": {"for": "5m"}}})
    feed(store, PV, NOON - timedelta(hours=25), NOON + timedelta(hours=2), lambda i: 9e3 + i % 5)
    feed(store, CO2, NOON - timedelta(hours=25), NOON + timedelta(hours=2), healthy)
    # ingest-a reports until 12:30 with a spool that grows from 12:10; ingest-b keeps reporting
    figures = []
    for minute in range(0, 90):
        t = to_ns(NOON + timedelta(minutes=minute))
        for client in ("ingest-a", "ingest-b"):
            if client == "ingest-a" and minute >= 30:
                continue
            depth = float(max(0, minute - 10) * 100) if client == "ingest-a" else 0.0
            figures.append(Reading(PIPELINE_SITE, pipeline_sensor(client,
                                   PipelineFigure.SPOOL_DEPTH), Quantity.COUNT, t, depth))
    store.write(figures)
    fired: list[tuple[str, str]] = []
    for now in rounds(NOON + timedelta(minutes=1), NOON + timedelta(minutes=60), step_s=60):
        fired += [(r.rule, r.sensor) for s, r in ev.round(now).transitions if s == "firing"]
    assert fired == [("spool_growing", "ingest-a"), ("ingest_not_reporting", "ingest-a")]

    # the same evaluator state, now with a store that does not answer (nothing listens)
    down = Evaluator(InfluxStore(f"http://127.0.0.1:{free_port()}", "x"), ev.catalogue,
                     ev.state)
    states = [(s, r.rule) for now in rounds(NOON + timedelta(minutes=60),
                                            NOON + timedelta(minutes=64), step_s=60)
              for s, r in down.round(now).transitions]
    assert states == [("pending", "store_unreachable"), ("firing", "store_unreachable")]
    # while the store is down, the other alerts keep their state (nothing resolves blindly);
    # the spool alert resolved when ingest-a went quiet: its depth is no longer known to grow
    assert {r.rule for r in ev.state.alerts() if r.state == "firing"} == {
        "ingest_not_reporting", "store_unreachable"}
    assert [r.state for r in ev.state.alerts() if r.rule == "spool_growing"] == ["resolved"]


def test_ack_and_silence_from_the_command_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    store, ev = _setup(tmp_path, {})
    feed(store, PV, NOON - timedelta(hours=25), NOON + timedelta(hours=1), lambda i: 9e3 + i % 5)
    feed(store, CO2, NOON - timedelta(hours=25), NOON, healthy)
    ev.round(to_ns(NOON + timedelta(minutes=5)))
    alert = ev.state.alerts()[0]

    def cli(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "stadtpuls.cli", "alerts", *argv,
                               "--data-dir", str(tmp_path)], capture_output=True, text=True,
                              timeout=60, check=False)

    assert cli("ack", str(alert.id), "--by", "maria", "--comment", "on it").returncode == 0
    assert "ack maria" in cli("list").stdout
    assert cli("ack", "999", "--by", "x").returncode == 2
    done = cli("silence", "--site", SITE, "--from", "2025-06-11T12:00:00+02:00",
               "--until", "2025-06-11T15:00:00+02:00", "--by", "tom")
    assert done.returncode == 0, done.stderr
    [silence] = ev.state.silences(to_ns(NOON))
    assert (silence.site, silence.sensor, silence.by) == (SITE, None, "tom")
    assert (silence.from_ns, silence.until_ns) == (to_ns(NOON), to_ns(NOON + timedelta(hours=3)))
    assert cli("silence", "--sensor", CO2, "--until", "2025-06-11T15:00:00+02:00",
               "--by", "tom").returncode == 2
