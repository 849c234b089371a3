"""The site catalogue's schema: sites, PV arrays, inverters and sensors.

One catalogue describes everything about a sensor that is not a measurement (names, units,
position, expected interval, plausible range, thresholds); ingest, simulators and dashboard
all read it through `stadtpuls.catalogue.load_catalogue`. Unknown keys are errors, so a typo
never silently disables a setting.
"""

from __future__ import annotations

import itertools
import zoneinfo
from collections.abc import Iterator
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from stadtpuls.catalogue.alerts import AlertConfig
from stadtpuls.catalogue.display import Display, check_display_references
from stadtpuls.catalogue.publication import (
    DataClass,
    LicenceId,
    OpenData,
    Publication,
    effective,
    missing_licence_message,
)
from stadtpuls.topics import sensor_topic
from stadtpuls.units import Quantity, UnitError, converter

Identifier = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$",
        description="Lower-case id: letters a-z, digits, '_', '.', '-'; at most 64 characters.",
    ),
]

DecoderName = Literal["json", "raw", "senml", "ttn-v3"]
UnregisteredPolicy = Literal["accept", "dead-letter"]


class Role(StrEnum):
    """What a sensor stands for in the site's model; simulators and KPIs select by role."""

    PV_POWER = "pv_power"
    PV_ENERGY = "pv_energy"
    CONSUMPTION_POWER = "consumption_power"
    CONSUMPTION_ENERGY = "consumption_energy"
    GRID_IMPORT_ENERGY = "grid_import_energy"
    GRID_EXPORT_ENERGY = "grid_export_energy"
    IRRADIANCE = "irradiance"
    AIR_TEMPERATURE = "air_temperature"
    WIND_SPEED = "wind_speed"
    ROOM_TEMPERATURE = "room_temperature"
    ROOM_HUMIDITY = "room_humidity"
    ROOM_CO2 = "room_co2"
    BIKE_COUNT = "bike_count"
    PM2_5 = "pm2_5"
    PM10 = "pm10"
    NO2 = "no2"
    NOISE = "noise"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class LocalizedText(_Model):
    de: str = Field(min_length=1, description="German text, shown by default.")
    en: str = Field(min_length=1, description="English text.")

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.de


class Position(_Model):
    lat: float = Field(ge=-90, le=90, description="Latitude in decimal degrees (WGS 84).")
    lon: float = Field(ge=-180, le=180, description="Longitude in decimal degrees (WGS 84).")
    floor: int | None = Field(None, description="Building floor, 0 = ground floor.")
    description: str | None = Field(None, description="Where to find it, for a technician.")


class Location(_Model):
    lat: float = Field(ge=-90, le=90, description="Latitude in decimal degrees (WGS 84).")
    lon: float = Field(ge=-180, le=180, description="Longitude in decimal degrees (WGS 84).")
    altitude_m: float = Field(0.0, description="Height above sea level in metres.")


class PlausibleRange(_Model):
    min: float = Field(description="Smallest physically plausible value, canonical unit.")
    max: float = Field(description="Largest physically plausible value, canonical unit.")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min >= self.max:
            raise ValueError(f"min ({self.min:g}) must be below max ({self.max:g})")
        return self


class Thresholds(_Model):
    alarm_low: float | None = Field(None, description="Alarm when the value falls below this.")
    warn_low: float | None = Field(None, description="Warn when the value falls below this.")
    warn_high: float | None = Field(None, description="Warn when the value rises above this.")
    alarm_high: float | None = Field(None, description="Alarm when the value rises above this.")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        chain = [
            (name, getattr(self, name))
            for name in ("alarm_low", "warn_low", "warn_high", "alarm_high")
            if getattr(self, name) is not None
        ]
        for (lo_name, lo), (hi_name, hi) in itertools.pairwise(chain):
            if lo > hi:
                raise ValueError(f"{lo_name} ({lo:g}) must not be above {hi_name} ({hi:g})")
        return self


class Inverter(_Model):
    id: Identifier = Field(description="Inverter id, unique within the site.")
    name: LocalizedText = Field(description="Display names.")
    ac_rating_w: float = Field(gt=0, description="Maximum AC output in W; output clips here.")
    efficiency: float = Field(
        0.965, gt=0.5, le=1.0, description="Nominal (weighted) DC→AC efficiency, 0..1."
    )


