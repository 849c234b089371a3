"""`stadtpuls ingest`: subscribe to MQTT and write readings to the store, nothing lost.

Cheap to import: paho, the store clients and the service are imported inside `run`.
Settings come from flags, then environment, then defaults (ARCHITECTURE.md §7). Exit codes:
0 after a clean stop (SIGTERM/SIGINT), 2 for bad settings or a bad catalogue.
"""

from __future__ import annotations

import argparse
import gc
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from ingest.limits import (
    MAX_FUTURE_S,
    MAX_PACK_RECORDS,
    MAX_PAYLOAD_BYTES,
    NEW_SERIES_PER_HOUR,
    RETENTION_DAYS,
    SPOOL_MAX_BYTES,
)
from stadtpuls.settings import (
    INGEST_LIMITS,
    add_catalogue_argument,
    add_data_dir_argument,
    add_ingest_hardening_arguments,
    add_ingest_http_arguments,
    add_ingest_session_arguments,
    add_log_level_argument,
    add_mqtt_arguments,
    add_store_arguments,
)
from stadtpuls.store.opening import open_store


def configure_parser(parser: argparse.ArgumentParser) -> None:
    add_mqtt_arguments(parser)
    session = add_ingest_session_arguments(parser)
    session.add_argument("--topic", action="append", dest="topics", metavar="FILTER",
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
    delivery.add_argument("--spool-max-bytes", type=int, default=SPOOL_MAX_BYTES,
                          help="... or this many bytes, payloads kept for dead-lettering "
                          "included (default 4 GiB)")
    delivery.add_argument("--max-pending-messages", type=int, default=50_000,
                          help="messages held in memory before further ones are left unacked "
                          "at the broker (default 50,000)")
    limits = parser.add_argument_group("limits at the edge (see docs/operations.md)")
    for help_text, dest, default in (
            ("larger payloads are dead-lettered undecoded, keeping their first 4 KiB",
             "max_payload_bytes", MAX_PAYLOAD_BYTES),
            ("SenML packs with more records are dead-lettered", "max_pack_records",
             MAX_PACK_RECORDS),
            ("readings more than this many seconds ahead of reception are dead-lettered",
             "max_future_s", MAX_FUTURE_S),
            ("readings older than this many days (the store's retention) are dead-lettered",
             "retention_days", RETENTION_DAYS),
            ("new unregistered series admitted per site and hour", "new_series_per_hour",
             NEW_SERIES_PER_HOUR)):
        flag, env = INGEST_LIMITS[dest]
        limits.add_argument(flag, type=int, dest=dest, metavar="N",
                            help=f"{help_text} (env {env}; default {default})")
    from stadtpuls.settings.rollup import add_rollup_worker_arguments

    add_rollup_worker_arguments(parser.add_argument_group(
        "roll-ups and retention (see docs/operations.md)"))
    ops = parser.add_argument_group("health and metrics")
    add_ingest_http_arguments(ops)
    ops.add_argument("--stats-interval", type=float, default=5.0,
                     help="seconds between pipeline figures written to the store; 0 = off "
                     "(default 5)")
    add_ingest_hardening_arguments(ops)
    add_log_level_argument(ops)


def _fail(message: str) -> int:
    print(f"stadtpuls ingest: {message}", file=sys.stderr)
    return 2


def settle_garbage_collector() -> None:
    """Freeze what start-up built and collect the young generation less often.

    The catalogue, the decoder's look-ups and the imports live as long as the process
    (180,000 objects with 10,000 sensors): frozen, full collections stop walking them. The
    hot path allocates a few container objects per message, which reference counting frees
    at once, and keeps each batch's readings until the batch is written; collecting every
    700 allocations (the default) walked those readings again and again, and with 10,000
    series each walk touched every sensor's strings (measured in `bench/bench_scale.py
    --ingest-only`: 0.25–0.3 s of collector CPU per 100,000 messages with 41 series, about
    0.5 s with 10,000; frozen and every 50,000 allocations, under 0.1 s for both). Cycles are
    rare here (an exception's traceback): they are freed a little later.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 10)


def run(args: argparse.Namespace) -> int:
    from ingest.config import IngestConfig
    from ingest.deadletter import DEFAULT_MAX_BYTES, DEFAULT_MAX_LETTERS, DeadLetterError
    from ingest.decoding import MessageDecoder
    from ingest.limits import EdgeLimits
    from ingest.rollups import with_rollups
    from ingest.service import IngestService
    from ingest.spool import SpoolError
    from stadtpuls.catalogue import CatalogueError, load_catalogue
    from stadtpuls.settings import (
        SettingsError,
        catalogue_path,
        deadletter_caps,
        ingest_client_id,
        ingest_http,
        ingest_limits,
        ingest_max_unacked_age,
        ingest_share_group,
        log_level,
        mqtt_settings,
        mqtt_version,
        store_settings,
    )
    from stadtpuls.settings.rollup import retention_seconds, rollup_worker
    from stadtpuls.store import StoreError

    try:
        level = log_level(args)
        mqtt = mqtt_settings(args)
        store_cfg = store_settings(args)
        version = mqtt_version(args)
        client_id = ingest_client_id(args)
        share_group = ingest_share_group(args)
        http_host, http_port = ingest_http(args)
        max_unacked_age = ingest_max_unacked_age(args)
        max_letters, max_bytes = deadletter_caps(args, DEFAULT_MAX_LETTERS, DEFAULT_MAX_BYTES)
        limits = EdgeLimits(**ingest_limits(args))
        rollup_period, rollup_catchup = rollup_worker(args)
        keep = retention_seconds(args)
    except SettingsError as exc:
        return _fail(str(exc))
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log = logging.getLogger("stadtpuls.ingest")
    path = catalogue_path(args)
    try:
        catalogue = load_catalogue(path)
        decoder = MessageDecoder(catalogue, limits)
    except CatalogueError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return _fail(f"catalogue {path} has {len(exc.problems)} problem(s); fix them and "
                     "check with: stadtpuls config check")
    except ValueError as exc:
        return _fail(f"catalogue {path}: {exc}")
    try:
        config = IngestConfig(
            mqtt=mqtt, client_id=client_id,
            topic_filters=args.topics or decoder.subscriptions(),
            data_dir=Path(args.data_dir), mqtt_version=version, share_group=share_group,
            batch_size=args.batch_size, batch_ms=args.batch_ms,
            spool_max_readings=args.spool_max_readings, spool_max_bytes=args.spool_max_bytes,
            http_host=http_host,
            http_port=http_port, stats_interval_s=args.stats_interval,
            max_pending_messages=args.max_pending_messages,
            max_unacked_age_s=max_unacked_age, deadletter_max_letters=max_letters,
            deadletter_max_bytes=max_bytes,
        )
    except SettingsError as exc:
        return _fail(str(exc))
    try:
        store = open_store(store_cfg)
        writer, rollups = with_rollups(store, catalogue, rollup_period, rollup_catchup, keep)
        service = IngestService(config, decoder, writer, catalogue=catalogue, state_store=store)
    except (StoreError, SpoolError, DeadLetterError) as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"cannot serve health on {http_host}:{http_port}: "
                     f"{exc.strerror}; pick another --http-port (0 = off)")
    log.info("writing to %s", store_cfg.describe())

    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    settle_garbage_collector()
    service.start()
    if rollups is not None:
        rollups.start()
    while not stop.wait(1.0) and not service.failed:
        pass
    service.stop()
    if rollups is not None:
        rollups.stop()  # one last round for what the service wrote while stopping
    store.close()
    return 1 if service.failed else 0
