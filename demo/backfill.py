"""The demo's history: the simulator's catch-up messages decoded straight into the store.

A week of both sites is about 180,000 messages; the embedded broker (amqtt) would need a minute
for them. Decoding them in-process with the ingest's own `MessageDecoder` stores exactly what
the ingest would have stored, in seconds, and the simulator run then continues live through
the broker (same meters, same faults), so history and live data join without a seam. As in
the ingest, a message that does not decode, or whose readings the store refuses, becomes a
dead letter.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from ingest.deadletter import DeadLetterStore, NewDeadLetter
from ingest.decoders.contract import ReadingDecoder, Rejected
from simulators.messages import OutboundMessage
from stadtpuls.reading import Reading
from stadtpuls.refusal import origins_from_counts, write_isolating
from stadtpuls.store.protocol import StoreWriter

log = logging.getLogger("stadtpuls.demo")


class BackfillSink:
    """Decodes catch-up messages and writes their readings in batches."""

    def __init__(self, decoder: ReadingDecoder, store: StoreWriter, dead_letters: Path,
                 batch: int = 20_000,
                 on_stored: Callable[[Sequence[Reading]], None] | None = None) -> None:
        self._decoder = decoder
        self._store = store
        self._on_stored = on_stored
        self._dead = DeadLetterStore(dead_letters)
        self._batch = batch
        self._pending: list[Reading] = []
        self._messages: list[OutboundMessage] = []  # parallel to _counts
        self._counts: list[int] = []  # readings per message, consecutive in _pending
        self.readings = 0
        self.rejected = 0

    def __call__(self, message: OutboundMessage) -> None:
        try:
            # The message's own time stands in for the reception time: payloads without a
            # timestamp (raw sensors) must land at the moment they were "sent".
            readings = self._decoder.decode(message.topic, message.payload, message.time_ns)
        except Rejected as exc:
            self._dead_letter([(message, exc.reason)])
            return
        self._pending.extend(readings)
        self._messages.append(message)
        self._counts.append(len(readings))
        if len(self._pending) >= self._batch:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            counts = self._counts
            kept, refused = write_isolating(self._store, self._pending,
                                            lambda: origins_from_counts(counts))
            self._dead_letter([(self._messages[i], reason) for i, reason in refused.items()])
            self.readings += len(kept)
            if self._on_stored is not None:
                self._on_stored(kept)
            self._pending, self._messages, self._counts = [], [], []

    def _dead_letter(self, letters: list[tuple[OutboundMessage, str]]) -> None:
        if letters:
            self.rejected += len(letters)
            self._dead.add_many([NewDeadLetter(m.time_ns, m.topic, m.payload, reason)
                                 for m, reason in letters])

    def close(self) -> None:
        self.flush()
        self._dead.close()
