"""The demo's history: the simulator's catch-up messages decoded straight into the store.

A week of both sites is about 180,000 messages; the embedded broker (amqtt) would need a minute
for them. Decoding them in-process with the ingest's own `MessageDecoder` stores exactly what
the ingest would have stored, in seconds, and the simulator run then continues live through
the broker (same meters, same faults), so history and live data join without a seam.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ingest.deadletter import DeadLetterStore, NewDeadLetter
from ingest.decoders.contract import Rejected
from ingest.decoding import MessageDecoder
from simulators.messages import OutboundMessage
from stadtpuls.reading import Reading
from stadtpuls.store.protocol import StoreWriter

log = logging.getLogger("stadtpuls.demo")


class BackfillSink:
    """Decodes catch-up messages and writes their readings in batches."""

    def __init__(self, decoder: MessageDecoder, store: StoreWriter, dead_letters: Path,
                 batch: int = 20_000) -> None:
        self._decoder = decoder
        self._store = store
        self._dead = DeadLetterStore(dead_letters)
        self._batch = batch
        self._pending: list[Reading] = []
        self.readings = 0
        self.rejected = 0

    def __call__(self, message: OutboundMessage) -> None:
        try:
            # The message's own time stands in for the reception time: payloads without a
            # timestamp (raw sensors) must land at the moment they were "sent".
            readings = self._decoder.decode(message.topic, message.payload, message.time_ns)
        except Rejected as exc:
            self.rejected += 1
            self._dead.add_many([NewDeadLetter(message.time_ns, message.topic, message.payload,
                                               exc.reason)])
            return
        self._pending.extend(readings)
        if len(self._pending) >= self._batch:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            self._store.write(self._pending)
            self.readings += len(self._pending)
            self._pending = []

    def close(self) -> None:
        self.flush()
        self._dead.close()
