"""CO₂ the site's PV avoided this year (large) and today, with the factor named."""

from __future__ import annotations

from dashboard import i18n
from dashboard.i18n import t
from dashboard.kiosk.model import SceneContext, SceneView
from dashboard.kiosk.scenes._energy import mass_parts, year_and_today


def build(ctx: SceneContext) -> SceneView | None:
    found = year_and_today(ctx)
    if found is None or found[0].co2_avoided_kg is None:
        return None
    year, today, fresh = found
    value, unit = mass_parts(year.co2_avoided_kg, ctx.lang)
    hero = ctx.tile(t("kiosk.this_year", ctx.lang), value, fresh, unit=unit)
    value, unit = mass_parts(today.co2_avoided_kg, ctx.lang)
    tiles = (ctx.tile(t("kiosk.today", ctx.lang), value, fresh, unit=unit),)
    factor = i18n.fmt_number(ctx.source.settings.grid_co2_g_per_kwh, ctx.lang, 0)
    return SceneView("co2_avoided", t("kiosk.co2_avoided", ctx.lang), hero, tiles,
                     t("kiosk.co2_factor", ctx.lang, factor=factor))
