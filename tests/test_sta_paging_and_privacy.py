"""SensorThings API: keyset paging, stable ids, privacy and bounds (SQLite and real InfluxDB)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sta_helpers import (
    HIDDEN,
    MIN,
    PUBLIC,
    ROOT,
    T0,
    Sta,
    catalogue,
    ds_id,
    dumps,
    key,
    readings,
    serve,
    sta_fixture,
)

from opendata.sta import service as sta_service
from opendata.sta.graph import build_graph
from opendata.sta.ids import MAX_ID, observation_id, stable_id
from stadtpuls.reading import Reading

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", "influx"])
def sta(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Sta]:
    yield from sta_fixture(request, tmp_path)


@pytest.mark.slow
def test_req_request_data_pagination_100k_observations_no_loss_no_duplicates(sta: Sta) -> None:
    """http://www.opengis.net/spec/iot_sensing/1.1/req/request-data/pagination

    100,000 observations of two Datastreams through
    @iot.nextLink, each exactly once, with writes to other times between the pages."""
    _page_through(sta, 50_000, "")


def test_req_request_data_pagination_in_time_order_descending(sta: Sta) -> None:
    """http://www.opengis.net/spec/iot_sensing/1.1/req/request-data/pagination

    with $orderby=phenomenonTime desc: the merge of two
    Datastreams by time pages through without loss or duplicates (writes in between)."""
    _page_through(sta, 3_000, "&$orderby=phenomenonTime desc", top=250)


def _page_through(sta: Sta, per_stream: int, order: str, top: int = 1000) -> None:
    """http://www.opengis.net/spec/iot_sensing/1.1/req/request-data/pagination

    following @iot.nextLink through 2 x `per_stream`
    observations returns each exactly once, while readings are written between pages at
    times already passed (which offset paging would turn into duplicates) and at later times
    outside the filtered range."""
    a, b = ("city", "air_temp"), ("city", "bikes")
    end = T0 + (per_stream + 10_000) * MIN
    for site, sensor in (a, b):
        sta.store.write(readings(site, sensor, per_stream, start=T0 + 10 * MIN))
    url = (f"Observations?$top={top}&$filter=phenomenonTime lt {_iso(end)} and "
           f"(Datastream/id eq {ds_id(*a)} or Datastream/id eq {ds_id(*b)}){order}")
    seen: list[str] = []
    page = sta.get(url)
    pages = 0
    while True:
        seen += [o["@iot.id"] for o in page["value"]]
        pages += 1
        # concurrent writers: earlier times (before the readings paged so far) and times
        # after the range; neither may disturb the continuation
        earlier = T0 - pages * MIN if not order else end - 1 - pages
        sta.store.write([Reading(s, n, key(s, n).quantity, earlier, -1.0) for s, n in (a, b)]
                        + [Reading(s, n, key(s, n).quantity, end + pages * MIN, -2.0)
                           for s, n in (a, b)])
        if "@iot.nextLink" not in page:
            break
        page = sta.get(page["@iot.nextLink"])
    expected = {observation_id(ds_id(s, n), T0 + (10 + i) * MIN)
                for s, n in (a, b) for i in range(per_stream)}
    ours = [o for o in seen if int(o.split("t")[1]) >= T0 + 10 * MIN
            and int(o.split("t")[1]) < T0 + (10 + per_stream) * MIN]
    assert len(ours) == len(set(ours)) == 2 * per_stream
    assert set(ours) == expected
    assert pages >= 2 * per_stream // top


def test_observation_ids_and_continuation_token_round_trip(sta: Sta) -> None:
    """Observation ids are `<datastream id>t<time ns>`; each one is addressable, and a
    skiptoken not issued by the service is a 400."""
    obs = sta.get("Observations?$top=3")["value"]
    for o in obs:
        assert re.fullmatch(r"\d+t\d+", o["@iot.id"])
        assert sta.get(f"Observations('{o['@iot.id']}')") == o
    sta.get(f"Observations('{ds_id('city', 'air_temp')}t{T0 + 1}')", 404)
    assert "skiptoken" in sta.get("Observations?$skiptoken=abc", 400)["message"]


def test_ids_are_stable_across_restarts_and_catalogue_edits() -> None:
    """Renamed and reordered sensors keep every id; ids are exact JSON numbers (< 2^53)."""
    before = build_graph(catalogue())
    after = build_graph(catalogue(names={"air_temp": "Lufttemperatur"}, reverse=True))
    for entity_set, by_id in before.entities.items():
        assert set(after.entities[entity_set]) == set(by_id)
        assert all(0 < i <= MAX_ID for i in by_id)
    # pinned: a change of the derivation would re-number every published entity
    assert stable_id("Datastream", "city", "air_temp") == ds_id("city", "air_temp")
    assert stable_id("Thing", "stuehlinger", "pv_facade_ne_power") == 4177173739867826


def test_internal_and_personal_sensors_are_invisible_everywhere(sta: Sta) -> None:
    """No path, $expand, $filter, navigation or guessed id reaches an internal or personal
    sensor or its readings; the store holds them, the API does not show them."""
    everything = [sta.get(f"{name}?$top=1000&$expand={expand}") for name, expand in (
        ("Things", "Datastreams($expand=Observations($top=1000),Sensor,ObservedProperty),"
                   "Locations,HistoricalLocations"),
        ("Locations", "Things,HistoricalLocations"),
        ("HistoricalLocations", "Thing,Locations"),
        ("Sensors", "Datastreams"), ("ObservedProperties", "Datastreams($expand=Thing)"),
        ("Datastreams", "Observations($top=1000)"),
        ("Observations", "Datastream,FeatureOfInterest"),
        ("FeaturesOfInterest", "Observations($top=1000)"))]
    text = dumps(everything)
    for site, sensor in HIDDEN:
        assert sensor not in text
        d = ds_id(site, sensor)
        assert str(d) not in text
        for kind, entity_set in (("Thing", "Things"), ("Datastream", "Datastreams"),
                                 ("Sensor", "Sensors"), ("Location", "Locations"),
                                 ("FeatureOfInterest", "FeaturesOfInterest")):
            guessed = stable_id(kind, site, sensor)
            sta.get(f"{entity_set}({guessed})", 404)
            sta.get(f"{entity_set}({guessed})/Datastreams", 404)
        sta.get(f"Datastreams({d})/Observations", 404)
        sta.get(f"Observations('{observation_id(d, T0)}')", 404)
        assert sta.get(f"Observations?$filter=Datastream/id eq {d}")["value"] == []
        assert sta.get(f"Things?$filter=properties/sensor eq '{sensor}'")["value"] == []
    assert "Intern" not in text and "CO2" not in text
    assert sta.get("Observations?$count=true&$top=1")["@iot.count"] == 10 * len(PUBLIC)
    assert sta.store.counts(T0, T0 + 10 * MIN)  # the hidden readings are there
    assert sum(sta.store.counts(T0, T0 + 10 * MIN).values()) == 10 * (len(PUBLIC) + len(HIDDEN))


def test_implausible_readings_are_published_marked(sta: Sta) -> None:
    """Readings the ingest marked implausible keep their place, with resultQuality saying so."""
    site, sensor = "city", "air_temp"
    sta.store.write([Reading(site, sensor, key(site, sensor).quantity, T0 + 2 * MIN, 999.0,
                             implausible=True)])
    url = f"Datastreams({ds_id(site, sensor)})/Observations"
    marked = sta.get(f"{url}?$filter=resultQuality eq 'implausible'")["value"]
    assert [(o["result"], o["resultQuality"]) for o in marked] == [(999.0, "implausible")]
    assert len(sta.get(f"{url}?$filter=resultQuality eq 'ok'")["value"]) == 9


def test_bounds_answer_400_with_one_line(sta: Sta, monkeypatch: pytest.MonkeyPatch) -> None:
    """URL length, $filter length, $expand depth and breadth, $top, and the number of
    entities in one response are bounded; each refusal names the limit."""
    long_url = f"{ROOT}/Things?$filter=name eq '{'x' * 9000}'"
    response = sta.client.get(long_url)
    assert response.status_code == 400 and "8192" in response.get_json()["message"]
    assert "1000" in sta.get("Observations?$top=5000", 400)["message"]
    wide = ",".join(["Locations"] * 9)
    assert "at most 8" in sta.get(f"Things?$expand={wide}", 400)["message"]
    monkeypatch.setattr(sta_service, "MAX_ENTITIES", 20)
    error = sta.get("Datastreams?$expand=Observations($top=10)", 400)
    assert "more than 20 entities" in error["message"]
    assert len(sta.get("Datastreams?$expand=Observations($top=5)")["value"]) == 3


def test_dashboard_serves_the_api(tmp_path: Path) -> None:
    """The dashboard's own server answers /sta/v1.1 (no extra server to run)."""
    from dashboard.app import create_app
    from stadtpuls.store.sqlite import SQLiteStore

    store = SQLiteStore(tmp_path / "r.db")
    store.write(readings("city", "air_temp", 3))
    client = create_app(store, catalogue()).server.test_client()
    root = client.get(ROOT)
    assert root.status_code == 200 and root.get_json()["serverSettings"]["conformance"]
    obs = client.get(f"{ROOT}/Datastreams({ds_id('city', 'air_temp')})/Observations")
    assert [o["result"] for o in obs.get_json()["value"]] == [0.0, 1.0, 2.0]
    assert client.post(f"{ROOT}/Things").status_code == 405
    store.close()


