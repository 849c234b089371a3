"""PV energy today (large) and this year, and how much of today's use the sun covered."""

from __future__ import annotations

from dashboard import i18n
from dashboard.i18n import t
from dashboard.kiosk.model import SceneContext, SceneView, Tile
from dashboard.kiosk.scenes._energy import year_and_today


def build(ctx: SceneContext) -> SceneView | None:
    found = year_and_today(ctx)
    if found is None:
        return None
    year, today, fresh = found
    value, unit = i18n.energy_parts(today.pv_wh, ctx.lang)
    hero = ctx.tile(t("kiosk.today", ctx.lang), value, fresh, unit=unit)
    tiles: list[Tile] = []
    value, unit = i18n.energy_parts(year.pv_wh, ctx.lang)
    tiles.append(ctx.tile(t("kiosk.this_year", ctx.lang), value, fresh, unit=unit))
    if today.self_sufficiency is not None:
        percent = i18n.fmt_number(today.self_sufficiency * 100, ctx.lang, 0)
        tiles.append(ctx.tile(t("kiosk.self_sufficiency", ctx.lang), percent, fresh, unit="%"))
    return SceneView("energy", t("kiosk.energy", ctx.lang), hero, tuple(tiles))
