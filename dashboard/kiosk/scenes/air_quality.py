"""Air outside: particulates, nitrogen dioxide and noise, each the mean of its sensors."""

from __future__ import annotations

from dashboard import i18n
from dashboard.i18n import t
from dashboard.kiosk.model import SceneContext, SceneView, Tile, figure
from stadtpuls.catalogue import Role

_FIGURES = ((Role.PM2_5, "head.pm2_5", "µg/m³", 0), (Role.PM10, "head.pm10", "µg/m³", 0),
            (Role.NO2, "head.no2", "µg/m³", 0), (Role.NOISE, "head.noise", "dB(A)", 0))


def build(ctx: SceneContext) -> SceneView | None:
    tiles: list[Tile] = []
    for role, key, unit, decimals in _FIGURES:
        found = figure(ctx.by_role(role), ctx.now_ns)
        if found is not None:
            tiles.append(ctx.tile(t(key, ctx.lang), i18n.fmt_number(found.mean, ctx.lang,
                                                                    decimals),
                                  found.fresh, unit=unit))
    if not tiles:
        return None
    return SceneView("air_quality", t("kiosk.air_quality", ctx.lang), None, tuple(tiles))
