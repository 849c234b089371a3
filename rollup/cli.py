"""`stadtpuls rollup backfill|retention`: cheap to import; the store is opened in `run`."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime

from stadtpuls.settings import add_catalogue_argument, add_data_dir_argument, add_store_arguments
from stadtpuls.settings.rollup import add_retention_arguments


def configure_parser(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="rollup_command", metavar="ACTION", required=True)
    fill = sub.add_parser("backfill", help="build the roll-up tiers for data already stored "
                          "(progress on stderr; Ctrl-C stops, the next run resumes)")
    fill.add_argument("--since", help="first day (YYYY-MM-DD, UTC; default: as far back as "
                      "raw readings are kept, 20 years if forever)")
    fill.add_argument("--until", help="day after the last (YYYY-MM-DD, UTC; default: now)")
    fill.add_argument("--restart", action="store_true",
                      help="ignore the checkpoint and start from --since")
    add_data_dir_argument(fill, "the checkpoint (rollup-backfill.json)")
    add_catalogue_argument(fill)
    add_store_arguments(fill)
    add_retention_arguments(fill)
    keep = sub.add_parser("retention", help="delete raw readings and roll-up rows older "
                          "than the retention settings (the ingest does this hourly)")
    keep.add_argument("--dry-run", action="store_true",
                      help="only show what would be deleted")
    add_store_arguments(keep)
    add_retention_arguments(keep)


def _fail(message: str) -> int:
    print(f"stadtpuls rollup: {message}", file=sys.stderr)
    return 2


def _day(text: str, flag: str) -> int:
    from stadtpuls.settings import SettingsError
    from stadtpuls.timebase import to_ns

    try:
        return to_ns(datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC))
    except ValueError:
        raise SettingsError(f"{flag} {text!r} is not a date; use YYYY-MM-DD") from None


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rollup.backfill import Checkpoint, backfill, default_since
    from stadtpuls.catalogue import CatalogueError, load_catalogue
    from stadtpuls.reading import SeriesKey
    from stadtpuls.rollup.retention import RetentionPolicy, apply_retention
    from stadtpuls.settings import SettingsError, catalogue_path, store_settings
    from stadtpuls.settings.rollup import retention_seconds
    from stadtpuls.store import StoreError
    from stadtpuls.store.opening import open_store
    from stadtpuls.timebase import NS_PER_S, from_ns

    now = int(time.time() * NS_PER_S)
    try:
        keep = retention_seconds(args)
        store_cfg = store_settings(args)
        if args.rollup_command == "backfill":
            since = (_day(args.since, "--since") if args.since
                     else default_since(now, keep[None]))
            until = _day(args.until, "--until") if args.until else now
    except SettingsError as exc:
        return _fail(str(exc))
    policy = RetentionPolicy(keep)
    try:
        store = open_store(store_cfg)
    except StoreError as exc:
        return _fail(str(exc))
    try:
        if args.rollup_command == "retention":
            for name, (cut, rows) in apply_retention(store, policy, now,
                                                     dry_run=args.dry_run).items():
                verb = "would delete" if args.dry_run else "deleted"
                print(f"{name}: {verb} {rows:,} rows before {from_ns(cut):%Y-%m-%d %H:%M} UTC")
            return 0
        try:
            catalogue = load_catalogue(catalogue_path(args))
            intervals = {SeriesKey(site, s.id, s.quantity): s.interval_s
                         for site, s in catalogue.sensors()}
        except CatalogueError:
            intervals = {}  # the sensors' intervals are then estimated from their readings
        checkpoint = Checkpoint(Path(args.data_dir) / "rollup-backfill.json", since, until)
        if args.restart:
            checkpoint.path.unlink(missing_ok=True)
        try:
            rows = backfill(store, since, until, checkpoint, interval_of=intervals.get,
                            policy=policy)
        except KeyboardInterrupt:
            print(f"\nstadtpuls rollup: interrupted; run the same command again to resume "
                  f"from {from_ns(checkpoint.load()):%Y-%m-%d}", file=sys.stderr)
            return 130
        print(f"rollup backfill: {rows:,} rows written; the tiers are complete from "
              f"{from_ns(since):%Y-%m-%d}", file=sys.stderr)
        return 0
    except StoreError as exc:
        return _fail(f"{exc}; the checkpoint keeps what is done, run again to resume")
    finally:
        store.close()
