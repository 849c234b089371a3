"""Site catalogue: schema (`models`) and validating loader (`loader`)."""

from stadtpuls.catalogue.loader import CatalogueError, Problem, load_catalogue
from stadtpuls.catalogue.models import (
    Catalogue,
    Inverter,
    LocalizedText,
    PVArray,
    Role,
    Sensor,
    Site,
)

__all__ = [
    "Catalogue",
    "CatalogueError",
    "Inverter",
    "LocalizedText",
    "PVArray",
    "Problem",
    "Role",
    "Sensor",
    "Site",
    "load_catalogue",
]
