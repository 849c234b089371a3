"""`stadtpuls ingest`: subscribe to MQTT and write readings to the store, nothing lost.

Cheap to import: paho, the store clients and the service are imported inside `run`.
Settings come from flags, then environment, then defaults (ARCHITECTURE.md §7). Exit codes:
0 after a clean stop (SIGTERM/SIGINT), 2 for bad settings or a bad catalogue.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
import threading
from pathlib import Path
from types import FrameType

from stadtpuls.settings import (
    add_catalogue_argument,
    add_data_dir_argument,
    add_mqtt_arguments,
    add_store_arguments,
)


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def configure_parser(parser: argparse.ArgumentParser) -> None:
    add_mqtt_arguments(parser)
    mqtt = parser.add_argument_group("MQTT session")
    mqtt.add_argument("--mqtt-version", choices=["5", "3.1.1"],
                      default=os.environ.get("STADTPULS_MQTT_VERSION", "5"),
                      help="protocol version; 3.1.1 for brokers without MQTT 5 such as amqtt "
                      "(env STADTPULS_MQTT_VERSION; default 5)")
    mqtt.add_argument("--client-id", default=os.environ.get("STADTPULS_INGEST_CLIENT_ID"),
                      help="fixed client id of the persistent session (env "
                      "STADTPULS_INGEST_CLIENT_ID; default stadtpuls-ingest-<hostname>)")
    mqtt.add_argument("--share-group", default=os.environ.get("STADTPULS_INGEST_SHARE_GROUP"),
                      help="subscribe through $share/NAME/... so several replicas split the "
                      "load (MQTT 5; env STADTPULS_INGEST_SHARE_GROUP)")
    mqtt.add_argument("--topic", action="append", dest="topics", metavar="FILTER",
                      help="topic filter to subscribe to instead of the catalogue's "
                      "(repeatable)")
    add_store_arguments(parser)
    add_catalogue_argument(parser)
    delivery = parser.add_argument_group("batching and spool")
    delivery.add_argument("--batch-size", type=int, default=5_000,
                          help="write when a batch holds this many readings (default 5000)")
    delivery.add_argument("--batch-ms", type=float, default=100.0,
                          help="... or when its oldest message is this old (default 100 ms)")
    add_data_dir_argument(delivery, "spool and dead letters")
    delivery.add_argument("--spool-max-readings", type=int, default=5_000_000,
                          help="stop acking when the spool holds this many readings "
                          "(default 5,000,000)")
    delivery.add_argument("--max-pending-messages", type=int, default=50_000,
                          help="messages held in memory before further ones are left unacked "
                          "at the broker (default 50,000)")
    ops = parser.add_argument_group("health and metrics")
    ops.add_argument("--http-host", default=os.environ.get("STADTPULS_INGEST_HTTP_HOST",
                                                           "127.0.0.1"),
                     help="address for /healthz and /metrics (default 127.0.0.1)")
    ops.add_argument("--http-port", type=int,
                     default=_env_int("STADTPULS_INGEST_HTTP_PORT", 9108),
                     help="port for /healthz and /metrics; 0 = off (default 9108)")
    ops.add_argument("--stats-interval", type=float, default=5.0,
                     help="seconds between pipeline figures written to the store; 0 = off "
                     "(default 5)")
    ops.add_argument("--log-level", default=os.environ.get("STADTPULS_LOG_LEVEL", "INFO"),
                     choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="default INFO")


def _fail(message: str) -> int:
    print(f"stadtpuls ingest: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    from ingest.config import IngestConfig
    from ingest.deadletter import DeadLetterError
    from ingest.decoding import MessageDecoder
    from ingest.service import IngestService
    from ingest.spool import SpoolError
    from stadtpuls.catalogue import CatalogueError, load_catalogue
    from stadtpuls.settings import (
        SettingsError,
        catalogue_path,
        mqtt_settings,
        open_store,
        store_settings,
    )
    from stadtpuls.store import StoreError

    logging.basicConfig(level=args.log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log = logging.getLogger("stadtpuls.ingest")
    try:
        mqtt = mqtt_settings(args)
        store_cfg = store_settings(args)
        for name in ("batch_size", "spool_max_readings", "max_pending_messages"):
            if getattr(args, name) <= 0:
                raise SettingsError(f"--{name.replace('_', '-')} must be positive")
        if args.batch_ms <= 0:
            raise SettingsError("--batch-ms must be positive")
        if args.share_group and ("/" in args.share_group or "+" in args.share_group
                                 or "#" in args.share_group):
            raise SettingsError(f"share group {args.share_group!r} must not contain '/', '+' "
                                "or '#'")
        if args.share_group and args.mqtt_version != "5":
            raise SettingsError("--share-group needs MQTT 5 (--mqtt-version 5)")
    except SettingsError as exc:
        return _fail(str(exc))
    path = catalogue_path(args)
    try:
        catalogue = load_catalogue(path)
        decoder = MessageDecoder(catalogue)
    except CatalogueError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return _fail(f"catalogue {path} has {len(exc.problems)} problem(s); fix them and "
                     "check with: stadtpuls config check")
    except ValueError as exc:
        return _fail(f"catalogue {path}: {exc}")
    client_id = args.client_id or f"stadtpuls-ingest-{socket.gethostname()}"
    config = IngestConfig(
        mqtt=mqtt, client_id=client_id,
        topic_filters=args.topics or decoder.subscriptions(),
        data_dir=Path(args.data_dir), mqtt_version=5 if args.mqtt_version == "5" else 4,
        share_group=args.share_group, batch_size=args.batch_size, batch_ms=args.batch_ms,
        spool_max_readings=args.spool_max_readings, http_host=args.http_host,
        http_port=args.http_port, stats_interval_s=args.stats_interval,
        max_pending_messages=args.max_pending_messages,
    )
    try:
        store = open_store(store_cfg)
        service = IngestService(config, decoder, store)
    except (StoreError, SpoolError, DeadLetterError) as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"cannot serve health on {args.http_host}:{args.http_port}: "
                     f"{exc.strerror}; pick another --http-port (0 = off)")
    log.info("writing to %s", store_cfg.describe())

    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    service.start()
    while not stop.wait(1.0) and not service.failed:
        pass
    service.stop()
    store.close()
    return 1 if service.failed else 0
