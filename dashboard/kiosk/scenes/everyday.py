"""This year's PV energy in everyday terms: households supplied, car kilometres avoided.

Factors and their sources: `dashboard/data/source.py` and dashboard/README.md (kiosk).
"""

from __future__ import annotations

from dashboard import i18n
from dashboard.i18n import t
from dashboard.kiosk.model import SceneContext, SceneView
from dashboard.kiosk.scenes._energy import year_and_today


def build(ctx: SceneContext) -> SceneView | None:
    found = year_and_today(ctx)
    if found is None:
        return None
    year, _, fresh = found
    if year.pv_wh is None or year.co2_avoided_kg is None:
        return None
    settings = ctx.source.settings
    households = year.pv_wh / 1000 / settings.household_kwh_per_year
    car_km = year.co2_avoided_kg * 1000 / settings.car_g_co2_per_km
    hero = ctx.tile(t("kiosk.households", ctx.lang),
                    i18n.fmt_number(households, ctx.lang, 1 if households < 10 else 0), fresh,
                    note=t("kiosk.everyday_note", ctx.lang,
                           energy=" ".join(i18n.energy_parts(year.pv_wh, ctx.lang))))
    tiles = (ctx.tile(t("kiosk.car_km", ctx.lang), i18n.fmt_number(car_km, ctx.lang, 0),
                      fresh, unit="km"),)
    factors = t("kiosk.everyday_factors", ctx.lang,
                household=i18n.fmt_number(settings.household_kwh_per_year, ctx.lang, 0),
                car=i18n.fmt_number(settings.car_g_co2_per_km, ctx.lang, 0))
    return SceneView("everyday", t("kiosk.everyday", ctx.lang), hero, tiles, factors)
