"""`stadtpuls demo`: the whole product on one machine with nothing installed but Python.

Embedded MQTT broker (amqtt) and SQLite store, a week of simulated history for both sites of
the catalogue, the simulators continuing live through the broker, the real ingest, dashboard
and alert evaluator as child processes; the alerts' mail and webhooks go to a local outbox
(`demo.outbox`). Data stays in `--data-dir` between runs.
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import json
import logging
import signal
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from demo.ports import free_port, port_free
from stadtpuls.settings import add_catalogue_argument, catalogue_path

if TYPE_CHECKING:
    from stadtpuls.catalogue import Catalogue

log = logging.getLogger("stadtpuls.demo")

# A few faults so the sensor-health views have something to show: one street sensor went
# silent an hour ago, one room sensor is stuck since yesterday, the roof thermometer spikes
# now and then, and one message in a thousand arrives broken (see the dead letters).
DEFAULT_FAULTS = ("silent:noise_bertoldsbrunnen@-1h,stuck:room_sitzungssaal_co2@-20h,"
                  "spikes:weather_air_temperature~0.002,malformed:0.001")


def configure_parser(parser: argparse.ArgumentParser) -> None:
    add_catalogue_argument(parser)
    parser.add_argument("--host", default="127.0.0.1",
                        help="dashboard address (default 127.0.0.1; 0.0.0.0 for the LAN)")
    parser.add_argument("--port", type=int, default=8050, help="dashboard port (default 8050)")
    parser.add_argument("--data-dir", default="data/demo",
                        help="SQLite store, spool and dead letters (default data/demo)")
    parser.add_argument("--mqtt-url", help="use this broker instead of the embedded one")
    parser.add_argument("--backfill", default="7d",
                        help="simulated history written at start (default 7d)")
    parser.add_argument("--seed", type=int, default=0, help="simulation seed (default 0)")
    parser.add_argument("--faults", default=DEFAULT_FAULTS,
                        help="simulator faults, times relative to now as -1h "
                             "(default: a silent, a stuck and a spiking sensor; 'none' for "
                             "none; syntax: stadtpuls simulate --help)")


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s demo: %(message)s",
                        datefmt="%H:%M:%S")
    from simulators.timespec import parse_duration
    from stadtpuls.catalogue import CatalogueError, load_catalogue

    catalogue_file = catalogue_path(args)
    try:
        catalogue = load_catalogue(catalogue_file)
    except CatalogueError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    try:
        backfill = parse_duration(args.backfill)
    except ValueError as exc:
        print(f"stadtpuls demo: --backfill: {exc}", file=sys.stderr)
        return 2
    if not port_free(args.host, args.port):
        print(f"stadtpuls demo: port {args.port} on {args.host} is in use (another demo?); "
              "stop that or pass --port", file=sys.stderr)
        return 2

    data = Path(args.data_dir)
    data.mkdir(parents=True, exist_ok=True)
    db = data / "stadtpuls.db"
    stop = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)

    from demo.broker import EmbeddedBroker
    from demo.outbox import DemoOutbox
    from demo.supervisor import Child, Supervisor

    broker = None
    mqtt_url = args.mqtt_url
    if mqtt_url is None:
        broker = EmbeddedBroker()
        broker.start()
        mqtt_url = broker.url
        log.info("embedded MQTT broker on %s", mqtt_url)

    outbox = DemoOutbox(data / "outbox")
    outbox.start()
    log.info("alert notifications (mail and webhook) are kept in %s", outbox.directory)

    supervisor = Supervisor()
    health_port = free_port()
    common = ["--catalogue", str(catalogue_file), "--store", f"sqlite:{db}"]
    supervisor.add(Child("ingest", [
        "ingest", *common, "--mqtt-url", mqtt_url, "--mqtt-version", "3.1.1",
        "--mqtt-username", "stadtpuls-demo", "--client-id", "stadtpuls-demo-ingest",
        "--data-dir", str(data), "--http-port", str(health_port), "--log-level", "WARNING",
    ]))
    simulator: threading.Thread | None = None
    try:
        if not _wait_healthy(health_port, stop, timeout_s=60):
            log.error("the ingest did not become healthy; see its messages above")
            return 1
        log.info("writing %s of simulated history to %s …", args.backfill, db)
        history_done = threading.Event()
        simulator = threading.Thread(
            target=_simulate, name="simulator", daemon=True,
            args=(catalogue, args, mqtt_url, backfill, data, db, stop, history_done),
        )
        simulator.start()
        supervisor.add(Child("dashboard", ["dashboard", *common, "--host", args.host,
                                           "--port", str(args.port), "--data-dir",
                                           str(data)]))
        dashboard_url = f"http://{_shown_host(args.host)}:{args.port}"
        alerts = Child("alerts", [
            "alerts", "run", *common, "--data-dir", str(data), "--interval", "15",
            "--dashboard-url", dashboard_url, "--http-port", "0",
            "--smtp-host", "127.0.0.1", "--smtp-port", str(outbox.smtp_port),
            "--smtp-security", "none", "--smtp-from", "stadtpuls-demo@localhost",
            "--webhook-url", outbox.webhook_url,
            "--webhook-secret-file", str(outbox.secret_file),
        ])
        log.info("dashboard on %s  (Ctrl-C stops the demo)", dashboard_url)
        while not stop.wait(1.0):
            # Alerts judge the history: during the back-fill every sensor would read
            # "incomplete" (and the alerts page keep those episodes for a week).
            if history_done.is_set() and alerts not in supervisor.children:
                supervisor.add(alerts)
            supervisor.check()
            if not simulator.is_alive():
                log.error("the simulator stopped; stopping the demo")
                return 1
        return 0
    finally:
        stop.set()
        log.info("stopping …")
        if simulator is not None:
            simulator.join(15)
        supervisor.stop()
        outbox.stop()
        if broker is not None:
            broker.stop()


_BACKFILL_CLIENT = "stadtpuls-demo-backfill"

def _simulate(catalogue: Catalogue, args: argparse.Namespace, mqtt_url: str, backfill: timedelta,
              data: Path, db: Path, stop: threading.Event, history_done: threading.Event
              ) -> None:
    from demo.backfill import BackfillSink
    from ingest.decoding import MessageDecoder
    from ingest.rollups import catalogue_intervals
    from ingest.state_keeper import StateKeeper, state_file_name
    from simulators.faults import FaultPlan
    from simulators.messages import OutboundMessage
    from simulators.publisher import MqttSender, RunConfig, default_step, publish
    from stadtpuls.rollup.dirty import DirtyMarkingWriter, DirtySeries
    from stadtpuls.rollup.worker import Recomputer, widen_coverage
    from stadtpuls.state.tracker import StateTracker
    from stadtpuls.state.windows import catalogue_windows
    from stadtpuls.store.sqlite import SQLiteStore
    from stadtpuls.timebase import to_ns

    now = datetime.now(UTC).replace(microsecond=0)
    start = now - backfill
    sites = list(catalogue.sites)
    plan = FaultPlan.parse(_relative_to(args.faults, now, start))
    plan.check(catalogue, sites)
    config = RunConfig(catalogue=catalogue, sites=sites, fmt=None, start=start, end=None,
                       speed=1.0, seed=args.seed, step=default_step(catalogue, sites),
                       faults=plan, catch_up_until=now)
    store = SQLiteStore(db)
    # The history bypasses the ingest, so its sensor state comes from here, published like
    # a second ingest replica's; without it the history would count as missing readings.
    (data / state_file_name(_BACKFILL_CLIENT)).unlink(missing_ok=True)
    state = StateKeeper(StateTracker(catalogue_windows(catalogue)), store, _BACKFILL_CLIENT,
                        data, interval_s=10.0, history_fed=True)
    state.start()
    # Nor is it rolled up by the ingest, whose catch-up at start marks the tiers complete for
    # the last hours while the history is still arriving: charts and "today" then read empty
    # tier windows (the energy page showed a third of the day's PV energy). So the history
    # is marked as the ingest marks what it writes, and rolled up once stored.
    dirty = DirtySeries()
    backfill_sink = BackfillSink(MessageDecoder(catalogue), DirtyMarkingWriter(store, dirty),
                                 data / "deadletter.db", on_stored=state.stored)

    class Sink:
        """The back-fill sink, telling the demo when the history is stored and counted."""

        def __call__(self, message: OutboundMessage) -> None:
            backfill_sink(message)

        def flush(self) -> None:  # the simulator's catch-up is over
            backfill_sink.flush()
            started = time.monotonic()
            recomputer = Recomputer(store, catalogue_intervals(catalogue).get)
            rows = recomputer.recompute(dirty.take().ranges)
            widen_coverage(store, to_ns(start))
            log.info("history rolled up: %d rows in %.1f s", rows, time.monotonic() - started)
            state.publish()
            history_done.set()

    sink = backfill_sink
    sender = MqttSender(mqtt_url, "stadtpuls-demo-simulator")
    sender.connect()
    t0 = time.monotonic()
    try:
        publish(config, sender, stop, progress_to=sys.stderr, past_sink=Sink())
    finally:
        sink.close()
        sender.close()
        state.stop()
        store.close()
    log.info("simulator stopped after %.0f s (%d history readings, %d broken messages "
             "dead-lettered)", time.monotonic() - t0, sink.readings, sink.rejected)


def _relative_to(faults: str, now: datetime, start: datetime) -> str | None:
    """Turn '@-1h' (before now) into the '@+Nh' (after the run's start) the simulator takes."""
    if faults.strip().lower() in ("", "none"):
        return None
    from simulators.timespec import parse_duration

    out = []
    for part in faults.split(","):
        if "@-" in part:
            head, _, rest = part.partition("@-")
            ago, slash, duration = rest.partition("/")
            offset = (now - parse_duration(ago)) - start
            # A fault from before a short backfill starts with the run ("+0s" is no duration).
            part = f"{head}@+{max(1, int(offset.total_seconds()))}s{slash}{duration}"
        out.append(part)
    return ",".join(out)


def _shown_host(host: str) -> str:
    """The address a browser uses: a wildcard bind (0.0.0.0, ::) is reached on 127.0.0.1."""
    try:
        return "127.0.0.1" if ipaddress.ip_address(host).is_unspecified else host
    except ValueError:  # a host name
        return host


def _wait_healthy(port: int, stop: threading.Event, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not stop.is_set():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", "/healthz")
            resp = conn.getresponse()
            if resp.status == 200 and json.load(resp).get("broker") == "connected":
                return True
        except (OSError, http.client.HTTPException, ValueError):
            pass
        finally:
            conn.close()
        stop.wait(0.3)
    return False
