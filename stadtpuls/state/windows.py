"""The windows a snapshot answers per series, from the catalogue and its alert rules.

The health rules (`stadtpuls.health`) stay the one home for what the windows are; this only
asks them, so the snapshot and a raw scan look at the same [end − window, end).
"""

from __future__ import annotations

from stadtpuls.catalogue.models import Catalogue
from stadtpuls.health import stuck_checked, stuck_window_s
from stadtpuls.reading import SeriesKey
from stadtpuls.state.tracker import Windows


def catalogue_windows(catalogue: Catalogue) -> Windows:
    table: dict[SeriesKey, tuple[float | None, float | None]] = {}
    for site, sensor in catalogue.sensors():
        limits = catalogue.alerts.limits_for(site, sensor)
        full = limits.completeness_window_s if limits.completeness_enabled else None
        stuck = stuck_window_s(sensor, limits) if stuck_checked(sensor, limits) else None
        table[SeriesKey(site, sensor.id, sensor.quantity)] = (full, stuck)

    def windows(key: SeriesKey) -> tuple[float | None, float | None]:
        return table.get(key, (None, None))

    return windows
