"""What each quantity means to a SensorThings client: ObservedProperty and unit of measurement.

Definitions are stable URIs: QUDT quantity kinds where one fits exactly, the EEA air-quality
pollutant vocabulary (the one German and EU air-quality SensorThings services use) for
PM2.5, PM10 and NO2, and a Stadtpuls URN (`urn:stadtpuls:def:quantity:<name>`) where neither
says exactly what Stadtpuls stores (CO2 in ppm, A-weighted noise, counts, radio figures).
Units are each quantity's canonical unit (`stadtpuls.units.CANONICAL_UNIT`, what the store
holds) with its UCUM code.
"""

from __future__ import annotations

from dataclasses import dataclass

from stadtpuls.units import CANONICAL_UNIT, Quantity

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
    unit_name: str
    ucum: str


MEANINGS: dict[Quantity, Meaning] = {
    Quantity.POWER: Meaning("Power", "Electrical active power.", _QUDT + "Power",
                            "watt", "W"),
    Quantity.ENERGY: Meaning("Energy", "Electrical energy, meter reading (cumulative).",
                             _QUDT + "Energy", "watt hour", "W.h"),
    Quantity.TEMPERATURE: Meaning("Temperature", "Temperature of the air or a room.",
                                  _QUDT + "CelsiusTemperature", "degree Celsius", "Cel"),
    Quantity.HUMIDITY: Meaning("Relative humidity", "Relative humidity of the air.",
                               _QUDT + "RelativeHumidity", "percent", "%"),
    Quantity.CO2: Meaning("CO2 concentration", "Carbon dioxide in the air, volume fraction.",
                          _OWN + "co2", "parts per million", "[ppm]"),
    Quantity.PM2_5: Meaning("PM2.5", "Particulate matter below 2.5 µm, mass concentration.",
                            _EEA + "6001", "microgram per cubic metre", "ug/m3"),
    Quantity.PM10: Meaning("PM10", "Particulate matter below 10 µm, mass concentration.",
                           _EEA + "5", "microgram per cubic metre", "ug/m3"),
    Quantity.NO2: Meaning("NO2", "Nitrogen dioxide, mass concentration.", _EEA + "8",
                          "microgram per cubic metre", "ug/m3"),
    Quantity.NOISE: Meaning("Noise level", "A-weighted sound pressure level.",
                            _OWN + "noise", "decibel (A-weighted)", "dB"),
    Quantity.COUNT: Meaning("Count", "Number of events (e.g. bicycles) per interval.",
                            _OWN + "count", "count", "{count}"),
    Quantity.IRRADIANCE: Meaning("Irradiance", "Solar irradiance on the sensor's plane.",
                                 _QUDT + "Irradiance", "watt per square metre", "W/m2"),
    Quantity.WIND_SPEED: Meaning("Wind speed", "Horizontal wind speed.",
                                 _QUDT + "Speed", "metre per second", "m/s"),
    Quantity.PRESSURE: Meaning("Air pressure", "Atmospheric pressure.",
                               _QUDT + "AtmosphericPressure", "hectopascal", "hPa"),
    Quantity.VOLTAGE: Meaning("Voltage", "Electric voltage.", _QUDT + "Voltage",
                              "volt", "V"),
    Quantity.BATTERY: Meaning("Battery level", "Battery state of charge.",
                              _OWN + "battery", "percent", "%"),
    Quantity.RSSI: Meaning("RSSI", "Received signal strength of the radio link.",
                           _OWN + "rssi", "decibel-milliwatt", "dB[mW]"),
    Quantity.SNR: Meaning("SNR", "Signal-to-noise ratio of the radio link.",
                          _OWN + "snr", "decibel", "dB"),
    Quantity.DURATION: Meaning("Duration", "A length of time.", _QUDT + "Time",
                               "second", "s"),
}


def unit_of_measurement(quantity: Quantity) -> dict[str, str]:
    """The Datastream's unitOfMeasurement: the stored (canonical) unit, with its UCUM code."""
    meaning = MEANINGS[quantity]
    return {"name": meaning.unit_name, "symbol": CANONICAL_UNIT[quantity],
            "definition": f"{UCUM_SPEC}#{meaning.ucum}"}
