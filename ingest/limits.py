"""Limits at the edge: what the ingest refuses before it trusts a message (issue 9).

A city runs the ingest for years on a shared network with sensors from many vendors, so the
size, the time and the number of what comes in are bounded before they cost memory, crash a
writer or grow the database without end:

- payload size: a payload above `max_payload_bytes` is dead-lettered before it is decoded;
  its dead letter keeps the size (in the reason) and the first `DEAD_LETTER_HEAD_BYTES`;
- SenML records per pack: `max_pack_records`;
- time: a reading more than `max_future_s` ahead of its reception, or older than
  `retention_days` before it, is dead-lettered (this also keeps every time storable);
- new series: at most `new_series_per_hour` new unregistered series per site and hour
  (`ingest.series_budget`).

Every check is an integer comparison per message or per reading.
"""

from __future__ import annotations

from dataclasses import dataclass

from stadtpuls.settings import SettingsError
from stadtpuls.timebase import NS_PER_DAY, NS_PER_S

MAX_PAYLOAD_BYTES = 262_144
"""Default payload limit (256 KiB); the shipped Mosquitto config's `max_packet_size` matches."""
MAX_PACK_RECORDS = 10_000
MAX_FUTURE_S = 300
RETENTION_DAYS = 3_650
NEW_SERIES_PER_HOUR = 100
DEAD_LETTER_HEAD_BYTES = 4_096
SPOOL_MAX_BYTES = 4 * 1024**3
"""Bytes the on-disk spool may hold, payloads kept for dead-lettering included."""
"""What a dead letter keeps of an oversized payload: enough to see what sent it."""

TOO_LARGE = "payload too large"
"""How the reason of a truncated dead letter starts; the replay leaves those alone."""
TIME_OUT_OF_RANGE = "time out of range"
UNREGISTERED_REFUSED = "unregistered sensor refused"
NEW_SERIES_LIMIT = "new series limit"
STORABLE_RANGE = "outside the storable range"
# How each edge refusal's reason starts -> its label in stadtpuls_ingest_refused_at_edge.
EDGE_REFUSALS = {TOO_LARGE: "payload_size", TIME_OUT_OF_RANGE: "time",
                 UNREGISTERED_REFUSED: "unregistered_policy", NEW_SERIES_LIMIT: "new_series"}


@dataclass(frozen=True)
class EdgeLimits:
    max_payload_bytes: int = MAX_PAYLOAD_BYTES
    max_pack_records: int = MAX_PACK_RECORDS
    max_future_s: int = MAX_FUTURE_S
    retention_days: int = RETENTION_DAYS
    new_series_per_hour: int = NEW_SERIES_PER_HOUR

    def __post_init__(self) -> None:
        for flag, value in (("--max-payload-bytes", self.max_payload_bytes),
                            ("--max-pack-records", self.max_pack_records),
                            ("--retention-days", self.retention_days)):
            if value <= 0:
                raise SettingsError(f"{flag} must be positive, not {value}")
        for flag, value in (("--max-future-s", self.max_future_s),
                            ("--new-series-per-hour", self.new_series_per_hour)):
            if value < 0:
                raise SettingsError(f"{flag} must be 0 or positive, not {value}")

    @property
    def max_future_ns(self) -> int:
        return self.max_future_s * NS_PER_S

    @property
    def max_age_ns(self) -> int:
        return self.retention_days * NS_PER_DAY


def too_large_reason(size: int, limit: int) -> str:
    return (f"{TOO_LARGE}: {size} bytes, the limit is {limit} (--max-payload-bytes); the dead "
            f"letter keeps the first {min(size, DEAD_LETTER_HEAD_BYTES)} bytes")


def edge_refusal(reason: str) -> str | None:
    """The label of the edge limit a dead letter's reason names, or None."""
    head = reason.split(":", 1)[0]
    if head not in EDGE_REFUSALS and STORABLE_RANGE in reason:
        return "time"  # a decoder's own check, for times beyond what int64 ns can hold
    return EDGE_REFUSALS.get(head)


def is_truncated(reason: str) -> bool:
    """Whether a dead letter holds only the head of its payload (replaying it would store a
    prefix of the message as if it were the whole)."""
    return reason.startswith(TOO_LARGE)