def test_store_down_is_503_not_a_traceback(tmp_path: Path) -> None:
    """An unreachable store answers 503 in the error format."""
    from stadtpuls.store.influx import InfluxStore

    store = InfluxStore("http://127.0.0.1:9", "nowhere", timeout_s=0.5)
    response = serve(store).get(f"{ROOT}/Observations")
    assert response.status_code == 503
    assert response.get_json()["message"].startswith("the data store is not available")
    store.close()


def _iso(ns: int) -> str:
    from opendata.sta.instant import Instant
    return Instant(ns).iso()


def test_time_windows_find_readings_far_from_the_anchors(sta: Sta) -> None:
    """The windowed store reads (observations.py) tile the whole range: readings long before
    the first reading the service knew of, far in the future and decades in the past are all
    listed, in both orders, once each."""
    site, sensor = "city", "bikes"
    url = f"Datastreams({ds_id(site, sensor)})/Observations?$top=7"
    sta.get("HistoricalLocations")  # caches the first reading (T0) as the ascending anchor
    k = key(site, sensor)
    odd = [Reading(site, sensor, k.quantity, t, 1.0) for t in (
        T0 - 40 * 365 * 24 * 60 * MIN,  # 1985
        T0 - 1,  # just before the cached first reading
        T0 + 75 * 365 * 24 * 60 * MIN,  # 2100
    )]
    sta.store.write(odd)
    expected = sorted([r.time_ns for r in odd] + [T0 + i * MIN for i in range(10)])
    for order, want in (("", expected), ("&$orderby=phenomenonTime desc", expected[::-1])):
        got = [int(o["@iot.id"].split("t")[1]) for o in sta.all_pages(url + order)]
        assert got == want, order


