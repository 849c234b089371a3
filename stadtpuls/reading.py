"""`Reading`: the one value type that travels from decoder to store to dashboard."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from stadtpuls.timebase import MAX_NS, MIN_NS, from_ns
from stadtpuls.units import Quantity


class SeriesKey(NamedTuple):
    """A stored series' identity: measurement (quantity) plus the tags site and sensor."""

    site: str
    sensor: str
    quantity: Quantity


def check_identifier(kind: str, value: str) -> None:
    """Reject ids that no store can keep faithfully.

    Any printable text is a valid id (quotes, semicolons, unicode: the stores bind them as
    values). Control characters are not: InfluxDB's line protocol cannot carry a newline in a
    tag, and a trailing backslash would escape the separator after it.
    """
    if not value:
        raise ValueError(f"{kind} id is empty")
    if len(value) > 256:
        raise ValueError(f"{kind} id is longer than 256 characters: {value[:40]!r}…")
    if value.endswith("\\"):
        raise ValueError(f"{kind} id {value!r} ends with a backslash")
    if not value.isprintable():
        raise ValueError(f"{kind} id {value!r} contains control characters")


@dataclass(frozen=True, slots=True)
class Reading:
    """One measured value, in the canonical unit of its quantity.

    Identity is (quantity, site, sensor, time_ns): writing the same identity again overwrites
    the value, it never doubles it. `implausible` and `unregistered` are marks, not identity.
    """

    site: str
    sensor: str
    quantity: Quantity
    time_ns: int
    value: float
    implausible: bool = False
    unregistered: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.quantity, Quantity):
            raise TypeError(f"quantity must be a Quantity, not {self.quantity!r}")
        if not MIN_NS <= self.time_ns < MAX_NS:
            # Stores keep signed 64-bit ns (InfluxDB also reserves the extremes); beyond
            # that SQLite raises OverflowError and InfluxDB refuses the whole batch.
            raise ValueError(f"time of {self.site}/{self.sensor} is outside the storable "
                             f"range (1677..2262): {self.time_ns} ns")
        if not math.isfinite(self.value):
            # NaN and ±inf have no line-protocol form and poison every aggregate.
            raise ValueError(f"value of {self.site}/{self.sensor} is not finite: {self.value}")
        check_identifier("site", self.site)
        check_identifier("sensor", self.sensor)

    @property
    def key(self) -> SeriesKey:
        return SeriesKey(self.site, self.sensor, self.quantity)

    @property
    def time(self) -> datetime:
        """Timestamp as an aware UTC datetime (microsecond resolution)."""
        return from_ns(self.time_ns)

