"""The decoding contract, in two steps, each with its own error.

1. A `PayloadDecoder` is a pure function `(topic, payload, received_at_ns) -> list[Sample]`
   that raises `DecodeError` for malformed input. It knows the payload format and the topic
   layouts (`stadtpuls.topics`), never the catalogue: a `Sample` carries what the message
   says, as sent (quantity name, unit spelling).
2. A `MessageDecoder` (`ingest.decoding`) turns a whole message into `Reading`s with the
   catalogue (matching, unit conversion, marks) or raises `Rejected` with the one-line reason
   the dead-letter store keeps. Whatever consumes decoded messages — the batch builder, the
   dead-letter replay, the demo's backfill — depends on the `ReadingDecoder` protocol only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from stadtpuls.reading import Reading


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


PayloadDecoder = Callable[[str, bytes, int], list[Sample]]
"""`(topic, payload, received_at_ns) -> samples`; raises DecodeError, nothing else."""


class Rejected(Exception):
    """The message cannot be stored; `reason` is one line for the dead-letter store."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ReadingDecoder(Protocol):
    """A whole message to readings; raises `Rejected` and nothing else, whatever the bytes."""

    def decode(self, topic: str, payload: bytes, received_at_ns: int) -> list[Reading]: ...
