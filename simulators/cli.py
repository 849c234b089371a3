"""`stadtpuls simulate`: publish simulated sensors over MQTT, or print a year's energy summary.

Cheap to import: numpy, pvlib and paho are imported inside `run`, so `stadtpuls --help`
stays fast.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import TYPE_CHECKING

from simulators.timespec import parse_duration, parse_instant
from stadtpuls.settings import add_catalogue_argument, catalogue_path, mqtt_settings, mqtt_url

if TYPE_CHECKING:
    from stadtpuls.catalogue.models import Catalogue

_FAULTS_HELP = """\
faults (--faults SPEC): comma-separated, each KIND[:TARGET][~RATE][@START[/DURATION]]
  KIND      silent, stuck, spikes, implausible, meter_reset   (in the readings)
            duplicates, out_of_order, malformed               (in the messages)
  TARGET    a sensor id, or * for every sensor the fault applies to (default);
            a bare number such as 0.01 means * at that rate
  RATE      chance per reading or message, 0 < RATE <= 1 (default 0.01)
  START     ISO date-time (UTC unless it has an offset), or +DURATION after the
            run's start (default: the whole run; implausible and meter_reset
            happen once, at START or in the middle of the run)
  DURATION  e.g. 30m, 2h, 1d (default: until the end of the run)
  e.g. silent:pv_facade_ne_power@2025-06-01T10:00/2h,stuck:room_sitzungssaal_co2,
       spikes:weather_air_temperature~0.05,meter_reset:grid_import_energy,
       duplicates:*,out_of_order:*,malformed:0.01"""


class UsageError(ValueError):
    """A wrong or conflicting option; printed as one line, exit status 2."""


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = (
        _FAULTS_HELP + "\n\n"
        "examples:\n"
        "  stadtpuls simulate --catalogue config/stuehlinger.yaml --mqtt-url mqtt://host:1883\n"
        "  stadtpuls simulate --catalogue config/stuehlinger.yaml --backfill 7d\n"
        "  stadtpuls simulate --catalogue config/stuehlinger.yaml --start 2025-06-01 "
        "--duration 1d --speed 3600\n"
        "  stadtpuls simulate --catalogue config/stuehlinger.yaml --summary --start 2025-01-01 "
        "--duration 365d"
    )
    add_catalogue_argument(parser)
    parser.add_argument(
        "--site", action="append", metavar="SITE",
        help="simulate this site; repeat for several (default: every site in the catalogue)",
    )
    parser.add_argument(
        "--mqtt-url", metavar="URL",
        help="broker to publish to, mqtt://[user:password@]host:port or mqtts://... "
             "(default: $STADTPULS_MQTT_URL, else mqtt://127.0.0.1:1883)",
    )
    parser.add_argument(
        "--format", choices=["json", "senml", "ttn"],
        help="send every sensor in this format and its topic layout (default: each sensor in "
             "its catalogue decoder's format: json, raw, senml or ttn-v3)",
    )
    parser.add_argument(
        "--start", metavar="WHEN",
        help="simulated start: ISO date or date-time (UTC unless it has an offset), 'now', or "
             "a duration meaning that long ago, e.g. 2h (default: now; with --summary: 1 "
             "January of last year)",
    )
    parser.add_argument(
        "--duration", metavar="DURATION",
        help="how much simulated time, e.g. 90m, 2h, 7d, 365d (default: endless; with "
             "--summary: one year)",
    )
    parser.add_argument(
        "--speed", type=float, default=1.0, metavar="X",
        help="simulated seconds per real second (default 1: live)",
    )
    parser.add_argument(
        "--backfill", metavar="DURATION",
        help="start this long ago, publish the past as fast as the broker takes it, then "
             "continue live, e.g. 7d",
    )
    parser.add_argument(
        "--step", metavar="DURATION",
        help="simulation step (default: the shortest sensor interval, 15m with --summary)",
    )
    parser.add_argument("--faults", metavar="SPEC",
                        help="faults to inject, e.g. silent:pv_facade_ne_power@+1h/2h,"
                             "malformed:0.01 (syntax below)")
    parser.add_argument("--seed", type=int, default=0,
                        help="random seed: the same seed gives the same data (default 0)")
    parser.add_argument("--window", type=int, default=1_000, metavar="N",
                        help="most unacknowledged QoS 1 messages at a time (default 1000)")
    parser.add_argument("--client-id", metavar="ID",
                        help="MQTT client id (default: stadtpuls-simulate-<pid>)")
    parser.add_argument(
        "--summary", action="store_true",
        help="print the energy per PV array and per site for the period instead of "
             "publishing (no broker needed)",
    )
    parser.add_argument("--json", action="store_true",
                        help="with --summary: machine-readable JSON output")


def run(args: argparse.Namespace) -> int:
    try:
        return _summary(args) if args.summary else _publish(args)
    except UsageError as exc:
        print(f"stadtpuls simulate: error: {exc}", file=sys.stderr)
        return 2


def _catalogue(args: argparse.Namespace) -> tuple[Catalogue, list[str]]:
    from stadtpuls.catalogue import CatalogueError, load_catalogue

    path = catalogue_path(args)
    try:
        catalogue = load_catalogue(path)
    except CatalogueError as exc:
        raise UsageError("the catalogue has problems:\n" + str(exc)) from None
    sites = args.site or list(catalogue.sites)
    unknown = [s for s in sites if s not in catalogue.sites]
    if unknown:
        raise UsageError(f"no site {unknown[0]!r} in {path}; sites: "
                         f"{', '.join(catalogue.sites)}")
    return catalogue, sites


def _duration(text: str, option: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None


def _instant(text: str, now: datetime) -> datetime:
    if text.strip().lower() == "now":
        return now
    try:
        return parse_instant(text)
    except ValueError as first:
        try:
            return now - parse_duration(text)
        except ValueError:
            raise UsageError(f"--start: {first}; or give 'now' or a duration such as 2h "
                             "(that long ago)") from None


def _summary(args: argparse.Namespace) -> int:
    import json

    from simulators.summary import format_table, summarize

    catalogue, sites = _catalogue(args)
    now = datetime.now(UTC)
    start = (_instant(args.start, now) if args.start
             else datetime(now.year - 1, 1, 1, tzinfo=UTC))
    if args.duration:
        end = start + _duration(args.duration, "--duration")
    else:
        end = start.replace(year=start.year + 1)
    step = _duration(args.step, "--step") if args.step else timedelta(minutes=15)
    summary = summarize(catalogue, sites, start, end, step, args.seed)
    if args.json:
        print(json.dumps(summary.to_json(), indent=2, ensure_ascii=False))
    else:
        print(format_table(summary))
    return 0


def _publish(args: argparse.Namespace) -> int:
    from simulators.faults import FaultPlan, FaultPlanError
    from simulators.formats import Format
    from simulators.generate import SimulationError, check_roles
    from simulators.publisher import BrokerError, MqttSender, RunConfig, default_step, publish

    catalogue, sites = _catalogue(args)
    if args.json:
        raise UsageError("--json goes with --summary")
    if args.speed <= 0 or not math.isfinite(args.speed):
        raise UsageError(f"--speed must be a positive number, not {args.speed}")
    if args.backfill and args.start:
        raise UsageError("--backfill and --start exclude each other: a backfill starts that "
                         "long before now")
    now = datetime.now(UTC)
    catch_up = None
    if args.backfill:
        start = now - _duration(args.backfill, "--backfill")
        catch_up = now
    else:
        start = _instant(args.start, now) if args.start else now
    end = start + _duration(args.duration, "--duration") if args.duration else None
    step = _duration(args.step, "--step") if args.step else default_step(catalogue, sites)
    try:
        plan = FaultPlan.parse(args.faults)
        plan.check(catalogue, sites)
        for site in sites:
            check_roles(site, catalogue.sites[site])
    except (FaultPlanError, SimulationError) as exc:
        raise UsageError(str(exc)) from None

    config = RunConfig(
        catalogue=catalogue, sites=sites, fmt=Format(args.format) if args.format else None,
        start=start, end=end, speed=args.speed, seed=args.seed, step=step, faults=plan,
        catch_up_until=catch_up,
    )
    stop = threading.Event()
    restore = _stop_on_signals(stop)
    try:
        sender = MqttSender(mqtt_url(args), args.client_id or f"stadtpuls-simulate-{os.getpid()}",
                            window=args.window, settings=mqtt_settings(args))
        sender.connect()
    except BrokerError as exc:
        restore()
        print(f"stadtpuls simulate: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        restore()
        raise UsageError(str(exc)) from None
    try:
        report = publish(config, sender, stop)
    except BrokerError as exc:
        print(f"stadtpuls simulate: {exc}", file=sys.stderr)
        return 1
    finally:
        sender.close()
        restore()
    print(report.format())
    return 0


def _stop_on_signals(stop: threading.Event) -> Callable[[], None]:
    """SIGINT and SIGTERM set `stop` (the run ends with its summary); returns an undo."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore

