"""SensorThings API v1.1 (OGC 18-088), read-only: one test per requirement covered.

Every test runs against SQLite and the session's real InfluxDB. Requirement URIs are under
http://www.opengis.net/spec/iot_sensing/1.1/ (named in each docstring).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sta_helpers import (
    ENTITY_SETS,
    MIN,
    PUBLIC,
    ROOT,
    T0,
    Sta,
    ds_id,
    readings,
    sta_fixture,
)

from opendata.sta.instant import Instant

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", "influx"])
def sta(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Sta]:
    yield from sta_fixture(request, tmp_path)


def test_req_resource_path_service_root(sta: Sta) -> None:
    """http://www.opengis.net/spec/iot_sensing/1.1/req/resource-path/resource-path-to-entities

    the service root lists the entity sets
    and serverSettings.conformance the classes served (read only: no create-update-delete)."""
    root = sta.get(ROOT)
    assert [(e["name"], e["url"]) for e in root["value"]] == [
        (s, f"http://localhost{ROOT}/{s}") for s in ENTITY_SETS]
    conformance = root["serverSettings"]["conformance"]
    assert "http://www.opengis.net/spec/iot_sensing/1.1/req/request-data" in conformance
    assert "http://www.opengis.net/spec/iot_sensing/1.1/req/datamodel" in conformance
    assert not any("create-update-delete" in c for c in conformance)
    assert sta.get(ROOT + "/") == root


def test_req_read_entities_entity_sets(sta: Sta) -> None:
    """http://www.opengis.net/spec/iot_sensing/1.1/req/resource-path/resource-path-to-entities

    (entity sets): each of the eight sets
    answers a collection whose entities carry @iot.id and a working @iot.selfLink."""
    sizes = {}
    for name in ENTITY_SETS:
        page = sta.get(f"{name}?$top=1000")
        sizes[name] = len(page["value"])
        for entity in page["value"]:
            assert isinstance(entity["@iot.id"], int if name != "Observations" else str)
            again = sta.get(entity["@iot.selfLink"])
            assert again == entity
    assert sizes == {"Things": 3, "Locations": 3, "HistoricalLocations": 3, "Sensors": 3,
                     "ObservedProperties": 3, "Datastreams": 3, "Observations": 30,
                     "FeaturesOfInterest": 3}


def test_req_read_entities_navigation(sta: Sta) -> None:
    """http://www.opengis.net/spec/iot_sensing/1.1/req/resource-path/resource-path-to-entities

    (navigation): every navigationLink of
    every entity resolves, and the relations are symmetric (Thing → Datastreams → Thing)."""
    for name in ENTITY_SETS:
        for entity in sta.get(f"{name}?$top=5")["value"]:
            for field, link in entity.items():
                if field.endswith("@iot.navigationLink"):
                    target = sta.get(link)
                    assert "value" in target or "@iot.id" in target
    for thing in sta.get("Things")["value"]:
        for ds in sta.get(thing["Datastreams@iot.navigationLink"])["value"]:
            assert sta.get(ds["Thing@iot.navigationLink"])["@iot.id"] == thing["@iot.id"]
            obs = sta.get(ds["Observations@iot.navigationLink"] + "?$top=1")["value"][0]
            assert sta.get(obs["Datastream@iot.navigationLink"])["@iot.id"] == ds["@iot.id"]
            foi = sta.get(obs["FeatureOfInterest@iot.navigationLink"])
            foi_obs = sta.get(foi["Observations@iot.navigationLink"] + "?$top=1")["value"]
            assert foi_obs == [obs]
        locations = sta.get(thing["Locations@iot.navigationLink"])["value"]
        assert len(locations) == 1
        assert sta.get(locations[0]["Things@iot.navigationLink"])["value"][0]["@iot.id"] == \
            thing["@iot.id"]
        history = sta.get(thing["HistoricalLocations@iot.navigationLink"])["value"]
        assert [h["time"] for h in history] == [Instant(T0).iso()]
    # a chain of navigations, and an id inside a navigation collection
    d = ds_id("city", "air_temp")
    assert sta.get(f"Datastreams({d})/Thing/Locations")["value"][0]["location"]["type"] \
        == "Point"
    thing = sta.get(f"Datastreams({d})/Thing")
    assert sta.get(f"Things({thing['@iot.id']})/Datastreams({d})")["@iot.id"] == d
    sta.get(f"Things({thing['@iot.id']})/Datastreams({ds_id('city', 'bikes')})", 404)


def test_req_read_entities_property_and_value(sta: Sta) -> None:
    """http://www.opengis.net/spec/iot_sensing/1.1/req/resource-path/resource-path-to-entities

    (property, $value): one property as
    JSON, its raw value as text; unknown properties are 404."""
    d = ds_id("city", "air_temp")
    assert sta.get(f"Datastreams({d})/unitOfMeasurement") == {"unitOfMeasurement": {
        "name": "degree Celsius", "symbol": "°C",
        "definition": "http://unitsofmeasure.org/ucum.html#Cel"}}
    assert sta.get(f"Datastreams({d})/name/$value") == "Sensor air_temp: Temperature"
    sta.get(f"Datastreams({d})/nonsense", 404)
    sta.get("Nonsense", 404)
    sta.get("Things(12)", 404)
    sta.get("Things(abc)", 400)


def test_req_datamodel_entities(sta: Sta) -> None:
    """http://www.opengis.net/spec/iot_sensing/1.1/req/datamodel

    mandatory properties of each entity type, UCUM units, OM_Measurement,
    GeoJSON locations, observed areas and features, stable ObservedProperty definitions."""
    for ds in sta.get("Datastreams?$expand=ObservedProperty,Sensor")["value"]:
        assert {"name", "description", "unitOfMeasurement", "observationType",
                "observedArea"} <= ds.keys()
        assert ds["observationType"].endswith("/OGC-OM/2.0/OM_Measurement")
        assert ds["unitOfMeasurement"]["definition"].startswith(
            "http://unitsofmeasure.org/ucum.html#")
        assert ds["observedArea"]["type"] == "Point"
        assert ds["ObservedProperty"]["definition"].startswith(("http://", "urn:"))
        assert ds["Sensor"]["encodingType"] == "text/html"
        assert ds["Sensor"]["metadata"].startswith("http://localhost/sensors/")
        assert ds["properties"]["license"] in ("dl-de/by-2-0", "CC-BY-4.0")
    for loc in sta.get("Locations")["value"]:
        assert loc["encodingType"] == "application/geo+json"
        assert loc["location"]["coordinates"][0] == 7.8
    for foi in sta.get("FeaturesOfInterest")["value"]:
        assert foi["feature"]["type"] == "Point"
    obs = sta.get("Observations?$top=1")["value"][0]
    assert {"phenomenonTime", "resultTime", "result"} <= obs.keys()
    assert obs["phenomenonTime"] == Instant(T0).iso() == "2025-06-15T15:06:40Z"


def test_req_request_data_top_and_skip(sta: Sta) -> None:
    """http://www.opengis.net/spec/iot_sensing/1.1/req/request-data/top

    and /req/request-data/skip: $top limits, $skip skips, both
    bounded (400 beyond the maximum); nextLink continues with $skip."""
    ids = [t["@iot.id"] for t in sta.get("Things")["value"]]
    assert ids == sorted(ids)
    page = sta.get("Things?$top=2")
    assert [t["@iot.id"] for t in page["value"]] == ids[:2]
    assert "$skip=2" in page["@iot.nextLink"]
    assert [t["@iot.id"] for t in sta.get(page["@iot.nextLink"])["value"]] == ids[2:]
    assert [t["@iot.id"] for t in sta.get("Things?$skip=1&$top=1")["value"]] == ids[1:2]
    assert sta.get("Things?$skip=5")["value"] == []
    assert len(sta.get("Observations")["value"]) == 30
    assert len(sta.get("Observations?$top=7")["value"]) == 7
    assert sta.get("Observations?$top=0")["value"] == []
    for bad in ("$top=1001", "$top=-1", "$top=x", "$skip=-3"):
        assert "$" in sta.get(f"Things?{bad}", 400)["message"]


def test_req_request_data_count(sta: Sta) -> None:
    """http://www.opengis.net/spec/iot_sensing/1.1/req/request-data/count

    @iot.count is the size of the whole (filtered) collection."""
    assert sta.get("Things?$count=true&$top=1")["@iot.count"] == 3
    assert "@iot.count" not in sta.get("Things?$count=false")
    assert sta.get("Observations?$count=true&$top=1")["@iot.count"] == 30
    d = ds_id("city", "bikes")
    assert sta.get(f"Datastreams({d})/Observations?$count=true&$top=1"
                   "&$filter=result ge 5")["@iot.count"] == 5
    assert sta.get("Observations?$count=true&$top=1&$filter=phenomenonTime ge "
                   f"{Instant(T0 + 8 * MIN).iso()}")["@iot.count"] == 6
    sta.get("Things?$count=maybe", 400)


def test_req_request_data_orderby(sta: Sta) -> None:
    """http://www.opengis.net/spec/iot_sensing/1.1/req/request-data/order

    asc and desc on properties and property paths; Observations
    by phenomenonTime, resultTime or id."""
    names = [t["name"] for t in sta.get("Things?$orderby=name desc")["value"]]
    assert names == sorted(names, reverse=True)
    sites = [t["properties"]["site"] for t in
             sta.get("Things?$orderby=properties/site,name")["value"]]
    assert sites == ["city", "city", "park"]
    d = ds_id("city", "air_temp")
    newest = sta.get(f"Datastreams({d})/Observations?$orderby=phenomenonTime desc&$top=3")
    assert [o["result"] for o in newest["value"]] == [9.0, 8.0, 7.0]
    times = [o["phenomenonTime"] for o in sta.all_pages(
        "Observations?$orderby=resultTime&$top=4")]
    assert len(times) == 30 and times == sorted(times)
    assert "ordered" in sta.get("Observations?$orderby=result", 400)["message"]


def test_req_request_data_select(sta: Sta) -> None:
    """http://www.opengis.net/spec/iot_sensing/1.1/req/request-data/select

    only the named properties (and navigation links) come back."""
    for thing in sta.get("Things?$select=name,id")["value"]:
        assert set(thing) == {"@iot.id", "name"}
    one = sta.get("Datastreams?$top=1&$select=unitOfMeasurement,Thing")["value"][0]
    assert set(one) == {"unitOfMeasurement", "Thing@iot.navigationLink"}
    obs = sta.get("Observations?$top=2&$select=result,phenomenonTime")["value"]
    assert [set(o) for o in obs] == [{"result", "phenomenonTime"}] * 2
    everything = ("id,@iot.selfLink,phenomenonTime,resultTime,result,resultQuality,"
                  "Datastream,FeatureOfInterest")
    assert sta.get(f"Observations?$top=3&$select={everything}")["value"] == \
        sta.get("Observations?$top=3")["value"]


def test_req_request_data_expand(sta: Sta) -> None:
    """http://www.opengis.net/spec/iot_sensing/1.1/req/request-data/expand

    single and multiple navigation properties, nested (path and
    option forms), with query options per level; depth bounded."""
    things = sta.get("Things?$expand=Datastreams($select=name;$expand=Observations("
                     "$top=2;$orderby=phenomenonTime desc;$count=true)),Locations")["value"]
    assert len(things) == 3
    for thing in things:
        assert len(thing["Locations"]) == 1
        (ds,) = thing["Datastreams"]
        assert [o["result"] for o in ds["Observations"]] == [9.0, 8.0]
        assert ds["Observations@iot.count"] == 10
        assert "Observations@iot.nextLink" in ds
        assert set(ds) >= {"name", "Observations"}
    path_form = sta.get("Things?$expand=Datastreams/ObservedProperty")["value"]
    assert all(t["Datastreams"][0]["ObservedProperty"]["name"] for t in path_form)
    obs = sta.get("Observations?$top=1&$expand=Datastream($expand=Thing),FeatureOfInterest")
    assert obs["value"][0]["Datastream"]["Thing"]["properties"]["site"] in {"city", "park"}
    deep = "Things?$expand=Datastreams($expand=Thing($expand=Datastreams($expand=Thing)))"
    assert "deeper" in sta.get(deep, 400)["message"]
    assert "navigation" in sta.get("Things?$expand=Nothing", 400)["message"]


def test_req_request_data_filter_time(sta: Sta) -> None:
    """http://www.opengis.net/spec/iot_sensing/1.1/req/request-data/filter

    phenomenonTime and resultTime against ISO 8601 times (to the
    nanosecond, any zone), in the store query."""
    d = ds_id("city", "air_temp")
    url = f"Datastreams({d})/Observations?$filter="
    t3 = Instant(T0 + 3 * MIN).iso()
    assert [o["result"] for o in sta.get(f"{url}phenomenonTime lt {t3}")["value"]] == [0, 1, 2]
    assert [o["result"] for o in sta.get(f"{url}phenomenonTime eq {t3}")["value"]] == [3]
    got = sta.get(f"{url}resultTime ge {t3} and resultTime le {Instant(T0 + 5 * MIN).iso()}")
    assert [o["result"] for o in got["value"]] == [3, 4, 5]
    local = "2025-06-15T17:14:40%2B02:00"  # T0 + 8 min in Berlin summer time
    assert [o["result"] for o in sta.get(f"{url}phenomenonTime gt {local}")["value"]] == [9]
    sta.store.write([r.__class__(r.site, r.sensor, r.quantity, r.time_ns + 123, 99.0)
                     for r in readings("city", "air_temp", 1)])
    exact = Instant(T0 + 123).iso()
    assert exact == "2025-06-15T15:06:40.000000123Z"
    assert [o["result"] for o in sta.get(f"{url}phenomenonTime eq {exact}")["value"]] == [99.0]


def test_req_request_data_filter_result_and_properties(sta: Sta) -> None:
    """http://www.opengis.net/spec/iot_sensing/1.1/req/request-data/filter

    comparisons on result, on properties/… paths, on related
    entities, logical and arithmetic operators and functions."""
    d = ds_id("city", "bikes")
    url = f"Datastreams({d})/Observations?$filter="
    assert [o["result"] for o in sta.get(f"{url}result gt 6")["value"]] == [7, 8, 9]
    assert [o["result"] for o in sta.get(f"{url}result mod 4 eq 0 or result eq 5")["value"]] \
        == [0, 4, 5, 8]
    assert [o["result"] for o in sta.get(f"{url}not (result lt 8)")["value"]] == [8, 9]
    things = sta.get("Things?$filter=properties/site eq 'park'")["value"]
    assert [t["properties"]["sensor"] for t in things] == ["noise"]
    assert len(sta.get("Datastreams?$filter=unitOfMeasurement/symbol eq '°C'")["value"]) == 1
    assert len(sta.get("Datastreams?$filter=ObservedProperty/name eq 'Count'")["value"]) == 1
    assert len(sta.get("Things?$filter=startswith(name, 'Sensor b')")["value"]) == 1
    assert len(sta.get(f"Observations?$filter=Datastream/id eq {d}")["value"]) == 10
    assert len(sta.get(f"Observations?$filter=Datastream/@iot.id eq {d} and result lt 2")
               ["value"]) == 2


def test_req_request_data_filter_errors(sta: Sta) -> None:
    """http://www.opengis.net/spec/iot_sensing/1.1/req/request-data/filter

    a bad expression is a 400 with one line naming the problem."""
    for bad, words in (("result gt", "cannot be parsed"), ("substringof('a', name)", "Unknown"),
                       ("result gt 1)", "parsed"), ("x" * 2001, "2001 characters")):
        error = sta.get(f"Observations?$filter={bad}", 400)
        assert error["code"] == 400 and error["type"] == "error"
        assert words in error["message"] and "\n" not in error["message"]
    assert "unknown query option" in sta.get("Things?$fliter=x", 400)["message"]
    many = sta.get("Things?$filter=Datastreams/name eq 'x'", 400)["message"]
    assert "holds many Datastreams" in many


def test_req_create_update_delete_is_refused(sta: Sta) -> None:
    """http://www.opengis.net/spec/iot_sensing/1.1/req/create-update-delete

    is not served: every write answers 405 with an Allow header."""
    d = ds_id("city", "air_temp")
    for method in ("post", "put", "patch", "delete"):
        for url in (ROOT, f"{ROOT}/Things", f"{ROOT}/Datastreams({d})",
                    f"{ROOT}/Datastreams({d})/Observations"):
            response = getattr(sta.client, method)(url, json={"result": 1})
            assert response.status_code == 405, (method, url)
            assert response.headers["Allow"] == "GET, HEAD, OPTIONS"
            assert "read-only" in response.get_json()["message"]
    assert sta.get("Observations?$count=true&$top=1")["@iot.count"] == 30


def test_public_sensors_are_the_ones_published(sta: Sta) -> None:
    """http://www.opengis.net/spec/iot_sensing/1.1/req/datamodel/thing

    one Thing (and Datastream) per public catalogue sensor."""
    things = sta.get("Things")["value"]
    assert {(t["properties"]["site"], t["properties"]["sensor"]) for t in things} == PUBLIC


def test_req_resource_path_association_links(sta: Sta) -> None:
    """http://www.opengis.net/spec/iot_sensing/1.1/req/resource-path/resource-path-to-entities

    $ref: a collection or an entity as its selfLinks only."""
    refs = sta.get("Things/$ref?$top=2")
    assert [set(r) for r in refs["value"]] == [{"@iot.selfLink"}] * 2
    assert "@iot.nextLink" in refs
    d = ds_id("city", "air_temp")
    assert sta.get(f"Datastreams({d})/$ref") == {
        "@iot.selfLink": f"http://localhost{ROOT}/Datastreams({d})"}
    thing = sta.get(f"Datastreams({d})/Thing/$ref")["@iot.selfLink"]
    assert sta.get(thing)["properties"]["sensor"] == "air_temp"
