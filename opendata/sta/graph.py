"""The catalogue's public sensors as SensorThings entities, and the links between them.

Mapping (one row per public catalogue sensor, which measures exactly one quantity):

| entity | one per | identified by |
| --- | --- | --- |
| Thing | sensor device | (site, sensor) |
| Location | Thing: the sensor's position | (site, sensor) |
| HistoricalLocation | Thing: since its first observation | (site, sensor) |
| Sensor | sensor device: its procedure, metadata = its dashboard page | (site, sensor) |
| ObservedProperty | quantity | quantity |
| Datastream | sensor: the stored series (site, sensor, quantity) | (site, sensor) |
| FeatureOfInterest | Datastream: the point it observes | (site, sensor) |
| Observation | stored reading of the Datastream's series | (Datastream, time) |

A Thing per device (not per site) because each device has its own position, and SensorThings
ties a Location to a Thing; the site stays in every entity's `properties.site`, so a client
can group by it (`$filter=properties/site eq 'stuehlinger'`). Only public sensors become
entities, so internal and personal ones cannot be reached by any path, `$expand` or id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opendata.sta.ids import check_unique, stable_id
from opendata.sta.instant import Instant
from opendata.sta.vocab import MEANINGS, OM_MEASUREMENT, unit_of_measurement
from stadtpuls.catalogue import Catalogue
from stadtpuls.links import sensor_token
from stadtpuls.reading import SeriesKey
from stadtpuls.timebase import NS_PER_S
from stadtpuls.units import UNIT_UCUM


@dataclass(frozen=True)
class Nav:
    target: str  # entity set name
    many: bool


# Navigation properties per entity set (OGC 18-088 §8.2 data model).
NAVIGATION: dict[str, dict[str, Nav]] = {
    "Things": {"Locations": Nav("Locations", True),
               "HistoricalLocations": Nav("HistoricalLocations", True),
               "Datastreams": Nav("Datastreams", True)},
    "Locations": {"Things": Nav("Things", True),
                  "HistoricalLocations": Nav("HistoricalLocations", True)},
    "HistoricalLocations": {"Thing": Nav("Things", False),
                            "Locations": Nav("Locations", True)},
    "Sensors": {"Datastreams": Nav("Datastreams", True)},
    "ObservedProperties": {"Datastreams": Nav("Datastreams", True)},
    "Datastreams": {"Thing": Nav("Things", False), "Sensor": Nav("Sensors", False),
                    "ObservedProperty": Nav("ObservedProperties", False),
                    "Observations": Nav("Observations", True)},
    "Observations": {"Datastream": Nav("Datastreams", False),
                     "FeatureOfInterest": Nav("FeaturesOfInterest", False)},
    "FeaturesOfInterest": {"Observations": Nav("Observations", True)},
}
ENTITY_SETS = tuple(NAVIGATION)
SINGULAR = {"Things": "Thing", "Locations": "Location",
            "HistoricalLocations": "HistoricalLocation", "Sensors": "Sensor",
            "ObservedProperties": "ObservedProperty", "Datastreams": "Datastream",
            "Observations": "Observation", "FeaturesOfInterest": "FeatureOfInterest"}


@dataclass(frozen=True)
class Entity:
    """An entity's own properties; times are `Instant`s, rendered as ISO 8601."""

    set: str
    id: int | str
    props: dict[str, Any]


@dataclass
class Graph:
    """All catalogue-derived entities (Observations and HistoricalLocations come from the store)."""

    entities: dict[str, dict[int, Entity]] = field(default_factory=dict)
    links: dict[tuple[str, int, str], list[int]] = field(default_factory=dict)
    series: dict[int, SeriesKey] = field(default_factory=dict)  # Datastream id -> series
    interval_ns: dict[int, int] = field(default_factory=dict)  # Datastream id -> interval
    thing_of_datastream: dict[int, int] = field(default_factory=dict)
    foi_of_datastream: dict[int, int] = field(default_factory=dict)
    datastream_of_foi: dict[int, int] = field(default_factory=dict)

    def get(self, entity_set: str, iot_id: int) -> Entity | None:
        return self.entities.get(entity_set, {}).get(iot_id)

    def all(self, entity_set: str) -> list[Entity]:
        return sorted(self.entities.get(entity_set, {}).values(), key=lambda e: e.id)

    def linked(self, entity_set: str, iot_id: int, nav: str) -> list[int]:
        return self.links.get((entity_set, iot_id, nav), [])

    def _add(self, entity: Entity) -> None:
        assert isinstance(entity.id, int)  # catalogue entities have numeric ids
        self.entities.setdefault(entity.set, {})[entity.id] = entity

    def _link(self, a_set: str, a_id: int, nav: str, b_id: int) -> None:
        targets = self.links.setdefault((a_set, a_id, nav), [])
        if b_id not in targets:
            targets.append(b_id)