class PVArray(_Model):
    id: Identifier = Field(description="Array id, unique within the site.")
    name: LocalizedText = Field(description="Display names.")
    kind: Literal["facade", "roof"] = Field(description="Where the modules are mounted.")
    orientation: str = Field(description="Compass label shown to users, e.g. 'SE'.")
    modules: int = Field(gt=0, description="Number of modules.")
    peak_power_w: float = Field(gt=0, description="DC nameplate power in Wp (STC).")
    tilt_deg: float = Field(ge=0, le=90, description="Tilt from horizontal; 90 = vertical façade.")
    azimuth_deg: float = Field(
        ge=0, lt=360, description="Direction the modules face: 0 = N, 90 = E, 180 = S."
    )
    inverter: Identifier = Field(description="Id of the inverter this array feeds.")
    temp_coefficient: float = Field(
        -0.0037, le=0, description="Relative power change per kelvin of cell temperature."
    )
    system_losses: float = Field(
        0.08, ge=0, lt=0.5, description="Wiring, soiling, mismatch losses as a fraction."
    )


class Sensor(_Model):
    id: Identifier = Field(description="Sensor id, unique within the site; the storage tag.")
    name: LocalizedText = Field(description="Display names.")
    quantity: Quantity = Field(description="What it measures; the storage measurement.")
    unit: str | None = Field(
        None, description="Unit the sensor sends; converted to the canonical unit at ingest."
    )
    role: Role | None = Field(None, description="Its part in the site model (simulators, KPIs).")
    array: Identifier | None = Field(None, description="PV array id, for PV sensors.")
    room: str | None = Field(None, description="Room name, for indoor climate sensors.")
    topic: str | None = Field(
        None, description="MQTT topic; default stadtpuls/<site>/<sensor id>."
    )
    decoder: DecoderName = Field("json", description="Payload decoder for its topic.")
    field: str | None = Field(
        None, description="Key of its value in a multi-value payload (JSON, TTN decoded_payload)."
    )
    device: str | None = Field(None, description="LoRaWAN device id, for the ttn-v3 decoder.")
    position: Position = Field(description="Where the sensor is.")
    interval_s: float = Field(gt=0, description="Expected seconds between readings.")
    plausible: PlausibleRange = Field(
        description="Canonical-unit range; values outside are stored but marked implausible."
    )
    thresholds: Thresholds | None = Field(
        None, description="Optional warn/alarm levels in the canonical unit."
    )
    labels: dict[str, str] = Field(default_factory=dict, description="Free-form labels.")
    data_class: DataClass | None = Field(None, description=(
        "public, internal or personal; default the site's. Only public data leaves through "
        "the open-data interfaces."))
    licence: LicenceId | None = Field(None, description="Licence of public data; default the "
                                      "site's.")

    def is_plausible(self, value: float) -> bool:
        """The plausibility rule: `value`, in the canonical unit, within `plausible`.

        The ingest marks readings by it; the simulators keep their values and spikes inside
        it and put only the implausible fault outside it.
        """
        return self.plausible.min <= value <= self.plausible.max

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        try:
            converter(self.quantity, self.unit)
        except UnitError as exc:
            raise ValueError(str(exc)) from None
        if self.decoder == "ttn-v3" and not self.device:
            raise ValueError("a ttn-v3 sensor needs 'device': its LoRaWAN device id")
        if self.topic is not None and ("+" in self.topic or "#" in self.topic):
            raise ValueError(f"topic {self.topic!r} contains an MQTT wildcard; give the "
                             "exact topic the sensor publishes on")
        return self


