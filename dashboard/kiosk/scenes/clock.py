"""The time and date in the site's zone: always available, the night's quiet scene."""

from __future__ import annotations

from datetime import datetime

from dashboard.i18n import MONTHS_DE, t
from dashboard.kiosk.model import SceneContext, SceneView, Tile
from stadtpuls.timebase import NS_PER_S

_DAYS = {"de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag",
                "Sonntag"),
         "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")}
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December")


def build(ctx: SceneContext) -> SceneView | None:
    local = datetime.fromtimestamp(ctx.now_ns / NS_PER_S, tz=ctx.source.zone(ctx.site))
    day = _DAYS["en" if ctx.lang == "en" else "de"][local.weekday()]
    if ctx.lang == "en":
        date = f"{day}, {local.day} {_MONTHS_EN[local.month - 1]} {local.year}"
    else:
        date = f"{day}, {local.day}. {MONTHS_DE[local.month - 1]} {local.year}"
    return SceneView("clock", t("kiosk.clock", ctx.lang), Tile(date, f"{local:%H:%M}"))
