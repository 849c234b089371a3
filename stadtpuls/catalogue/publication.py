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

from pydantic import BaseModel, ConfigDict, Field

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


def effective(site_class: DataClass, site_licence: LicenceId | None,
              sensor_class: DataClass | None, sensor_licence: LicenceId | None) -> Publication:
    """A sensor's own settings over its site's defaults."""
    return Publication(data_class=sensor_class or site_class,
                       licence=sensor_licence or site_licence)


def missing_licence_message(sensor_id: str) -> str:
    return (f"sensor {sensor_id!r} is public but has no licence; add `licence:` to the sensor "
            f"or its site, one of {', '.join(LICENCES)}")
