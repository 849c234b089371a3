"""What a scene is made of (tiles with honest freshness) and what a scene module gets.

Every figure on a lobby screen carries the time of the readings behind it. A tile is
*delayed* when its readings are older than their sensors' expected interval allows — the
same rule as the sensor status (`stadtpuls.health.freshness`: late beyond 1.25·I + grace)
— and then says so in words with the time of its last value, dimmed, so a stale number never
looks live.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from dashboard import i18n
from dashboard.data.source import DataSource
from dashboard.data.status import SensorState, Status
from dashboard.i18n import t
from stadtpuls.catalogue import Role, Scene
from stadtpuls.health import freshness as sensor_freshness
from stadtpuls.timebase import NS_PER_S

MAX_TILES = 8
"""The client keeps a fixed pool of tile elements; no scene has more."""


@dataclass(frozen=True)
class Freshness:
    as_of_ns: int
    delayed: bool


@dataclass(frozen=True)
class Tile:
    label: str
    value: str
    """Formatted number, without its unit."""
    unit: str = ""
    note: str = ""
    stamp: str = ""
    """"Stand 14:05" or "Daten verzögert · letzter Wert 13:40"; empty for the clock."""
    delayed: bool = False
    tone: str = ""
    """"", "good", "fair" or "poor": a colour band with words, never colour alone."""

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "value": self.value, "unit": self.unit,
                "note": self.note, "stamp": self.stamp, "delayed": self.delayed,
                "tone": self.tone}


@dataclass(frozen=True)
class SceneView:
    type: str
    title: str
    hero: Tile | None
    """The one large figure; None: tiles only."""
    tiles: tuple[Tile, ...] = ()
    footnote: str = ""
    place: str = ""
    """The name of the site the figures are from (set by the rotation)."""

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "title": self.title, "hero": self.hero and self.hero.to_json(),
                "tiles": [tile.to_json() for tile in self.tiles[:MAX_TILES]],
                "footnote": self.footnote, "place": self.place}


@dataclass(frozen=True)
class SceneContext:
    """Everything a scene module needs; `states` are the scene site's sensors."""

    source: DataSource
    scene: Scene
    site: str
    lang: str
    now_ns: int
    states: tuple[SensorState, ...]

    def by_role(self, *roles: Role) -> list[SensorState]:
        return [s for s in self.states if s.sensor is not None and s.sensor.role in roles]

    def stamp(self, fresh: Freshness) -> str:
        at = i18n.fmt_time(fresh.as_of_ns, self.source.zone(self.site), self.lang, date=False)
        if fresh.delayed:
            age_s = (self.now_ns - fresh.as_of_ns) / NS_PER_S
            if age_s > 20 * 3_600:  # a time alone would read as today's
                at = i18n.fmt_time(fresh.as_of_ns, self.source.zone(self.site), self.lang)
            return t("kiosk.delayed", self.lang, time=at)
        return t("kiosk.as_of", self.lang, time=at)

    def tile(self, label: str, value: str, fresh: Freshness, *, unit: str = "",
             note: str = "", tone: str = "") -> Tile:
        return Tile(label, value, unit, note, self.stamp(fresh), fresh.delayed, tone)


def usable(states: Iterable[SensorState]) -> list[SensorState]:
    """States with a newest reading that is not marked implausible."""
    return [s for s in states if s.last is not None and not s.last.implausible]


def freshness(states: Iterable[SensorState], now_ns: int) -> Freshness | None:
    """Freshness of a figure built from `states`' newest readings; None: no reading at all.

    On time when every one of them is within its interval (the oldest reading's time is the
    stamp: everything shown is at least that new); delayed when any is late or silent (the
    newest reading's time is the stamp: the last value there is).
    """
    rows = [(s.last.time_ns, s.sensor.interval_s) for s in usable(states)
            if s.last is not None and s.sensor is not None]
    if not rows:
        return None
    late = any(sensor_freshness(max(0.0, (now_ns - at) / NS_PER_S), interval)
               in (Status.LATE, Status.SILENT)
               for at, interval in rows)
    if late:
        return Freshness(max(at for at, _ in rows), True)
    return Freshness(min(at for at, _ in rows), False)


def current(states: Iterable[SensorState]) -> list[SensorState]:
    """Not silent, not stuck (a repeated value is no live figure), newest reading plausible:
    the sensors a live figure may use."""
    return [s for s in usable(states) if s.status not in (Status.SILENT, Status.STUCK)]


@dataclass(frozen=True)
class Figure:
    values: tuple[float, ...]
    fresh: Freshness

    @property
    def total(self) -> float:
        return sum(self.values)

    @property
    def mean(self) -> float:
        return sum(self.values) / len(self.values)


def figure(states: Iterable[SensorState], now_ns: int) -> Figure | None:
    """The values behind one figure and their freshness; None when there is no reading.

    A silent sensor's old value is not mixed into a live figure (it shows on the sensors
    page); when every sensor of the figure is silent, their last values are the figure,
    marked delayed.
    """
    states = list(states)
    chosen = current(states) or usable(states)
    fresh = freshness(chosen, now_ns)
    if fresh is None:
        return None
    return Figure(tuple(s.last.value for s in chosen if s.last is not None), fresh)
