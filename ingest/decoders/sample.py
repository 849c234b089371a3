"""The decoders' contract: bytes in, `Sample`s out, or a `DecodeError` naming the cause.

A decoder is a pure function `(topic, payload, received_at_ns) -> list[Sample]`. It knows the
payload format and the topic layouts (ARCHITECTURE.md §7), never the catalogue: a `Sample`
carries what the message says, as sent (quantity name, unit spelling). Matching samples to
catalogue sensors, converting units and setting marks is `ingest.validate`'s job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Sample:
    """One numeric value as a message states it, before validation.

    `site` is None when neither topic nor payload names one (the validator takes it from
    the catalogue). `field` is the key in a multi-value payload (JSON object, TTN
    decoded_payload); `device` the LoRaWAN device id; `health` marks radio and battery
    data of a device rather than a measurement of the world.
    """

    site: str | None
    sensor: str
    time_ns: int
    value: float
    quantity: str | None = None
    unit: str | None = None
    field: str | None = None
    device: str | None = None
    health: bool = False


class DecodeError(Exception):
    """The payload is malformed; `reason` is one line saying what is wrong and where."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


Decoder = Callable[[str, bytes, int], list[Sample]]
"""`(topic, payload, received_at_ns) -> samples`; raises DecodeError, nothing else."""
