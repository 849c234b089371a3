"""What each quantity means to a SensorThings client: ObservedProperty and unit of measurement.

Definitions are stable URIs: QUDT quantity kinds where one fits exactly, the EEA air-quality
pollutant vocabulary (the one German and EU air-quality SensorThings services use) for
PM2.5, PM10 and NO2, and a Stadtpuls URN (`urn:stadtpuls:def:quantity:<name>`) where neither
says exactly what Stadtpuls stores (CO2 in ppm, A-weighted noise, counts, radio figures).
Units are each quantity's canonical unit (`stadtpuls.units.CANONICAL_UNIT`, what the store
holds) with its UCUM code and name from the same place (`UNIT_UCUM`, `UNIT_NAME`).
"""

from __future__ import annotations

from dataclasses import dataclass

from stadtpuls.units import CANONICAL_UNIT, UNIT_NAME, UNIT_UCUM, Quantity

UCUM_SPEC = "http://unitsofmeasure.org/ucum.html"
OM_MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"
_QUDT = "http://qudt.org/vocab/quantitykind/"
_EEA = "http://dd.eionet.europa.eu/vocabulary/aq/pollutant/"
_OWN = "urn:stadtpuls:def:quantity:"


@dataclass(frozen=True)
class Meaning:
    name: str
    description: str
    definition: str


MEANINGS: dict[Quantity, Meaning] = {
    Quantity.POWER: Meaning("Power", "Electrical active power.", _QUDT + "Power"),
    Quantity.ENERGY: Meaning("Energy", "Electrical energy, meter reading (cumulative).",
                             _QUDT + "Energy"),
    Quantity.TEMPERATURE: Meaning("Temperature", "Temperature of the air or a room.",
                                  _QUDT + "CelsiusTemperature"),
    Quantity.HUMIDITY: Meaning("Relative humidity", "Relative humidity of the air.",
                               _QUDT + "RelativeHumidity"),
    Quantity.CO2: Meaning("CO2 concentration", "Carbon dioxide in the air, volume fraction.",
                          _OWN + "co2"),
    Quantity.PM2_5: Meaning("PM2.5", "Particulate matter below 2.5 µm, mass concentration.",
                            _EEA + "6001"),
    Quantity.PM10: Meaning("PM10", "Particulate matter below 10 µm, mass concentration.",
                           _EEA + "5"),
    Quantity.NO2: Meaning("NO2", "Nitrogen dioxide, mass concentration.", _EEA + "8"),
    Quantity.NOISE: Meaning("Noise level", "A-weighted sound pressure level.",
                            _OWN + "noise"),
    Quantity.COUNT: Meaning("Count", "Number of events (e.g. bicycles) per interval.",
                            _OWN + "count"),
    Quantity.IRRADIANCE: Meaning("Irradiance", "Solar irradiance on the sensor's plane.",
                                 _QUDT + "Irradiance"),
    Quantity.WIND_SPEED: Meaning("Wind speed", "Horizontal wind speed.",
                                 _QUDT + "Speed"),
    Quantity.PRESSURE: Meaning("Air pressure", "Atmospheric pressure.",
                               _QUDT + "AtmosphericPressure"),
    Quantity.VOLTAGE: Meaning("Voltage", "Electric voltage.", _QUDT + "Voltage"),
    Quantity.BATTERY: Meaning("Battery level", "Battery state of charge.",
                              _OWN + "battery"),
    Quantity.RSSI: Meaning("RSSI", "Received signal strength of the radio link.",
                           _OWN + "rssi"),
    Quantity.SNR: Meaning("SNR", "Signal-to-noise ratio of the radio link.",
                          _OWN + "snr"),
    Quantity.DURATION: Meaning("Duration", "A length of time.", _QUDT + "Time"),
}


def unit_of_measurement(quantity: Quantity) -> dict[str, str]:
    """The Datastream's unitOfMeasurement: the stored (canonical) unit, with its UCUM code."""
    return {"name": UNIT_NAME[quantity], "symbol": CANONICAL_UNIT[quantity],
            "definition": f"{UCUM_SPEC}#{UNIT_UCUM[quantity]}"}
