"""`stadtpuls alerts run|list|ack|silence|outbox`: evaluate rules and notify; look at and act
on alerts from the shell. State lives in `<data-dir>/alerts.db`.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import time
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from stadtpuls.settings import (
    SettingsError,
    add_alert_arguments,
    add_catalogue_argument,
    add_data_dir_argument,
    add_store_arguments,
    alert_settings,
    alert_state_path,
    catalogue_path,
    log_level,
    store_settings,
)
from stadtpuls.store.opening import open_store
from stadtpuls.timebase import NS_PER_S, from_ns, to_ns

if TYPE_CHECKING:
    from alerts.state import AlertState


def configure_parser(parser: argparse.ArgumentParser) -> None:
    common = argparse.ArgumentParser(add_help=False)
    add_data_dir_argument(common, "the alert state (alerts.db)")
    sub = parser.add_subparsers(dest="alerts_command", metavar="ACTION", required=True)
    run = sub.add_parser("run", help="evaluate the catalogue's rules on a schedule and send "
                         "notifications", parents=[common])
    add_store_arguments(run)
    add_catalogue_argument(run)
    add_alert_arguments(run)
    ls = sub.add_parser("list", help="alerts, newest first", parents=[common])
    ls.add_argument("--limit", type=int, default=50)
    ls.add_argument("--json", action="store_true", help="one JSON object per line")
    ack = sub.add_parser("ack", help="acknowledge an alert (stops reminders)", parents=[common])
    ack.add_argument("id", type=int)
    ack.add_argument("--by", required=True, help="who acknowledges")
    ack.add_argument("--comment", default="")
    silence = sub.add_parser("silence", help="no notifications for a sensor, a site or a rule "
                             "until a time (a maintenance window)", parents=[common])
    silence.add_argument("--rule")
    silence.add_argument("--site")
    silence.add_argument("--sensor", help="with --site")
    silence.add_argument("--from", dest="start", help="ISO time with offset; default now")
    silence.add_argument("--until", required=True, help="ISO time with offset")
    silence.add_argument("--by", required=True)
    silence.add_argument("--comment", default="")
    outbox = sub.add_parser("outbox", help="notifications: waiting, failed (with the reason) "
                            "and sent", parents=[common])
    outbox.add_argument("--unsent", action="store_true", help="only those not yet sent")
    outbox.add_argument("--limit", type=int, default=50)
    preview = sub.add_parser("preview", help="what the rules would have fired over stored "
                             "(or simulated) data; sends nothing")
    add_store_arguments(preview)
    add_catalogue_argument(preview)
    preview.add_argument("--days", type=float, default=7.0, help="look back this many days "
                         "(default 7)")
    preview.add_argument("--end", help="ISO time with offset the range ends at; default now")
    preview.add_argument("--step", type=float, default=300.0,
                         help="seconds between evaluation rounds (default 300)")
    preview.add_argument("--rule", help="only this rule (e.g. stuck, no_data, threshold)")
    preview.add_argument("--simulate", action="store_true", help="evaluate simulated data "
                         "(in-process simulators, a temporary store) instead of the store")
    preview.add_argument("--faults", help="fault plan for --simulate (see stadtpuls simulate "
                         "--help), e.g. stuck:room_sitzungssaal_co2@+2d/6h")
    preview.add_argument("--seed", type=int, default=1, help="simulator seed (default 1)")


def _fail(message: str) -> int:
    print(f"stadtpuls alerts: {message}", file=sys.stderr)
    return 2


def _ns(text: str) -> int:
    when = datetime.fromisoformat(text)
    if when.tzinfo is None:
        raise ValueError(f"{text!r} needs a time zone offset, e.g. +01:00 or Z")
    return to_ns(when)


def _when(ns: int | None) -> str:
    return "-" if ns is None else from_ns(ns).astimezone().isoformat(timespec="seconds")


def run(args: argparse.Namespace) -> int:
    from alerts.state import AlertState

    command = args.alerts_command
    if command == "preview":
        return _preview(args)
    state = AlertState(alert_state_path(args))
    now = int(time.time() * NS_PER_S)
    if command == "run":
        return _run(args, state)
    if command == "list":
        for row in state.alerts(limit=args.limit):
            if args.json:
                print(json.dumps(row.__dict__, ensure_ascii=False))
            else:
                ack = f" ack {row.ack_by} {_when(row.ack_ns)}" if row.ack_by else ""
                print(f"{row.id:>6} {row.state:<8} {row.severity:<8} {row.rule:<22} "
                      f"{row.site}/{row.sensor} since {_when(row.since_ns)}{ack}")
        return 0
    if command == "ack":
        if not state.acknowledge(args.id, args.by, args.comment, now):
            return _fail(f"no open alert with id {args.id}")
        print(f"alert {args.id} acknowledged by {args.by}")
        return 0
    if command == "silence":
        if args.sensor and not args.site:
            return _fail("--sensor needs --site")
        try:
            start = _ns(args.start) if args.start else now
            silence_id = state.silence(rule=args.rule, site=args.site, sensor=args.sensor,
                                       from_ns=start, until_ns=_ns(args.until), by=args.by,
                                       comment=args.comment)
        except ValueError as exc:
            return _fail(str(exc))
        print(f"silence {silence_id} until {args.until}")
        return 0
    for item in state.outbox(unsent_only=args.unsent, limit=args.limit):
        status = (f"sent {_when(item.sent_ns)}" if item.sent_ns
                  else f"waiting, try {item.attempts + 1} at {_when(item.next_try_ns)}")
        error = f" last error: {item.last_error}" if item.last_error else ""
        print(f"{item.id:>6} alert {item.alert_id} {item.transition:<11} {item.channel}:"
              f"{item.address} {status}{error}")
    return 0


def _run(args: argparse.Namespace, state: AlertState) -> int:
    from alerts.service import AlertService
    from stadtpuls.catalogue import CatalogueError, load_catalogue

    try:
        settings = alert_settings(args)
        logging.basicConfig(level=log_level(args),
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        catalogue = load_catalogue(catalogue_path(args))
        service = AlertService(open_store(store_settings(args)), catalogue, state, settings)
    except CatalogueError as exc:
        return _fail(str(exc))
    except SettingsError as exc:
        return _fail(str(exc))

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        service.stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    service.run()
    return 0


def _preview(args: argparse.Namespace) -> int:
    import tempfile
    from datetime import UTC, timedelta

    from alerts.preview import preview, simulate_into
    from stadtpuls.catalogue import CatalogueError, load_catalogue
    from stadtpuls.store.protocol import Store
    from stadtpuls.store.sqlite import SQLiteStore

    try:
        catalogue = load_catalogue(catalogue_path(args))
        end = from_ns(_ns(args.end)) if args.end else datetime.now(UTC)
    except (CatalogueError, ValueError) as exc:
        return _fail(str(exc))
    start = end - timedelta(days=args.days)
    store: Store
    with tempfile.TemporaryDirectory(prefix="stadtpuls-preview-") as tmp:
        if args.simulate:
            store = SQLiteStore(Path(tmp) / "simulated.db")
            injected = simulate_into(store, catalogue, start, end, args.faults, args.seed)
            for kind, site, sensor, time_ns in injected:
                print(f"injected {kind:<12} {site}/{sensor} at {_when(time_ns)}")
        else:
            try:
                store = open_store(store_settings(args))
            except SettingsError as exc:
                return _fail(str(exc))
        episodes = preview(store, catalogue, start, end, timedelta(seconds=args.step),
                           args.rule)
        store.close()
    for e in episodes:
        until = _when(e.resolved_ns) if e.resolved_ns else "still firing"
        print(f"fired    {e.rule:<22} {e.site}/{e.sensor} {e.severity} "
              f"{_when(e.fired_ns)} until {until}")
    print(f"{len(episodes)} alerts from {start.isoformat(timespec='minutes')} to "
          f"{end.isoformat(timespec='minutes')}")
    return 0
