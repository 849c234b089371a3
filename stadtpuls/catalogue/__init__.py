"""Site catalogue: schema (`models`) and validating loader (`loader`)."""

from stadtpuls.catalogue.display import Display, Night, Scene
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
    "Display",
    "Inverter",
    "LocalizedText",
    "Night",
    "PVArray",
    "Problem",
    "Role",
    "Scene",
    "Sensor",
    "Site",
    "load_catalogue",
]
