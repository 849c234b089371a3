"""The batch builder: messages in, a `Batch` out when it is due. Pure: no I/O, one thread.

`add` decodes each message as it arrives (a `Rejected` message stays in the batch, in receive
order, marked dead, so it is acked together with its neighbours once its dead letter is
committed); `due` says when the batch is full (`batch_size` readings) or old enough
(`batch_ms` since its first message); `take` hands it over to `ingest.delivery`.

A message the decoder refuses as too large (`ingest.limits`) keeps only its first bytes in
the batch: the dead letter needs no more, and the batch must not hold megabytes for it.

Retained messages. The broker sends a topic's retained message at every (re)subscribe, with
the retain flag set (on live delivery the flag is cleared: MQTT 3.1.1 §3.3.1.3, MQTT 5 with
"retain as published" off, as we subscribe). A retained message whose readings carry their
own time is decoded as usual: each redelivery writes the same points again, which the store
absorbs, and nothing is lost when the broker's session was new. One whose readings are timed
at reception (no `ts`) would become a new reading at every ingest start and make a dead
sensor look alive, so it is acked without storing and counted (`skipped_retained`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ingest.decoders.contract import ReadingDecoder, Rejected
from ingest.inbound import INTERNAL, InboundMessage
from ingest.limits import DEAD_LETTER_HEAD_BYTES, is_truncated
from stadtpuls.reading import Reading
from stadtpuls.refusal import origins_from_counts


@dataclass
class Batch:
    """Messages in receive order; readings of message i are `counts[i]` consecutive ones."""

    messages: list[InboundMessage]
    counts: list[int]
    readings: list[Reading]
    dead: list[tuple[int, str]]  # (message index, reason)
    skipped_retained: int = 0  # retained messages timed at reception: acked, not stored
    readings_done: bool = False  # set by delivery once the readings are stored or spooled

    def origins(self) -> list[int]:
        """Message index of every reading."""
        return origins_from_counts(self.counts)


class BatchBuilder:
    def __init__(self, decoder: ReadingDecoder, *, batch_size: int = 5_000,
                 batch_ms: float = 100.0) -> None:
        self.decoder = decoder
        self.batch_size = batch_size
        self.batch_s = batch_ms / 1000.0
        self._reset()

    def _reset(self) -> None:
        self._messages: list[InboundMessage] = []
        self._counts: list[int] = []  # readings per message, parallel to _messages
        self._readings: list[Reading] = []
        self._dead: list[tuple[int, str]] = []  # (message index, reason)
        self._skipped_retained = 0
        self._first_mono = 0.0

    @property
    def pending_messages(self) -> int:
        return len(self._messages)

    def add(self, msg: InboundMessage) -> None:
        """Decode one message into the batch (a rejection is kept as a dead letter to be)."""
        if not self._messages:
            self._first_mono = time.monotonic()
        try:
            readings = self.decoder.decode(msg.topic, msg.payload, msg.received_at_ns)
        except Rejected as exc:
            reason = exc.reason
            if len(msg.payload) > DEAD_LETTER_HEAD_BYTES and is_truncated(reason):
                msg = msg._replace(payload=msg.payload[:DEAD_LETTER_HEAD_BYTES])
        except Exception as exc:  # a decoder bug must not stop the pipeline either
            reason = f"decoder failed: {type(exc).__name__}: {exc}"
        else:
            if msg.retained and _timed_at_reception(readings, msg.received_at_ns):
                self._skipped_retained += 1
                readings = []
            self._messages.append(msg)
            self._counts.append(len(readings))
            self._readings += readings
            return
        self._dead.append((len(self._messages), reason))
        self._messages.append(msg)
        self._counts.append(0)

    def add_internal(self, readings: list[Reading], topic: str = "$internal/pipeline") -> None:
        """Readings the ingest makes itself (pipeline figures): same path, nothing to ack."""
        if not self._messages:
            self._first_mono = time.monotonic()
        self._messages.append(InboundMessage(topic, b"", 0, 0, time.time_ns(), INTERNAL))
        self._counts.append(len(readings))
        self._readings += readings

    def due(self, now_mono: float | None = None) -> bool:
        if not self._messages:
            return False
        if len(self._readings) >= self.batch_size:
            return True
        now = time.monotonic() if now_mono is None else now_mono
        return now - self._first_mono >= self.batch_s

    def seconds_until_due(self) -> float | None:
        if not self._messages:
            return None
        return max(0.0, self._first_mono + self.batch_s - time.monotonic())

    def take(self) -> Batch | None:
        """Hand the batch over and start a new one."""
        if not self._messages:
            return None
        batch = Batch(self._messages, self._counts, self._readings, self._dead,
                      self._skipped_retained)
        self._reset()
        return batch


def _timed_at_reception(readings: list[Reading], received_at_ns: int) -> bool:
    # Decoders time a reading without its own time at the exact reception ns.
    return any(r.time_ns == received_at_ns for r in readings)
