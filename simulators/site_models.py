"""The physics each catalogue role reports: a site's shared models, computed once and only
when a sensor needs them (`SiteModels`), and the map from role to model (`ROLE_MODELS`).

A new sensor with a known role needs no code; a new role is one entry here (and its model in
`building`, `climate`, `street`, `pv` or `sky`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

import numpy as np

from simulators import building, climate, street
from simulators.calendar import Clock, FloatArray
from simulators.noise import Streams
from simulators.pv import simulate_pv
from simulators.sky import Sky, simulate_sky
from stadtpuls.catalogue.models import Role, Sensor, Site


class SiteModels:
    """The site's shared models, each computed once and only if a sensor needs it."""

    def __init__(self, site_id: str, site: Site, clock: Clock, streams: Streams,
                 step_s: int) -> None:
        self.site_id = site_id
        self.site = site
        self.clock = clock
        self.streams = streams
        self.step_s = step_s
        self._rooms: dict[str, climate.RoomClimate] = {}

    def sensor_key(self, sensor: Sensor) -> str:
        return f"sensor:{self.site_id}:{sensor.id}"

    @cached_property
    def sky(self) -> Sky:
        return simulate_sky(self.site, self.clock, self.streams)

    @cached_property
    def pv(self) -> dict[str, FloatArray]:
        return simulate_pv(self.site, self.sky) if self.site.pv_arrays else {}

    @cached_property
    def pv_total(self) -> FloatArray:
        total: FloatArray = np.zeros(self.clock.times_s.size)
        for ac in self.pv.values():
            total = total + ac
        return total

    @property
    def has_building(self) -> bool:
        building_roles = {Role.CONSUMPTION_POWER, Role.CONSUMPTION_ENERGY,
                          Role.GRID_IMPORT_ENERGY, Role.GRID_EXPORT_ENERGY}
        return self.site.staff is not None or any(
            s.role in building_roles for s in self.site.sensors
        )

    @cached_property
    def occupancy(self) -> FloatArray:
        return building.occupancy(self.clock, self.streams, f"building:{self.site_id}")

    @cached_property
    def load(self) -> FloatArray:
        return building.simulate_load(self.site, self.clock, self.sky, self.streams,
                                      f"building:{self.site_id}")

    def room(self, sensor: Sensor) -> climate.RoomClimate:
        name = sensor.room or sensor.id
        if name not in self._rooms:
            self._rooms[name] = climate.simulate_room(
                f"{self.site_id}:{name}", self.clock, self.sky, self.occupancy, self.streams,
                self.step_s,
            )
        return self._rooms[name]

    def street_key(self, sensor: Sensor) -> str:
        # Air sensors of one device (or place) share their air: pm2_5 and pm10 of one station
        # must see the same episode.
        return f"street:{self.site_id}:{sensor.device or sensor.position.description or sensor.id}"

    def white(self, sensor: Sensor, resolution_s: int = 60) -> FloatArray:
        return self.streams.white(self.sensor_key(sensor), self.clock.times_s, resolution_s)


def _pv_array(ctx: SiteModels, sensor: Sensor) -> FloatArray:
    assert sensor.array is not None  # check_roles
    return ctx.pv[sensor.array]


def _irradiance(ctx: SiteModels, sensor: Sensor) -> FloatArray:
    noise = ctx.white(sensor)
    # A pyranometer reads slightly negative at night (thermal offset of its dome).
    night = np.where(ctx.sky.ghi <= 0.0, -1.2 + 0.4 * noise, 0.0)
    result: FloatArray = ctx.sky.ghi * (1.0 + 0.01 * noise) + night
    return result


def _air_temperature(ctx: SiteModels, sensor: Sensor) -> FloatArray:
    result: FloatArray = ctx.sky.temp_air + 0.08 * ctx.white(sensor)
    return result


def _pm2_5(ctx: SiteModels, sensor: Sensor) -> FloatArray:
    result: FloatArray = street.pm2_5(ctx.clock, ctx.sky, ctx.streams, ctx.street_key(sensor)) * (
        1.0 + 0.04 * ctx.white(sensor)
    )
    return result


def _pm10(ctx: SiteModels, sensor: Sensor) -> FloatArray:
    key = ctx.street_key(sensor)
    fine = street.pm2_5(ctx.clock, ctx.sky, ctx.streams, key)
    result: FloatArray = street.pm10(ctx.clock, ctx.sky, ctx.streams, key, fine) * (
        1.0 + 0.04 * ctx.white(sensor)
    )
    return result


def _no2(ctx: SiteModels, sensor: Sensor) -> FloatArray:
    result: FloatArray = street.no2(ctx.clock, ctx.sky, ctx.streams, ctx.street_key(sensor)) * (
        1.0 + 0.03 * ctx.white(sensor)
    )
    return result


ROLE_MODELS: dict[Role, Callable[[SiteModels, Sensor], FloatArray]] = {
    Role.PV_POWER: _pv_array,
    Role.PV_ENERGY: _pv_array,
    Role.CONSUMPTION_POWER: lambda ctx, _s: ctx.load,
    Role.CONSUMPTION_ENERGY: lambda ctx, _s: ctx.load,
    Role.GRID_IMPORT_ENERGY: lambda ctx, _s: np.clip(ctx.load - ctx.pv_total, 0.0, None),
    Role.GRID_EXPORT_ENERGY: lambda ctx, _s: np.clip(ctx.pv_total - ctx.load, 0.0, None),
    Role.IRRADIANCE: _irradiance,
    Role.AIR_TEMPERATURE: _air_temperature,
    Role.WIND_SPEED: lambda ctx, _s: ctx.sky.wind_speed,
    Role.ROOM_TEMPERATURE: lambda ctx, s: ctx.room(s).temperature,
    Role.ROOM_HUMIDITY: lambda ctx, s: ctx.room(s).humidity,
    Role.ROOM_CO2: lambda ctx, s: ctx.room(s).co2,
    Role.BIKE_COUNT: lambda ctx, s: street.bike_rate(ctx.clock, ctx.sky, ctx.streams,
                                                     ctx.street_key(s)),
    Role.PM2_5: _pm2_5,
    Role.PM10: _pm10,
    Role.NO2: _no2,
    Role.NOISE: lambda ctx, s: street.noise_level(ctx.clock, ctx.sky, ctx.streams,
                                                  ctx.street_key(s), ctx.step_s),
}
