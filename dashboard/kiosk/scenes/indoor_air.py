"""Indoor air of the public rooms: CO₂ per room in words and numbers, with temperature.

The words follow the Umweltbundesamt's guide values for CO₂ indoors (Ad-hoc-Arbeitsgruppe
Innenraumrichtwerte, 2008): below 1,000 ppm harmless, 1,000–2,000 ppm conspicuous (air the
room), above 2,000 ppm unacceptable.
"""

from __future__ import annotations

from dashboard import i18n
from dashboard.data.status import SensorState
from dashboard.i18n import t
from dashboard.kiosk.model import MAX_TILES, SceneContext, SceneView, Tile, figure
from stadtpuls.catalogue import Role

GOOD_BELOW_PPM = 1_000.0
POOR_ABOVE_PPM = 2_000.0


def _tone(ppm: float) -> str:
    return "good" if ppm < GOOD_BELOW_PPM else "fair" if ppm <= POOR_ABOVE_PPM else "poor"


def build(ctx: SceneContext) -> SceneView | None:
    rooms = ctx.scene.rooms or list(dict.fromkeys(
        s.sensor.room for s in ctx.states if s.sensor is not None and s.sensor.room))
    tiles: list[Tile] = []
    for room in rooms:  # rooms without current data are skipped, then the next one shows
        if len(tiles) == MAX_TILES:
            break
        def of(role: Role, room: str = room) -> list[SensorState]:
            return [s for s in ctx.by_role(role) if s.sensor and s.sensor.room == room]

        co2 = figure(of(Role.ROOM_CO2), ctx.now_ns)
        if co2 is None:
            continue
        ppm = max(co2.values)
        # No verdict on the air from an old value: "fresh air" is a claim about now.
        tone = "" if co2.fresh.delayed else _tone(ppm)
        notes = [t(f"kiosk.air_{tone}", ctx.lang)] if tone else []
        temperature = figure(of(Role.ROOM_TEMPERATURE), ctx.now_ns)
        if temperature is not None and not temperature.fresh.delayed:
            notes.append(i18n.fmt_value(temperature.mean, "°C", ctx.lang, 1))
        humidity = figure(of(Role.ROOM_HUMIDITY), ctx.now_ns)
        if humidity is not None and not humidity.fresh.delayed:
            notes.append(i18n.fmt_value(humidity.mean, "%", ctx.lang, 0))
        tiles.append(ctx.tile(room, i18n.fmt_number(ppm, ctx.lang, 0), co2.fresh,
                              unit="ppm CO₂", note=" · ".join(notes), tone=tone))
    if not tiles:
        return None
    return SceneView("indoor_air", t("kiosk.indoor_air", ctx.lang), None, tuple(tiles))
