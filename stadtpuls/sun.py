"""Is the sun below the horizon at a site? For the health rule "PV at night is not stuck".

pvlib's solar position (NREL SPA, numpy) for the site's reference point. `import pvlib` takes
about a second, so it happens on first use, never at import; answers are cached per site and
5-minute slot, because an evaluation round asks the same question for every PV sensor of a
site and sunrise does not care about minutes.
"""

from __future__ import annotations

from functools import lru_cache

from stadtpuls.timebase import NS_PER_S

_SLOT_NS = 300 * NS_PER_S
HORIZON_DEG = 0.0


def sun_down(lat: float, lon: float, altitude_m: float, time_ns: int) -> bool:
    """True when the sun's apparent elevation at `time_ns` is below the horizon."""
    return _elevation(lat, lon, altitude_m, time_ns // _SLOT_NS) < HORIZON_DEG


def sun_down_during(lat: float, lon: float, altitude_m: float, start_ns: int,
                    end_ns: int) -> bool:
    """True when the sun is below the horizon at the start or the end of a window.

    A window that reaches into the night may legitimately be flat at zero; a stuck verdict
    for it waits for a window fully in daylight (at most one window later).
    """
    return (sun_down(lat, lon, altitude_m, start_ns)
            or sun_down(lat, lon, altitude_m, end_ns))


@lru_cache(maxsize=65_536)
def _elevation(lat: float, lon: float, altitude_m: float, slot: int) -> float:
    import pandas as pd
    import pvlib

    when = pd.DatetimeIndex([pd.Timestamp(slot * _SLOT_NS, unit="ns", tz="UTC")])
    position = pvlib.solarposition.get_solarposition(when, lat, lon, altitude=altitude_m,
                                                     method="nrel_numpy")
    return float(position["apparent_elevation"].iloc[0])
