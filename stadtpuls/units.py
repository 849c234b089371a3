"""Quantities, their canonical units, and conversion at the boundary.

Everything stored is in the canonical unit of its quantity (ARCHITECTURE.md §3), so a chart or
a KPI never has to ask which unit a sensor happened to send. Conversion happens once, where a
value enters the system (decoder, simulator, catalogue); an unknown unit is an error, never a
guess.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class Quantity(StrEnum):
    """What a reading measures; doubles as the storage measurement name."""

    POWER = "power"
    ENERGY = "energy"
    TEMPERATURE = "temperature"
    HUMIDITY = "humidity"
    CO2 = "co2"
    PM2_5 = "pm2_5"
    PM10 = "pm10"
    NO2 = "no2"
    NOISE = "noise"
    COUNT = "count"
    IRRADIANCE = "irradiance"
    WIND_SPEED = "wind_speed"
    PRESSURE = "pressure"
    VOLTAGE = "voltage"
    BATTERY = "battery"
    RSSI = "rssi"
    SNR = "snr"
    DURATION = "duration"


CANONICAL_UNIT: dict[Quantity, str] = {
    Quantity.POWER: "W",
    Quantity.ENERGY: "Wh",
    Quantity.TEMPERATURE: "°C",
    Quantity.HUMIDITY: "%",
    Quantity.CO2: "ppm",
    Quantity.PM2_5: "µg/m³",
    Quantity.PM10: "µg/m³",
    Quantity.NO2: "µg/m³",
    Quantity.NOISE: "dB(A)",
    Quantity.COUNT: "count",
    Quantity.IRRADIANCE: "W/m²",
    Quantity.WIND_SPEED: "m/s",
    Quantity.PRESSURE: "hPa",
    Quantity.VOLTAGE: "V",
    Quantity.BATTERY: "%",
    Quantity.RSSI: "dBm",
    Quantity.SNR: "dB",
    Quantity.DURATION: "s",
}


# The canonical units for machines and people who do not read symbols: the UCUM code
# (https://ucum.org, what SensorThings and the open-data files name) and the unit's name.
UNIT_UCUM: dict[Quantity, str] = {
    Quantity.POWER: "W",
    Quantity.ENERGY: "W.h",
    Quantity.TEMPERATURE: "Cel",
    Quantity.HUMIDITY: "%",
    Quantity.CO2: "[ppm]",
    Quantity.PM2_5: "ug/m3",
    Quantity.PM10: "ug/m3",
    Quantity.NO2: "ug/m3",
    Quantity.NOISE: "dB",
    Quantity.COUNT: "{count}",
    Quantity.IRRADIANCE: "W/m2",
    Quantity.WIND_SPEED: "m/s",
    Quantity.PRESSURE: "hPa",
    Quantity.VOLTAGE: "V",
    Quantity.BATTERY: "%",
    Quantity.RSSI: "dB[mW]",
    Quantity.SNR: "dB",
    Quantity.DURATION: "s",
}
UNIT_NAME: dict[Quantity, str] = {
    Quantity.POWER: "watt",
    Quantity.ENERGY: "watt hour",
    Quantity.TEMPERATURE: "degree Celsius",
    Quantity.HUMIDITY: "percent",
    Quantity.CO2: "parts per million",
    Quantity.PM2_5: "microgram per cubic metre",
    Quantity.PM10: "microgram per cubic metre",
    Quantity.NO2: "microgram per cubic metre",
    Quantity.NOISE: "decibel (A-weighted)",
    Quantity.COUNT: "count",
    Quantity.IRRADIANCE: "watt per square metre",
    Quantity.WIND_SPEED: "metre per second",
    Quantity.PRESSURE: "hectopascal",
    Quantity.VOLTAGE: "volt",
    Quantity.BATTERY: "percent",
    Quantity.RSSI: "decibel-milliwatt",
    Quantity.SNR: "decibel",
    Quantity.DURATION: "second",
}


class UnitError(ValueError):
    """A unit that cannot be converted to the quantity's canonical unit."""


@dataclass(frozen=True, slots=True)
class _Linear:
    """value_canonical = value * factor + offset."""

    factor: float
    offset: float = 0.0

    def __call__(self, value: float) -> float:
        return value * self.factor + self.offset


_IDENTITY = _Linear(1.0)

