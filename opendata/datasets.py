"""The published datasets: one per public sensor, with what a catalogue says about it.

A dataset is one sensor's series (site, sensor, quantity). Its theme and high-value-dataset
category follow from the quantity: air quality, noise and weather are the "Earth observation
and environment" and "Meteorological" categories of Implementing Regulation (EU) 2023/138;
energy and bicycle counts are published too, but are no high-value category.
"""

from __future__ import annotations

from dataclasses import dataclass

from stadtpuls.catalogue import Catalogue
from stadtpuls.catalogue.models import Sensor, Site
from stadtpuls.catalogue.publication import Publication
from stadtpuls.reading import SeriesKey
from stadtpuls.units import CANONICAL_UNIT, UNIT_UCUM, Quantity

EU_THEME = "http://publications.europa.eu/resource/authority/data-theme/"
HVD_ENVIRONMENT = "http://data.europa.eu/bna/c_dd313021"  # Earth observation and environment
HVD_METEOROLOGICAL = "http://data.europa.eu/bna/c_164e0bf5"
HVD_REGULATION = "http://data.europa.eu/eli/reg_impl/2023/138/oj"

# quantity -> (EU data theme code, high-value-dataset category or None)
_THEMES: dict[Quantity, tuple[str, str | None]] = {
    Quantity.POWER: ("ENER", None), Quantity.ENERGY: ("ENER", None),
    Quantity.VOLTAGE: ("ENER", None),
    Quantity.TEMPERATURE: ("ENVI", HVD_METEOROLOGICAL),
    Quantity.HUMIDITY: ("ENVI", HVD_METEOROLOGICAL),
    Quantity.PRESSURE: ("ENVI", HVD_METEOROLOGICAL),
    Quantity.WIND_SPEED: ("ENVI", HVD_METEOROLOGICAL),
    Quantity.IRRADIANCE: ("ENVI", HVD_METEOROLOGICAL),
    Quantity.PM2_5: ("ENVI", HVD_ENVIRONMENT), Quantity.PM10: ("ENVI", HVD_ENVIRONMENT),
    Quantity.NO2: ("ENVI", HVD_ENVIRONMENT), Quantity.CO2: ("ENVI", HVD_ENVIRONMENT),
    Quantity.NOISE: ("ENVI", HVD_ENVIRONMENT),
    Quantity.COUNT: ("TRAN", None),
}


@dataclass(frozen=True)
class Dataset:
    """One public sensor's readings."""

    site_id: str
    site: Site
    sensor: Sensor
    publication: Publication

    @property
    def key(self) -> SeriesKey:
        return SeriesKey(self.site_id, self.sensor.id, self.sensor.quantity)

    @property
    def slug(self) -> str:
        """`<site>/<sensor>`: the dataset's path in every open-data URL."""
        return f"{self.site_id}/{self.sensor.id}"

    @property
    def unit(self) -> str:
        return CANONICAL_UNIT[self.sensor.quantity]

    @property
    def ucum(self) -> str:
        return UNIT_UCUM[self.sensor.quantity]

    @property
    def theme_uri(self) -> str:
        return EU_THEME + _THEMES.get(self.sensor.quantity, ("TECH", None))[0]

    @property
    def hvd_category(self) -> str | None:
        return _THEMES.get(self.sensor.quantity, ("TECH", None))[1]

    def title(self, lang: str) -> str:
        return f"{self.sensor.name.get(lang)} – {self.site.name.get(lang)}"


def public_datasets(catalogue: Catalogue) -> list[Dataset]:
    """Every dataset that may be published, in catalogue order."""
    return [Dataset(site_id, catalogue.sites[site_id], sensor, publication)
            for site_id, sensor, publication in catalogue.public_sensors()]


def find_dataset(catalogue: Catalogue, site_id: str, sensor_id: str) -> Dataset | None:
    """The public dataset of that sensor; None for unknown, internal and personal sensors
    alike, so an answer never tells which sensors exist but are not public."""
    return next((d for d in public_datasets(catalogue)
                 if d.site_id == site_id and d.sensor.id == sensor_id), None)
