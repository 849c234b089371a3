"""Bike trips today at the site's counters, and the newest count."""

from __future__ import annotations

from dashboard import i18n
from dashboard.data.overview import bikes_today
from dashboard.i18n import t
from dashboard.kiosk.model import SceneContext, SceneView, figure
from stadtpuls.catalogue import Role


def build(ctx: SceneContext) -> SceneView | None:
    counters = ctx.by_role(Role.BIKE_COUNT)
    newest = figure(counters, ctx.now_ns)
    if newest is None:
        return None
    today = bikes_today(ctx.source, ctx.site, list(ctx.states))
    interval = min(s.sensor.interval_s for s in counters if s.sensor is not None)
    note = t("kiosk.bikes_last", ctx.lang, n=i18n.fmt_number(newest.total, ctx.lang, 0),
             minutes=i18n.fmt_number(interval / 60, ctx.lang, 0))
    hero = ctx.tile(t("kiosk.bikes_today", ctx.lang), i18n.fmt_number(today, ctx.lang, 0),
                    newest.fresh, note=note)
    return SceneView("bikes", t("kiosk.bikes", ctx.lang), hero)
