"""PV power now: the whole site large, then each façade orientation and the roof."""

from __future__ import annotations

from dashboard import i18n
from dashboard.i18n import t
from dashboard.kiosk.model import SceneContext, SceneView, Tile, figure
from stadtpuls.catalogue import Role


def build(ctx: SceneContext) -> SceneView | None:
    power = ctx.by_role(Role.PV_POWER)
    total = figure(power, ctx.now_ns)
    if total is None:
        return None
    arrays = ctx.source.catalogue.sites[ctx.site].pv_arrays
    tiles: list[Tile] = []
    for array in arrays:
        if array.kind != "facade":
            continue
        part = figure([s for s in power if s.sensor and s.sensor.array == array.id],
                      ctx.now_ns)
        if part is not None:
            label = t("kiosk.facade", ctx.lang,
                      orientation=t(f"compass.{array.orientation}", ctx.lang))
            tiles.append(ctx.tile(label, i18n.kw_number(part.total, ctx.lang), part.fresh,
                                  unit="kW"))
    roof_ids = {a.id for a in arrays if a.kind == "roof"}
    roof = figure([s for s in power if s.sensor and s.sensor.array in roof_ids], ctx.now_ns)
    if roof is not None:
        tiles.append(ctx.tile(t("kiosk.roof", ctx.lang), i18n.kw_number(roof.total, ctx.lang),
                              roof.fresh, unit="kW"))
    hero = ctx.tile(t("kiosk.pv_now_hero", ctx.lang), i18n.kw_number(total.total, ctx.lang),
                    total.fresh, unit="kW")
    return SceneView("pv_now", t("kiosk.pv_now", ctx.lang), hero, tuple(tiles))