def build_graph(catalogue: Catalogue) -> Graph:
    """Entities of every public sensor; raises RuntimeError on an id collision."""
    graph = Graph()
    for site_id, sensor, publication in catalogue.public_sensors():
        site = catalogue.sites[site_id]
        ids = {kind: stable_id(kind, site_id, sensor.id) for kind in
               ("Thing", "Location", "Sensor", "Datastream", "FeatureOfInterest")}
        op_id = stable_id("ObservedProperty", sensor.quantity.value)
        meaning = MEANINGS[sensor.quantity]
        point = {"type": "Point", "coordinates": [sensor.position.lon, sensor.position.lat]}
        common = {"site": site_id, "sensor": sensor.id, "siteName": site.name.de,
                  "license": publication.licence, "licenseUri": publication.licence_uri,
                  "licenseUrl": publication.licence_text_url}
        graph._add(Entity("Things", ids["Thing"], {
            "name": sensor.name.de,
            "description": f"{sensor.name.de} ({site.name.de})",
            "properties": {**common, "name_en": sensor.name.en,
                           "role": sensor.role.value if sensor.role else None,
                           "room": sensor.room},
        }))
        graph._add(Entity("Locations", ids["Location"], {
            "name": sensor.position.description or f"{site.name.de}: {sensor.name.de}",
            "description": site.address or site.name.de,
            "encodingType": "application/geo+json",
            "location": point,
            "properties": {**common, "floor": sensor.position.floor},
        }))
        graph._add(Entity("Sensors", ids["Sensor"], {
            "name": sensor.name.de,
            "description": f"{meaning.name} sensor '{sensor.id}' of {site.name.en}",
            "encodingType": "text/html",
            # made absolute per request (service.py): the dashboard's sensor page
            "metadata": f"/sensors/{sensor_token(site_id, sensor.id)}",
            "properties": common,
        }))
        graph._add(Entity("ObservedProperties", op_id, {
            "name": meaning.name,
            "definition": meaning.definition,
            "description": meaning.description,
            "properties": {"quantity": sensor.quantity.value},
        }))
        graph._add(Entity("Datastreams", ids["Datastream"], {
            "name": f"{sensor.name.de}: {meaning.name}",
            "description": f"{meaning.name} measured by '{sensor.id}' at {site.name.en}",
            "unitOfMeasurement": unit_of_measurement(sensor.quantity),
            "observationType": OM_MEASUREMENT,
            "observedArea": point,
            "properties": {**common, "quantity": sensor.quantity.value,
                           "ucumCode": UNIT_UCUM[sensor.quantity],
                           "intervalSeconds": sensor.interval_s,
                           "plausibleMin": sensor.plausible.min,
                           "plausibleMax": sensor.plausible.max},
        }))
        graph._add(Entity("FeaturesOfInterest", ids["FeatureOfInterest"], {
            "name": f"{site.name.de}: {sensor.position.description or sensor.name.de}",
            "description": f"The place observed by '{sensor.id}'",
            "encodingType": "application/geo+json",
            "feature": point,
            "properties": common,
        }))
        thing, loc, ds = ids["Thing"], ids["Location"], ids["Datastream"]
        graph._link("Things", thing, "Locations", loc)
        graph._link("Locations", loc, "Things", thing)
        graph._link("Things", thing, "Datastreams", ds)
        graph._link("Sensors", ids["Sensor"], "Datastreams", ds)
        graph._link("ObservedProperties", op_id, "Datastreams", ds)
        graph._link("Datastreams", ds, "Thing", thing)
        graph._link("Datastreams", ds, "Sensor", ids["Sensor"])
        graph._link("Datastreams", ds, "ObservedProperty", op_id)
        graph.series[ds] = SeriesKey(site_id, sensor.id, sensor.quantity)
        graph.interval_ns[ds] = max(1, int(sensor.interval_s * NS_PER_S))
        graph.thing_of_datastream[ds] = thing
        graph.foi_of_datastream[ds] = ids["FeatureOfInterest"]
        graph.datastream_of_foi[ids["FeatureOfInterest"]] = ds
    for entity_set, by_id in graph.entities.items():
        if entity_set != "ObservedProperties":
            check_unique(entity_set, ((i, _who(e)) for i, e in by_id.items()))
    check_unique("ObservedProperties", (
        (stable_id("ObservedProperty", q.value), q.value) for q in MEANINGS))
    return graph


def _who(entity: Entity) -> str:
    props = entity.props.get("properties", {})
    return f"{props.get('site')}/{props.get('sensor')}"


def historical_locations(graph: Graph, first_times: dict[int, int]) -> dict[int, Entity]:
    """One HistoricalLocation per Thing with data: its Location since its first observation.

    The catalogue keeps no installation dates; the first stored reading is the earliest time
    the Thing is known to have been at its Location. A Thing without readings has none yet.
    """
    return {ds: Entity("HistoricalLocations", stable_id("HistoricalLocation", str(thing)),
                       {"time": Instant(first_times[ds])})
            for ds, thing in graph.thing_of_datastream.items() if ds in first_times}


def historical_links(graph: Graph, hl: Entity) -> dict[str, list[int]]:
    """Navigation of a HistoricalLocation (its id derives from its Thing's)."""
    for thing in graph.thing_of_datastream.values():
        if stable_id("HistoricalLocation", str(thing)) == hl.id:
            return {"Thing": [thing], "Locations": graph.linked("Things", thing, "Locations")}
    return {"Thing": [], "Locations": []}
