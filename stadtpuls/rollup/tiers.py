"""The roll-up tiers and the row each tier keeps per series and window.

Tiers are aligned to the epoch (UTC): a 15-minute or hourly window serves every time zone
with whole-quarter-hour offsets; a local day is 24 hourly rows (see `planning`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from stadtpuls.reading import SeriesKey
from stadtpuls.timebase import NS_PER_S
from stadtpuls.units import Quantity


class Tier(StrEnum):
    M15 = "15m"
    H1 = "1h"
    D1 = "1d"

    @property
    def width_ns(self) -> int:
        return _WIDTH_S[self] * NS_PER_S

    @property
    def finer(self) -> Tier | None:
        """The tier this one is computed from (None: from raw readings)."""
        index = TIERS.index(self)
        return TIERS[index - 1] if index else None

    @property
    def table(self) -> str:
        """SQLite table name; also the InfluxDB measurement prefix (`rollup_1h_power`)."""
        return f"rollup_{self.value}"


_WIDTH_S = {Tier.M15: 900, Tier.H1: 3_600, Tier.D1: 86_400}
TIERS: tuple[Tier, ...] = (Tier.M15, Tier.H1, Tier.D1)
ENERGY_QUANTITIES = (Quantity.ENERGY, Quantity.POWER)
"""Quantities whose rows carry the energy in the window: meters (Wh) and power (W)."""


def floor_to(t_ns: int, width_ns: int) -> int:
    return t_ns - t_ns % width_ns


def ceil_to(t_ns: int, width_ns: int) -> int:
    return -floor_to(-t_ns, width_ns)


@dataclass(frozen=True)
class RollupRow:
    """One series in one window [start_ns, start_ns + width).

    `count_all` counts every reading; all other figures describe the plausible readings only
    (what charts and KPIs show), so `minimum` … `last` are None when `count` is 0.
    `energy` (Wh) is set for energy and power only: a meter's increase over (start, end],
    surviving resets; power integrated over [start, end) without bridging gaps.
    """

    key: SeriesKey
    start_ns: int
    count_all: int
    count: int
    total: float
    minimum: float | None = None
    maximum: float | None = None
    first_ns: int | None = None
    first: float | None = None
    last_ns: int | None = None
    last: float | None = None
    energy: float | None = None

    @property
    def mean(self) -> float | None:
        return self.total / self.count if self.count else None
