"""`stadtpuls deadletter list|replay|purge`: look at rejected messages, replay them once the
catalogue is fixed, or drop old ones.

The dead letters live in `<data-dir>/deadletter.db`, shared by all ingest replicas of a host.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from stadtpuls.printable import printable
from stadtpuls.settings import (
    add_catalogue_argument,
    add_data_dir_argument,
    add_store_arguments,
)
from stadtpuls.store.opening import open_store
from stadtpuls.timebase import from_ns

if TYPE_CHECKING:
    from ingest.deadletter import DeadLetterStore


def configure_parser(parser: argparse.ArgumentParser) -> None:
    common = argparse.ArgumentParser(add_help=False)
    add_data_dir_argument(common, "the dead letters (deadletter.db)")
    sub = parser.add_subparsers(dest="deadletter_command", metavar="ACTION", required=True)
    ls = sub.add_parser("list", help="show dead letters, newest first", parents=[common])
    ls.add_argument("--limit", type=int, default=20, help="at most this many (default 20)")
    ls.add_argument("--topic", help="only topics starting with this")
    ls.add_argument("--json", action="store_true", help="one JSON object per line")
    ls.add_argument("--summary", action="store_true", help="count per reason instead")
    replay = sub.add_parser("replay", help="decode again with the current catalogue, write "
                            "what decodes now, delete it from the dead letters",
                            parents=[common])
    add_store_arguments(replay)
    add_catalogue_argument(replay)
    purge = sub.add_parser("purge", help="delete dead letters received before a time",
                           parents=[common])
    purge.add_argument("--before", required=True,
                       help="ISO time (2026-01-31T00:00:00+01:00) or an age such as 7d, 12h")


def _fail(message: str) -> int:
    print(f"stadtpuls deadletter: {message}", file=sys.stderr)
    return 2


def _parse_before(text: str) -> datetime:
    units = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
    if text and text[-1] in units and text[:-1].replace(".", "", 1).isdigit():
        return datetime.now(UTC) - timedelta(**{units[text[-1]]: float(text[:-1])})
    when = datetime.fromisoformat(text)
    if when.tzinfo is None:
        raise ValueError("give a timezone, e.g. 2026-01-31T00:00:00+01:00 or ...Z")
    return when


def _iso(ns: int) -> str:
    return from_ns(ns).isoformat(timespec="milliseconds")


def _preview(payload: bytes, width: int = 60) -> str:
    text = printable(payload.decode("utf-8", "replace"))
    return text if len(text) <= width else text[: width - 1] + "…"


def run(args: argparse.Namespace) -> int:
    from ingest.deadletter import DeadLetterError, DeadLetterStore

    path = Path(args.data_dir) / "deadletter.db"
    if not path.exists():
        if args.deadletter_command == "list":
            print(f"no dead letters ({path} does not exist)")
            return 0
        return _fail(f"{path} does not exist; check --data-dir / STADTPULS_DATA_DIR")
    try:
        store = DeadLetterStore(path)
    except DeadLetterError as exc:
        return _fail(str(exc))
    try:
        if args.deadletter_command == "list":
            return _list(store, args)
        if args.deadletter_command == "purge":
            try:
                before = _parse_before(args.before)
            except ValueError as exc:
                return _fail(f"--before {args.before!r}: {exc}")
            removed = store.purge(int(before.timestamp() * 1e9))
            print(f"purged {removed} dead letters received before {before.isoformat()}")
            return 0
        return _replay(store, args)
    finally:
        store.close()


def _list(store: DeadLetterStore, args: argparse.Namespace) -> int:
    if args.summary:
        for reason, n in store.reasons().items():
            print(f"{n:8d}  {printable(reason)}")
        return 0
    letters = store.newest(args.limit, args.topic)
    for d in letters:
        if args.json:
            print(json.dumps({"id": d.id, "received_at": _iso(d.received_at_ns),
                              "topic": d.topic, "payload": d.payload.decode("utf-8", "replace"),
                              "reason": d.reason}))  # ASCII: no raw control characters
        else:
            # Topic, payload and reason are the sender's text: escaped, so an ESC sequence
            # cannot rewrite the operator's terminal.
            print(f"{d.id:>7}  {_iso(d.received_at_ns)}  {printable(d.topic)}  "
                  f"{_preview(d.payload)}\n         {printable(d.reason)}")
    if not args.json:
        print(f"{len(letters)} shown, {store.count()} in {store.path}")
    return 0


def _replay(store: DeadLetterStore, args: argparse.Namespace) -> int:
    from ingest.deadletter import DeadLetterError
    from ingest.decoding import MessageDecoder
    from stadtpuls.catalogue import CatalogueError, load_catalogue
    from stadtpuls.settings import SettingsError, catalogue_path, store_settings
    from stadtpuls.store import StoreError, StoreUnavailable

    path = catalogue_path(args)
    try:
        target = open_store(store_settings(args))
        decoder = MessageDecoder(load_catalogue(path))
    except SettingsError as exc:
        return _fail(str(exc))
    except CatalogueError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return _fail(f"catalogue {path} has problems; fix them first")
    except (StoreError, ValueError) as exc:
        return _fail(str(exc))
    try:
        result = store.replay(decoder, target)
    except StoreUnavailable as exc:
        return _fail(f"{exc}; nothing more was replayed, run again when the store is back")
    except DeadLetterError as exc:
        return _fail(f"{exc}; check the disk, then run again (replayed readings are written "
                     "again harmlessly)")
    finally:
        target.close()
    print(f"replayed {result.replayed} messages ({result.readings} readings); "
          f"{result.still_rejected} still rejected")
    for reason, n in sorted(result.reasons.items(), key=lambda kv: -kv[1])[:10]:
        print(f"{n:8d}  {printable(reason)}")
    return 0 if result.still_rejected == 0 else 1
