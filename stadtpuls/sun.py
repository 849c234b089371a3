"""Is the sun below the horizon at a site? For the health rule "PV at night is not stuck".

pvlib's solar position (NREL SPA, numpy) for the site's reference point. `import pvlib` takes
about a second, so it happens on first use, never at import. Answers are cached per site and
5-minute slot, because an evaluation round asks the same question for every PV sensor of a
site and sunrise does not care about minutes; `prime` fills a whole range in one pvlib call
(the alert preview walks through a week).
"""

from __future__ import annotations

import threading

from stadtpuls.timebase import NS_PER_S

SLOT_NS = 300 * NS_PER_S
HORIZON_DEG = 0.0
_MAX_CACHED = 200_000

_cache: dict[tuple[float, float, float, int], float] = {}
_lock = threading.Lock()
_import_lock = threading.Lock()


def load() -> None:
    """Import pvlib now (the dashboard warms it up in the background at start).

    Under one lock: a thread that imports it while another is half-way through the same
    import can be handed the half-initialised module (seen: "partially initialized module
    'pvlib' has no attribute 'solarposition'" on the dashboard's first requests)."""
    with _import_lock:
        import pvlib.solarposition  # noqa: F401


def sun_down(lat: float, lon: float, altitude_m: float, time_ns: int) -> bool:
    """True when the sun's apparent elevation at `time_ns` is below the horizon."""
    slot = time_ns // SLOT_NS
    elevation = _cache.get((lat, lon, altitude_m, slot))
    if elevation is None:
        prime(lat, lon, altitude_m, slot * SLOT_NS, (slot + 1) * SLOT_NS)
        elevation = _cache[(lat, lon, altitude_m, slot)]
    return elevation < HORIZON_DEG


def sun_down_during(lat: float, lon: float, altitude_m: float, start_ns: int,
                    end_ns: int) -> bool:
    """True when the sun is below the horizon at the start or the end of a window.

    A window that reaches into the night may legitimately be flat at zero; a stuck verdict
    for it waits for a window fully in daylight (at most one window later).
    """
    return (sun_down(lat, lon, altitude_m, start_ns)
            or sun_down(lat, lon, altitude_m, end_ns))


def prime(lat: float, lon: float, altitude_m: float, start_ns: int, end_ns: int) -> None:
    """Compute every 5-minute slot in [start_ns, end_ns] at once."""
    import pandas as pd

    load()
    import pvlib

    slots = range(start_ns // SLOT_NS, end_ns // SLOT_NS + 1)
    when = pd.DatetimeIndex(pd.to_datetime([s * SLOT_NS for s in slots], unit="ns", utc=True))
    position = pvlib.solarposition.get_solarposition(when, lat, lon, altitude=altitude_m,
                                                     method="nrel_numpy")
    elevations = position["apparent_elevation"].to_numpy(dtype=float).tolist()
    with _lock:
        if len(_cache) > _MAX_CACHED:
            _cache.clear()
        for slot, elevation in zip(slots, elevations, strict=True):
            _cache[(lat, lon, altitude_m, slot)] = elevation
