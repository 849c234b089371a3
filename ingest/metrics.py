"""The ingest's own figures: Prometheus metrics, and the same figures as pipeline readings.

One `IngestMetrics` per process, with its own `CollectorRegistry` (not the global one, so
tests and several services in one process never collide). Counters are incremented once per
batch, not per message: the hot path pays a handful of lock round-trips per flush.

Pipeline readings (site `_pipeline`, sensor `<client-id>/<metric>`) go through the same flush
path as sensor readings: stored, or spooled while the store is down, so the dashboard shows
the pipeline's history without gaps once the store is back.
"""

from __future__ import annotations

import threading
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from stadtpuls.pipeline import PIPELINE_SITE, PipelineFigure, pipeline_sensor
from stadtpuls.reading import Reading
from stadtpuls.timebase import NS_PER_S
from stadtpuls.units import Quantity

# Buckets around what an InfluxDB batch write takes: 1 ms (SQLite, tiny) to 10 s (timeout).
_WRITE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Readings per batch write: a few (a quiet site) to the batch cap (a backlog, `ingest.batching`).
_SIZE_BUCKETS = (10, 100, 1_000, 2_500, 5_000, 10_000, 20_000, 50_000)


class IngestMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.messages = Counter("stadtpuls_ingest_messages", "MQTT messages handled, by outcome "
                                "(accepted: readings stored or spooled; rejected: dead-lettered)",
                                ["outcome"], registry=r)
        self.accepted = self.messages.labels(outcome="accepted")
        self.rejected = self.messages.labels(outcome="rejected")
        self.retained_skipped = Counter("stadtpuls_ingest_retained_skipped",
                                        "Retained messages the broker sent at (re)subscribe "
                                        "without a time of their own: acked, not stored again",
                                        registry=r)
        self.refused_at_edge = Counter("stadtpuls_ingest_refused_at_edge",
                                       "Messages dead-lettered by an edge limit (payload_size, "
                                       "time, unregistered_policy, new_series)", ["limit"],
                                       registry=r)
        self.readings_written = Counter("stadtpuls_ingest_readings_written",
                                        "Readings written to the store (directly or from the "
                                        "spool)", registry=r)
        self.readings_unregistered = Counter("stadtpuls_ingest_readings_unregistered",
                                             "Readings of sensors not in the catalogue (stored, "
                                             "marked)", registry=r)
        self.readings_implausible = Counter("stadtpuls_ingest_readings_implausible",
                                            "Readings outside the plausible range (stored, "
                                            "marked)", registry=r)
        self.readings_spooled = Counter("stadtpuls_ingest_readings_spooled",
                                        "Readings put into the on-disk spool", registry=r)
        self.overflows = Counter("stadtpuls_ingest_overflows",
                                 "Times the in-memory queue was full and messages were left "
                                 "unacked at the broker for redelivery", registry=r)
        self.spool_depth = Gauge("stadtpuls_ingest_spool_depth",
                                 "Readings waiting in the on-disk spool", registry=r)
        self.queue_depth = Gauge("stadtpuls_ingest_queue_depth",
                                 "Messages received but not yet handled", registry=r)
        self.write_seconds = Histogram("stadtpuls_ingest_write_seconds",
                                       "Duration of one batch write to the store",
                                       buckets=_WRITE_BUCKETS, registry=r)
        self.write_readings = Histogram("stadtpuls_ingest_write_readings",
                                        "Readings in one batch write to the store (batches "
                                        "grow while the store is busy)",
                                        buckets=_SIZE_BUCKETS, registry=r)
        self.newest_age = Gauge("stadtpuls_ingest_newest_reading_age_seconds",
                                "Age of the newest reading stored or spooled (source time)",
                                registry=r)
        self.broker_connected = Gauge("stadtpuls_ingest_broker_connected",
                                      "1 while connected to the MQTT broker", registry=r)
        self.store_ok = Gauge("stadtpuls_ingest_store_available",
                              "1 while the last store write succeeded", registry=r)
        # Health, one gauge per reason /healthz can answer 503 for (see docs/operations.md).
        self.durable_ok = Gauge("stadtpuls_ingest_durable_ok",
                                "1 while the last spool and dead-letter writes succeeded (0: "
                                "disk full or read-only, nothing can be acked)", registry=r)
        self.worker_alive = Gauge("stadtpuls_ingest_worker_alive",
                                  "1 while the worker and writer threads run", registry=r)
        self.drainer_alive = Gauge("stadtpuls_ingest_drainer_alive",
                                   "1 while the spool drainer runs (0 while it waits to "
                                   "restart after a crash)", registry=r)
        self.oldest_unacked_age = Gauge("stadtpuls_ingest_oldest_unacked_age_seconds",
                                        "Age of the oldest message taken in but not yet "
                                        "acknowledged", registry=r)
        self.drainer_restarts = Counter("stadtpuls_ingest_drainer_restarts",
                                        "Times the spool drainer crashed and was restarted",
                                        registry=r)
        self.deadletters_purged = Counter("stadtpuls_ingest_deadletters_purged",
                                          "Oldest dead letters deleted to keep the count and "
                                          "byte caps", registry=r)
        self.durable_ok.set(1)
        self._newest_ns = 0
        self._lock = threading.Lock()
        self.newest_age.set_function(self.newest_reading_age_s)

    def saw_readings(self, newest_ns: int) -> None:
        if newest_ns > self._newest_ns:
            with self._lock:
                self._newest_ns = max(self._newest_ns, newest_ns)

    def newest_reading_age_s(self) -> float:
        if not self._newest_ns:
            return float("nan")
        return max(0.0, (time.time_ns() - self._newest_ns) / NS_PER_S)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    def pipeline_readings(self, client_id: str, now_ns: int) -> list[Reading]:
        """Current figures as readings: counters cumulative, gauges as they are."""
        sample = self.registry.get_sample_value
        figures: list[tuple[PipelineFigure, Quantity, float | None]] = [
            (PipelineFigure.MESSAGES_ACCEPTED, Quantity.COUNT,
             sample("stadtpuls_ingest_messages_total", {"outcome": "accepted"})),
            (PipelineFigure.MESSAGES_REJECTED, Quantity.COUNT,
             sample("stadtpuls_ingest_messages_total", {"outcome": "rejected"})),
            *((f, Quantity.COUNT, sample(f"stadtpuls_ingest_{f}_total"))
              for f in (PipelineFigure.READINGS_WRITTEN, PipelineFigure.READINGS_UNREGISTERED,
                        PipelineFigure.READINGS_IMPLAUSIBLE, PipelineFigure.READINGS_SPOOLED)),
            *((f, Quantity.COUNT, sample(f"stadtpuls_ingest_{f}"))
              for f in (PipelineFigure.SPOOL_DEPTH, PipelineFigure.BROKER_CONNECTED)),
            # Written while the store is down it is spooled and arrives late, but the
            # pipeline page's history then shows when and how long the store was away.
            (PipelineFigure.STORE_OK, Quantity.COUNT, sample("stadtpuls_ingest_store_available")),
        ]
        age = self.newest_reading_age_s()
        if age == age:  # not NaN: there is a newest reading
            figures.append((PipelineFigure.NEWEST_READING_AGE, Quantity.DURATION, age))
        return [Reading(PIPELINE_SITE, pipeline_sensor(client_id, f), q, now_ns, float(v))
                for f, q, v in figures if v is not None]