def test_an_id_collision_stops_the_start_naming_both() -> None:
    """Two entities of one set hashing to one id is refused, not served as one."""
    from opendata.sta.ids import check_unique

    check_unique("Things", [(1, "a/x"), (2, "b/y"), (1, "a/x")])
    with pytest.raises(RuntimeError, match=r"'a/x' and 'b/y' both hash to 1; rename"):
        check_unique("Things", [(1, "a/x"), (1, "b/y")])


def test_first_readings_are_refreshed_in_the_background(tmp_path: Path) -> None:
    """HistoricalLocation times come from a cache that a stale request refreshes in the
    background (it answers with what it has at once) and that back-filled data updates."""
    import time

    from opendata.sta.first_times import TTL_S, FirstTimes
    from stadtpuls.store.sqlite import SQLiteStore

    store = SQLiteStore(tmp_path / "r.db")
    store.write(readings("city", "air_temp", 3))
    now = [0.0]
    d = ds_id("city", "air_temp")
    first = FirstTimes(store, {d: key("city", "air_temp")}, clock=lambda: now[0])
    assert first.peek() == {}
    assert first.get() == {d: T0}
    store.write(readings("city", "air_temp", 1, start=T0 - MIN))  # back-filled
    assert first.get() == {d: T0}  # fresh: not asked again
    now[0] = TTL_S + 1
    assert first.get() == {d: T0}  # stale: the old answer now, the new one soon
    deadline = time.monotonic() + 30
    while first.peek() != {d: T0 - MIN} and time.monotonic() < deadline:
        time.sleep(0.01)
    assert first.peek() == {d: T0 - MIN}
    store.close()
