"""Which scene a screen shows now: decided by the server from the wall clock.

The rotation is a pure function of epoch seconds and the durations of the scenes that have
data (`pick`): every screen and every request agree on the current scene without any state
in the browser, a screen that reconnects after an outage lands in the right place, and a
test can name the scene for any instant. A scene without current data is left out of the
cycle; if none has data, the screen shows the clock rather than nothing.

The scene views of a screen are built once per live bucket for all its viewers (cached in
the shared cache); their data comes through the same cached queries as the pages, so more
screens cost no more store queries.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from dashboard.data.cache import bucket_end
from dashboard.data.source import DataSource
from dashboard.data.status import SensorState, sensor_states
from dashboard.kiosk.model import SceneContext, SceneView
from dashboard.kiosk.scenes import builders
from stadtpuls.catalogue import Display, Scene
from stadtpuls.timebase import NS_PER_S

_CLOCK = Scene(type="clock", seconds=60)


def pick(durations: Sequence[float], now_s: float) -> tuple[int, float]:
    """(position in `durations`, seconds until the next change) at epoch second `now_s`.

    The cycle starts at the epoch, so the answer depends on nothing but the clock.
    """
    cycle = sum(durations)
    at = now_s % cycle
    for i, seconds in enumerate(durations):
        if at < seconds:
            return i, seconds - at
        at -= seconds
    return len(durations) - 1, 0.0  # rounding at the cycle's end


@dataclass(frozen=True)
class Programme:
    """The scenes of a screen at one moment: by day, or the night's set."""

    scenes: tuple[Scene, ...]
    night: bool
    dim: bool


def programme(display: Display, local: datetime) -> Programme:
    night = display.night
    if night is None or not night.covers(local.time()):
        return Programme(tuple(display.scenes), False, False)
    if night.mode == "clock":
        return Programme((_CLOCK,), True, True)
    if night.mode == "scenes" and night.scenes:
        return Programme(tuple(night.scenes), True, True)
    return Programme(tuple(display.scenes), True, True)


@dataclass(frozen=True)
class Frame:
    """What one poll of a screen answers."""

    screen: str
    scene: SceneView
    position: int
    """Index of the scene among those with data (0-based)."""
    count: int
    next_in_s: float
    night: bool
    dim: bool

    def to_json(self) -> dict[str, Any]:
        return {"screen": self.screen, "scene": self.scene.to_json(), "position": self.position,
                "count": self.count, "next_in_s": round(self.next_in_s, 3),
                "night": self.night, "dim": self.dim}


def views(source: DataSource, display: Display, scenes: Sequence[Scene], lang: str
          ) -> list[SceneView | None]:
    """Each scene built now (None: no current data), in order."""
    now = source.now_ns()
    states_by_site: dict[str, tuple[SensorState, ...]] = {}
    out: list[SceneView | None] = []
    for scene in scenes:
        site = scene.site or display.site
        if site not in states_by_site:
            states_by_site[site] = tuple(sensor_states(source, site=site,
                                                       with_completeness=False))
        ctx = SceneContext(source, scene, site, lang, now, states_by_site[site])
        view = builders()[scene.type](ctx)
        place = source.catalogue.sites[site].name.get(lang)
        out.append(None if view is None else replace(view, place=place))
    return out


def frame(source: DataSource, name: str, display: Display, lang: str) -> Frame:
    """The scene screen `name` shows now."""
    now_ns = source.now_ns()
    local = datetime.fromtimestamp(now_ns / NS_PER_S, tz=source.zone(display.site))
    plan = programme(display, local)
    bucket = source.settings.live_bucket_s
    end = bucket_end(now_ns, bucket)
    # Keyed by night or day, not by the scenes (catalogue models with lists do not hash).
    built = source.reader.memo(("kiosk", name, lang, plan.night, end),
                               lambda: views(source, display, plan.scenes, lang), bucket)
    shown = [(scene, view) for scene, view in zip(plan.scenes, built, strict=True)
             if view is not None]
    if not shown:
        # No scene has data (the store or the sensors are failing): the fallback clock is
        # shared per bucket like the scenes, not rebuilt on every poll of every screen.
        clock = source.reader.memo(("kiosk-clock", name, lang, end),
                                   lambda: views(source, display, [_CLOCK], lang)[0], bucket)
        assert clock is not None  # the clock always has something to show
        shown = [(_CLOCK, clock)]
    position, next_in = pick([scene.seconds for scene, _ in shown], now_ns / NS_PER_S)
    return Frame(name, shown[position][1], position, len(shown),
                 next_in if math.isfinite(next_in) else 0.0, plan.night, plan.dim)
