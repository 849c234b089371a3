"""The open-data URL scheme, in one place. These paths are a public promise: stable.

    /opendata                                     landing page (dashboard page)
    /opendata/catalog.ttl | .jsonld | .rdf        DCAT-AP.de catalogue (also /opendata/catalog
                                                  with content negotiation)
    /opendata/files/<site>/<sensor>/              index of a dataset's files
    /opendata/files/<site>/<sensor>/<YYYY-MM-DD>.csv   one local day
    /opendata/files/<site>/<sensor>/<YYYY-MM>.csv      one local month
    /sta/v1.1                                     OGC SensorThings API (opendata/sta/)
"""

from __future__ import annotations

from urllib.parse import quote

from opendata.datasets import Dataset
from opendata.sta.ids import stable_id

LANDING = "/opendata"
CATALOG = "/opendata/catalog"
FILES = "/opendata/files"
STA_ROOT = "/sta/v1.1"
CATALOG_FORMATS = {
    "ttl": "text/turtle",
    "jsonld": "application/ld+json",
    "rdf": "application/rdf+xml",
}


def _slug(dataset: Dataset) -> str:
    return f"{quote(dataset.site_id, safe='')}/{quote(dataset.sensor.id, safe='')}"


def files_index(dataset: Dataset) -> str:
    return f"{FILES}/{_slug(dataset)}/"


def file_path(dataset: Dataset, label: str) -> str:
    """`label` is a day (YYYY-MM-DD) or a month (YYYY-MM)."""
    return f"{FILES}/{_slug(dataset)}/{label}.csv"


def sta_datastreams(dataset: Dataset) -> str:
    """The dataset's Datastream in the SensorThings service (its stable numeric id)."""
    return f"{STA_ROOT}/Datastreams({stable_id('Datastream', dataset.site_id, dataset.sensor.id)})"
