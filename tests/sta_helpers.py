"""A small catalogue with public, internal and personal sensors, a real store, and a client.

Used by the SensorThings conformance tests; the store is SQLite or the session's real
InfluxDB (parametrized), the HTTP side Flask's test client on the real routes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from opendata.sta import routes
from opendata.sta.ids import stable_id
from stadtpuls.catalogue import Catalogue
from stadtpuls.reading import Reading, SeriesKey
from stadtpuls.store import Store
from stadtpuls.store.influx import InfluxStore
from stadtpuls.store.sqlite import SQLiteStore
from stadtpuls.units import Quantity
from testkit.servers import InfluxServer

T0 = 1_750_000_000 * 10**9  # 2025-06-15T15:06:40Z
MIN = 60 * 10**9
ROOT = "/sta/v1.1"
PUBLIC = {("city", "air_temp"), ("city", "bikes"), ("park", "noise")}
HIDDEN = {("city", "room_co2"), ("city", "meeting_occupancy"), ("closed", "secret")}
QUANTITY = {"air_temp": Quantity.TEMPERATURE, "bikes": Quantity.COUNT,
            "noise": Quantity.NOISE, "room_co2": Quantity.CO2,
            "meeting_occupancy": Quantity.COUNT, "secret": Quantity.TEMPERATURE}
ENTITY_SETS = ["Things", "Locations", "HistoricalLocations", "Sensors", "ObservedProperties",
               "Datastreams", "Observations", "FeaturesOfInterest"]


def _sensor(sid: str, name: str, lat: float, **extra: Any) -> dict[str, Any]:
    return {"id": sid, "name": {"de": name, "en": name}, "quantity": QUANTITY[sid].value,
            "position": {"lat": lat, "lon": 7.8, "description": f"at {sid}"},
            "interval_s": 60, "plausible": {"min": -40, "max": 1000}, **extra}


def catalogue(names: dict[str, str] | None = None, reverse: bool = False) -> Catalogue:
    """The test catalogue; `names` renames sensors, `reverse` reorders them (ids must hold)."""
    names = names or {}

    def s(sid: str, lat: float, **extra: Any) -> dict[str, Any]:
        return _sensor(sid, names.get(sid, f"Sensor {sid}"), lat, **extra)

    city = [s("air_temp", 48.0, role="air_temperature"), s("bikes", 48.1),
            s("room_co2", 48.2, data_class="internal"),
            s("meeting_occupancy", 48.3, data_class="personal")]
    site = {"location": {"lat": 48.0, "lon": 7.8}, "timezone": "Europe/Berlin"}
    data = {"version": 1, "sites": {
        "city": {**site, "name": {"de": "Stadt", "en": "City"}, "data_class": "public",
                 "licence": "dl-de/by-2-0", "sensors": city[::-1] if reverse else city},
        "park": {**site, "name": {"de": "Park", "en": "Park"}, "data_class": "internal",
                 "sensors": [s("noise", 48.4, data_class="public", licence="CC-BY-4.0")]},
        "closed": {**site, "name": {"de": "Intern", "en": "Internal"},
                   "sensors": [s("secret", 48.5)]},
    }}
    return Catalogue.model_validate(data)


def key(site: str, sensor: str) -> SeriesKey:
    return SeriesKey(site, sensor, QUANTITY[sensor])


def ds_id(site: str, sensor: str) -> int:
    return stable_id("Datastream", site, sensor)


def readings(site: str, sensor: str, n: int, start: int = T0, step: int = MIN,
             value0: float = 0.0) -> list[Reading]:
    k = key(site, sensor)
    return [Reading(site, sensor, k.quantity, start + i * step, value0 + i) for i in range(n)]


@dataclass
class Sta:
    store: Store
    client: FlaskClient

    def get(self, url: str, status: int = 200) -> Any:
        url = url.replace("http://localhost", "")
        response = self.client.get(url if url.startswith("/") else f"{ROOT}/{url}")
        assert response.status_code == status, (url, response.status_code, response.data[:300])
        return response.get_json() if response.is_json else response.get_data(as_text=True)

    def all_pages(self, url: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        page = self.get(url)
        while True:
            out += page["value"]
            if "@iot.nextLink" not in page:
                return out
            page = self.get(page["@iot.nextLink"])


def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "sqlite":
        return SQLiteStore(tmp_path / "readings.db")
    db = request.getfixturevalue("influx_db")
    server: InfluxServer = request.getfixturevalue("influx")
    return InfluxStore(server.url, f"{db}/autogen")


def serve(store: Store, cat: Catalogue | None = None) -> FlaskClient:
    app = Flask("sta-test")
    routes.install(app, store, cat or catalogue())
    return app.test_client()


def sta_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Sta]:
    store = open_store(request, tmp_path)
    # Ten readings per sensor, hidden ones too: they must never show.
    for site, sensor in sorted(PUBLIC | HIDDEN):
        store.write(readings(site, sensor, 10))
    yield Sta(store, serve(store))
    store.close()


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
