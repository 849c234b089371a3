"""Which sensors' data may leave Stadtpuls through the open-data interfaces, and under what licence.

Every sensor is `public`, `internal` or `personal`; a site sets the default and a sensor may
override it. Closed by default: a site that says nothing is `internal`, so a new sensor is never
published by accident. `personal` marks data about people (e.g. a meeting room's occupancy);
it is treated like `internal` by the interfaces and exists so a city can see at a glance what
must never be switched to public without a data-protection review.

Licences are the ones German open-data portals (GovData, DCAT-AP.de) know by URI; the short
names are those of the Datenlizenz Deutschland and Creative Commons.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

DataClass = Literal["public", "internal", "personal"]
LicenceId = Literal["dl-de/by-2-0", "dl-de/zero-2-0", "CC-BY-4.0", "CC0-1.0"]

# DCAT-AP.de licence vocabulary (https://www.dcat-ap.de/def/licenses/) and the licence texts.
LICENCES: dict[str, tuple[str, str]] = {
    "dl-de/by-2-0": ("http://dcat-ap.de/def/licenses/dl-by-de/2.0",
                     "https://www.govdata.de/dl-de/by-2-0"),
    "dl-de/zero-2-0": ("http://dcat-ap.de/def/licenses/dl-zero-de/2.0",
                       "https://www.govdata.de/dl-de/zero-2-0"),
    "CC-BY-4.0": ("http://dcat-ap.de/def/licenses/cc-by/4.0",
                  "https://creativecommons.org/licenses/by/4.0/"),
    "CC0-1.0": ("http://dcat-ap.de/def/licenses/cc-zero",
                "https://creativecommons.org/publicdomain/zero/1.0/"),
}

# Full names, for file headers and pages (German, as the licences are titled).
LICENCE_NAMES: dict[str, str] = {
    "dl-de/by-2-0": "Datenlizenz Deutschland – Namensnennung – Version 2.0",
    "dl-de/zero-2-0": "Datenlizenz Deutschland – Zero – Version 2.0",
    "CC-BY-4.0": "Creative Commons Namensnennung 4.0 International (CC BY 4.0)",
    "CC0-1.0": "Creative Commons Zero 1.0 Universal (CC0 1.0)",
}


class Publication(BaseModel):
    """A sensor's effective classification after the site's default is applied."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    data_class: DataClass = Field(description="public, internal or personal.")
    licence: LicenceId | None = Field(None, description="Licence of public data.")

    @property
    def is_public(self) -> bool:
        return self.data_class == "public" and self.licence is not None

    @property
    def licence_uri(self) -> str | None:
        """The DCAT-AP.de licence URI, for catalogues."""
        return LICENCES[self.licence][0] if self.licence else None

    @property
    def licence_text_url(self) -> str | None:
        """Where a person reads the licence, for CSV headers and pages."""
        return LICENCES[self.licence][1] if self.licence else None

    @property
    def licence_name(self) -> str | None:
        return LICENCE_NAMES[self.licence] if self.licence else None


def effective(site_class: DataClass, site_licence: LicenceId | None,
              sensor_class: DataClass | None, sensor_licence: LicenceId | None) -> Publication:
    """A sensor's own settings over its site's defaults."""
    return Publication(data_class=sensor_class or site_class,
                       licence=sensor_licence or site_licence)


def missing_licence_message(sensor_id: str) -> str:
    return (f"sensor {sensor_id!r} is public but has no licence; add `licence:` to the sensor "
            f"or its site, one of {', '.join(LICENCES)}")


# -- who publishes: the catalogue-level `open_data:` section ---------------------------------

# DCAT-AP.de levels of political coverage (https://www.dcat-ap.de/def/politicalGeocoding/Level/).
GeocodingLevel = Literal["federal", "state", "administrativeDistrict", "district",
                         "municipality"]
_GEOCODING_LEVEL_BASE = "http://dcat-ap.de/def/politicalGeocoding/Level/"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Texts(_Section):
    de: str = Field(min_length=1, description="German text.")
    en: str = Field(min_length=1, description="English text.")


class Publisher(_Section):
    name: str = Field(min_length=1, description="Name of the publishing body, e.g. the city.")
    uri: HttpUrl = Field(description="A stable URI of the publisher (its web site will do).")


class Contact(_Section):
    name: str = Field(min_length=1, description="Office or team answering questions.")
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
                       description="E-mail address of the contact point.")
    url: HttpUrl | None = Field(None, description="Contact form, if any.")


class OpenData(_Section):
    """Who publishes the public sensors' data, for the DCAT-AP.de catalogue and the CSV
    headers (docs/opendata.md)."""

    title: Texts = Field(description="Title of the data catalogue.")
    description: Texts = Field(description="One or two sentences about the catalogue.")
    publisher: Publisher = Field(description="dct:publisher of catalogue and datasets.")
    contact: Contact = Field(description="dcat:contactPoint of every dataset.")
    attribution: str = Field(min_length=1, description=(
        "Attribution text licences such as dl-de/by-2-0 ask for, e.g. 'Stadt Freiburg im "
        "Breisgau, Stadtpuls'."))
    political_geocoding_uri: HttpUrl = Field(description=(
        "dcatde:politicalGeocodingURI, e.g. http://dcat-ap.de/def/politicalGeocoding/"
        "municipalityKey/08311000 for Freiburg (its AGS)."))
    political_geocoding_level: GeocodingLevel = Field(
        "municipality", description="dcatde:politicalGeocodingLevelURI, the last path part.")
    contributor_id: HttpUrl | None = Field(None, description=(
        "dcatde:contributorID that GovData assigned to the publisher, if any."))
    keywords: list[str] = Field(default_factory=list, description="dcat:keyword of every "
                                "dataset (German), e.g. Sensordaten, Umwelt.")

    @property
    def political_geocoding_level_uri(self) -> str:
        return _GEOCODING_LEVEL_BASE + self.political_geocoding_level