class Site(_Model):
    name: LocalizedText = Field(description="Display names.")
    description: LocalizedText | None = Field(None, description="One sentence about the site.")
    address: str | None = Field(None, description="Postal address.")
    location: Location = Field(description="Reference point for solar position and the map.")
    timezone: str = Field(description="IANA zone for local days, e.g. Europe/Berlin.")
    staff: int | None = Field(None, ge=0, description="People working on site (load profile).")
    inverters: list[Inverter] = Field(default_factory=list, description="PV inverters.")
    pv_arrays: list[PVArray] = Field(default_factory=list, description="PV arrays.")
    sensors: list[Sensor] = Field(description="Every sensor of the site.")
    unregistered: UnregisteredPolicy = Field(
        "accept", description="What the ingest does with readings of sensors that are not in "
        "this catalogue: 'accept' stores them marked unregistered (shown on /sensors), "
        "'dead-letter' refuses them with the reason, so made-up ids add no series.")
    data_class: DataClass = Field("internal", description=(
        "Default classification of the site's sensors: public, internal (the default: nothing "
        "is published by accident) or personal."))
    licence: LicenceId | None = Field(None, description="Default licence of public sensors.")

    @field_validator("timezone")
    @classmethod
    def _zone_exists(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as "
                             "'Europe/Berlin'") from None
        return value

    @model_validator(mode="after")
    def _references(self) -> Self:
        _unique("inverters", [i.id for i in self.inverters])
        _unique("pv_arrays", [a.id for a in self.pv_arrays])
        _unique("sensors", [s.id for s in self.sensors])
        inverters = {i.id for i in self.inverters}
        for array in self.pv_arrays:
            if array.inverter not in inverters:
                raise ValueError(f"pv array {array.id!r} names unknown inverter "
                                 f"{array.inverter!r}; known: {sorted(inverters)}")
        arrays = {a.id for a in self.pv_arrays}
        for sensor in self.sensors:
            if sensor.array is not None and sensor.array not in arrays:
                raise ValueError(f"sensor {sensor.id!r} names unknown pv array "
                                 f"{sensor.array!r}; known: {sorted(arrays)}")
            if (self.publication(sensor).data_class == "public"
                    and not self.publication(sensor).is_public):
                raise ValueError(missing_licence_message(sensor.id))
        return self

    def publication(self, sensor: Sensor) -> Publication:
        """`sensor`'s classification and licence, its own over the site's defaults."""
        return effective(self.data_class, self.licence, sensor.data_class, sensor.licence)


class Catalogue(_Model):
    version: Literal[1] = Field(description="Catalogue format version.")
    sites: dict[Identifier, Site] = Field(min_length=1, description="Sites by id.")
    alerts: AlertConfig = Field(default_factory=AlertConfig,
                                description="Alert rules, recipients and routing.")
    # Public display screens (stadtpuls/catalogue/display.py), by screen name.
    displays: dict[Identifier, Display] = Field(
        default_factory=dict, description="Lobby screens by name; URL /kiosk/<name>.")
    open_data: OpenData | None = Field(None, description="Publisher and contact of the public "
                                       "sensors' data (stadtpuls/catalogue/publication.py).")

    @model_validator(mode="after")
    def _alert_references(self) -> Self:
        self.alerts.check_references({k: {s.id for s in v.sensors} for k, v in self.sites.items()})
        return self

    @field_validator("displays")
    @classmethod
    def _display_references(cls, displays: dict[str, Display], info: ValidationInfo
                            ) -> dict[str, Display]:
        # A field validator (not a model one) so the problem line points at `displays`.
        sites: dict[str, Site] | None = info.data.get("sites")
        if sites is None:
            return displays  # the sites are wrong already; that is the one problem to fix
        check_display_references(displays, {
            site_id: {s.room for s in site.sensors if s.room} for site_id, site in
            sites.items()})
        return displays

    def sensors(self, site: str | None = None) -> Iterator[tuple[str, Sensor]]:
        """(site id, sensor) pairs, in catalogue order, optionally of one site."""
        for site_id, entry in self.sites.items():
            if site is None or site == site_id:
                for sensor in entry.sensors:
                    yield site_id, sensor

    def sensor(self, site: str, sensor_id: str) -> Sensor | None:
        entry = self.sites.get(site)
        if entry is None:
            return None
        return next((s for s in entry.sensors if s.id == sensor_id), None)

    def public_sensors(self) -> Iterator[tuple[str, Sensor, Publication]]:
        """(site id, sensor, publication) of every sensor whose data may be published."""
        for site_id, entry in self.sites.items():
            for sensor in entry.sensors:
                publication = entry.publication(sensor)
                if publication.is_public:
                    yield site_id, sensor, publication

    @staticmethod
    def topic_of(site: str, sensor: Sensor) -> str:
        """The MQTT topic a sensor publishes on (ARCHITECTURE.md §7 default layout)."""
        return sensor.topic or sensor_topic(site, sensor.id)


def _unique(what: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for item in ids:
        if item in seen:
            raise ValueError(f"{what}: id {item!r} is used twice")
        seen.add(item)
