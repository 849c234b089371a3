"""Turn one MQTT message into `Reading`s, or reject it with a reason.

INTERFACE STUB written by the lead; the decoders engineer replaces the body, keeping the
public names and signatures below.
"""

from __future__ import annotations

from stadtpuls.catalogue import Catalogue
from stadtpuls.reading import Reading


class Rejected(Exception):
    """The message cannot be stored; `reason` is one line for the dead-letter store."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MessageDecoder:
    """Decoder registry + validation against the catalogue. Pure: no I/O, thread-safe."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue

    def subscriptions(self) -> list[str]:
        """MQTT topic filters that cover every topic this catalogue can receive."""
        return ["stadtpuls/#", "v3/+/devices/+/up"]

    def decode(self, topic: str, payload: bytes, received_at_ns: int) -> list[Reading]:
        """All readings of the message (canonical units, marks set) or raise Rejected."""
        raise NotImplementedError
