"""Shared by the energy scenes: the site's energy (once per minute) and its freshness."""

from __future__ import annotations

from dashboard import i18n
from dashboard.data.cache import bucket_end
from dashboard.data.energy import Balance, site_energy
from dashboard.kiosk.model import Freshness, SceneContext, figure
from stadtpuls.catalogue import Role

_BUCKET_S = 60.0


def year_and_today(ctx: SceneContext) -> tuple[Balance, Balance, Freshness] | None:
    """This year's and today's balance, with the freshness of the PV meters behind them."""
    meters = figure(ctx.by_role(Role.PV_ENERGY), ctx.now_ns) or figure(
        ctx.by_role(Role.PV_POWER), ctx.now_ns)
    if meters is None:
        return None
    end = bucket_end(ctx.now_ns, _BUCKET_S)
    energy = ctx.source.reader.memo(("kiosk-energy", ctx.site, end),
                                    lambda: site_energy(ctx.source, ctx.site), _BUCKET_S)
    today, year = energy.balances["today"], energy.balances["year"]
    if today.pv_wh is None and year.pv_wh is None:
        return None
    return year, today, meters.fresh


def mass_parts(kg: float | None, lang: str) -> tuple[str, str]:
    """(number, unit): kg below 10 t, t above."""
    if kg is None:
        return "–", ""
    if abs(kg) >= 10_000:
        return i18n.fmt_number(kg / 1000, lang, 1), "t"
    return i18n.fmt_number(kg, lang, 0 if abs(kg) >= 100 else 1), "kg"
