"""Fakes shared by the ingest's unit tests: a tiny decoder and a store that fails on demand.

The store is a real `SQLiteStore`; `FailingStore` puts it into a failing state on demand
(down: StoreUnavailable; a refused sensor: StoreRejected), the way InfluxDB behaves when
stopped or when it refuses a point. The decoder is a tiny local one (`TinyDecoder`), because
these tests are about what happens after decoding.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from ingest.decoders.contract import Rejected
from stadtpuls.reading import Reading
from stadtpuls.store import StoreRejected, StoreUnavailable
from stadtpuls.store.sqlite import SQLiteStore
from stadtpuls.units import Quantity

SITE = "testsite"
T0 = 1_700_000_000_000_000_000


class TinyDecoder:
    """`{"sensor": "a", "ts": <ns>, "v": 1.5}` -> one COUNT reading; anything else rejected."""

    def __init__(self, known: set[str] | None = None) -> None:
        self.known = known

    def decode(self, topic: str, payload: bytes, received_at_ns: int) -> list[Reading]:
        try:
            doc = json.loads(payload)
            sensor, ts, value = doc["sensor"], int(doc["ts"]), float(doc["v"])
        except (ValueError, KeyError, TypeError) as exc:
            raise Rejected(f"not a tiny payload: {type(exc).__name__}") from None
        if self.known is not None and sensor not in self.known:
            raise Rejected(f"unknown sensor {sensor!r}")
        return [Reading(SITE, sensor, Quantity.COUNT, ts, value)]


class FailingStore(SQLiteStore):
    """A real SQLite store that can be switched into the failures the ingest must survive."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.down = False
        self.refused_sensors: set[str] = set()
        self.write_calls = 0

    def write(self, readings: Sequence[Reading]) -> None:
        self.write_calls += 1
        if self.down:
            raise StoreUnavailable("test store is down")
        bad = [r for r in readings if r.sensor in self.refused_sensors]
        if bad:
            raise StoreRejected(f"refused sensor {bad[0].sensor}")
        super().write(readings)


def payload(sensor: str, i: int, value: float | None = None) -> bytes:
    return json.dumps({"sensor": sensor, "ts": T0 + i, "v": float(i if value is None else value)
                       }).encode()