# Spellings seen in the wild (SenML RFC 8428 §12.1 names such as "Cel" and "W/m2", ASCII
# fallbacks such as "ug/m3") map to one conversion each. Keys are matched case-sensitively
# because "mW" and "MW" differ by a factor of 10^9.
_CONVERSIONS: dict[Quantity, dict[str, _Linear]] = {
    Quantity.POWER: {
        "W": _IDENTITY,
        "mW": _Linear(1e-3),
        "kW": _Linear(1e3),
        "MW": _Linear(1e6),
        "VA": _IDENTITY,
    },
    Quantity.ENERGY: {
        "Wh": _IDENTITY,
        "kWh": _Linear(1e3),
        "MWh": _Linear(1e6),
        "J": _Linear(1 / 3600),
        "kJ": _Linear(1e3 / 3600),
        "MJ": _Linear(1e6 / 3600),
    },
    Quantity.TEMPERATURE: {
        "°C": _IDENTITY,
        "Cel": _IDENTITY,
        "degC": _IDENTITY,
        "C": _IDENTITY,
        "K": _Linear(1.0, -273.15),
        "°F": _Linear(5 / 9, -32 * 5 / 9),
        "degF": _Linear(5 / 9, -32 * 5 / 9),
        "F": _Linear(5 / 9, -32 * 5 / 9),
    },
    Quantity.HUMIDITY: {"%": _IDENTITY, "%RH": _IDENTITY, "/": _Linear(100.0)},
    Quantity.CO2: {"ppm": _IDENTITY, "ppb": _Linear(1e-3), "%": _Linear(1e4)},
    Quantity.PM2_5: {},
    Quantity.PM10: {},
    Quantity.NO2: {},
    Quantity.NOISE: {"dB(A)": _IDENTITY, "dBA": _IDENTITY, "dB": _IDENTITY},
    Quantity.COUNT: {"count": _IDENTITY, "1": _IDENTITY, "{count}": _IDENTITY, "": _IDENTITY},
    Quantity.IRRADIANCE: {"W/m²": _IDENTITY, "W/m2": _IDENTITY, "kW/m2": _Linear(1e3)},
    Quantity.WIND_SPEED: {"m/s": _IDENTITY, "km/h": _Linear(1 / 3.6), "kn": _Linear(0.514444)},
    Quantity.PRESSURE: {
        "hPa": _IDENTITY, "mbar": _IDENTITY, "Pa": _Linear(1e-2), "kPa": _Linear(10.0)
    },
    Quantity.VOLTAGE: {"V": _IDENTITY, "mV": _Linear(1e-3)},
    Quantity.BATTERY: {"%": _IDENTITY, "%EL": _IDENTITY, "/": _Linear(100.0)},
    Quantity.RSSI: {"dBm": _IDENTITY, "dBW": _Linear(1.0, 30.0)},
    Quantity.SNR: {"dB": _IDENTITY},
    Quantity.DURATION: {"s": _IDENTITY, "ms": _Linear(1e-3), "min": _Linear(60.0),
                        "h": _Linear(3600.0)},
}
for _q in (Quantity.PM2_5, Quantity.PM10, Quantity.NO2):
    _CONVERSIONS[_q].update(
        {"µg/m³": _IDENTITY, "ug/m3": _IDENTITY, "μg/m³": _IDENTITY, "mg/m3": _Linear(1e3)}
    )


def known_units(quantity: Quantity) -> list[str]:
    """Units accepted for a quantity, canonical first."""
    canonical = CANONICAL_UNIT[quantity]
    return [canonical, *sorted(u for u in _CONVERSIONS[quantity] if u and u != canonical)]


def converter(quantity: Quantity, unit: str | None) -> Callable[[float], float]:
    """Return a function converting values in `unit` to the quantity's canonical unit.

    `None` means "already canonical". Raises UnitError naming the accepted units.
    """
    if unit is None:
        return _IDENTITY
    conv = _CONVERSIONS[quantity].get(unit.strip())
    if conv is None:
        raise UnitError(
            f"unit {unit!r} is not known for quantity {quantity.value!r}; "
            f"use one of: {', '.join(known_units(quantity))}"
        )
    return conv


def to_canonical(quantity: Quantity, value: float, unit: str | None) -> float:
    """Convert one value; see `converter` for the rules."""
    return converter(quantity, unit)(value)


def parse_quantity(name: str) -> Quantity:
    """Quantity by its name, or a ValueError listing the known ones."""
    try:
        return Quantity(name)
    except ValueError:
        known = ", ".join(q.value for q in Quantity)
        raise ValueError(f"unknown quantity {name!r}; known quantities: {known}") from None
