"""The app factory: several dashboards in one process, each with its own callbacks and store.

Served through Flask's test client (no browser): the page, Dash's layout and dependency
endpoints, and callbacks posted the way the browser posts them.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from dash import Dash

from dashboard import ids
from dashboard.app import create_app
from stadtpuls.catalogue import Catalogue, load_catalogue
from stadtpuls.reading import Reading
from stadtpuls.store.sqlite import SQLiteStore
from stadtpuls.units import Quantity

CATALOGUE = Path(__file__).resolve().parents[1] / "config" / "stuehlinger.yaml"

# The outputs of every page's callbacks and of the frame's (one id.property per callback).
EXPECTED_OUTPUTS = {
    f"{ids.OVERVIEW_ANNOUNCE}.children", f"{ids.SENSORS_GRID}.getRowsResponse",
    f"{ids.SENSORS_REFRESHED}.data", f"{ids.DETAIL_GRAPH}.figure",
    f"{ids.DETAIL_DOWNLOAD}.data", f"{ids.LANG}.data", f"{ids.CLOCK}.children",
}


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(CATALOGUE)


def _post(app: Dash, outputs: list[tuple[str, str]], inputs: list[tuple[str, str, Any]],
          state: list[tuple[str, str, Any]] | None = None) -> dict[str, Any]:
    output = (f"{outputs[0][0]}.{outputs[0][1]}" if len(outputs) == 1
              else ".." + "...".join(f"{i}.{p}" for i, p in outputs) + "..")
    body = {
        "output": output,
        "outputs": [{"id": i, "property": p} for i, p in outputs],
        "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
        "state": [{"id": i, "property": p, "value": v} for i, p, v in state or []],
        "changedPropIds": [],
    }
    response = app.server.test_client().post("/_dash-update-component", json=body)
    assert response.status_code == 200, response.data[:500]
    payload: dict[str, Any] = response.get_json()["response"]
    return payload


def _sensor_count(app: Dash) -> str:
    response = _post(
        app,
        [(ids.SENSORS_GRID, "getRowsResponse"), (ids.SENSORS_COUNT, "children"),
         (ids.SENSORS_ALERT, "children")],
        [(ids.SENSORS_GRID, "getRowsRequest", {"startRow": 0, "endRow": 50})],
        [(ids.SENSORS_SITE, "value", None), (ids.SENSORS_STATUS, "value", None),
         (ids.SENSORS_SEARCH, "value", None), (ids.LANG, "data", "en")],
    )
    count: str = response[ids.SENSORS_COUNT]["children"]
    return count


def test_two_apps_in_one_process_each_serve_their_pages_and_callbacks(
        catalogue: Catalogue, tmp_path: Path) -> None:
    empty = SQLiteStore(str(tmp_path / "empty.db"))
    other = SQLiteStore(str(tmp_path / "other.db"))
    other.write([Reading("freiburg", "lora-only-here", Quantity.TEMPERATURE, time.time_ns(),
                         18.0, unregistered=True)])
    # Both are built before either serves a request: Dash's global callback list used to hand
    # every page callback to whichever app served first, leaving the other with none.
    first = create_app(empty, catalogue)
    second = create_app(other, catalogue)
    dependencies = []
    for app in (first, second):
        client = app.server.test_client()
        page = client.get("/")
        assert page.status_code == 200 and b"Stadtpuls" in page.data
        assert client.get("/_dash-layout").status_code == 200
        deps = client.get("/_dash-dependencies").get_json()
        outputs = [d["output"] for d in deps]
        assert len(outputs) == len(set(outputs)), "a callback was registered twice"
        flat = {part for o in outputs for part in o.strip(".").split("...")}
        assert flat >= EXPECTED_OUTPUTS, sorted(EXPECTED_OUTPUTS - flat)
        dependencies.append(sorted(outputs))
        routed = _post(app, [("_pages_content", "children"), ("_pages_store", "data")],
                       [("_pages_location", "pathname", "/status"),
                        ("_pages_location", "search", ""), (ids.LANG, "data", "en")])
        assert routed["_pages_store"]["data"]["title"] == "Pipeline – Stadtpuls"
    assert dependencies[0] == dependencies[1]
    # each app's callbacks read its own store: only the second holds the extra sensor
    catalogued = sum(len(site.sensors) for site in catalogue.sites.values())
    assert (_sensor_count(first), _sensor_count(second)) == (
        f"{catalogued} sensors", f"{catalogued + 1} sensors")
    empty.close()
    other.close()


def _detail(app: Dash, token: str, start: Any, end: Any) -> dict[str, Any]:
    """The sensor page's chart callback with a custom range, as the date picker posts it (a
    visitor can post any value, not only what the picker offers)."""
    return _post(
        app,
        [(ids.DETAIL_GRAPH, "figure"), (ids.DETAIL_INFO, "children"),
         (ids.DETAIL_HEADER, "children"), (ids.DETAIL_TEXT, "children"),
         (ids.DETAIL_ALERT, "children")],
        [(ids.DETAIL_TICK, "n_intervals", None), (ids.DETAIL_RANGE, "data", "custom"),
         (ids.DETAIL_DATES, "start_date", start), (ids.DETAIL_DATES, "end_date", end)],
        [(ids.DETAIL_ID, "data", token), (ids.LANG, "data", "en")],
    )


@pytest.mark.parametrize(("start", "end", "message"), [
    ("2025-01-01", "9999-12-31", "Data exists only from 2000-01-01 until today"),
    ("0001-01-01", "0001-01-02", "Data exists only from 2000-01-01 until today"),
    ("2001-01-01", "2025-01-01", "A custom range can be at most 366 days long"),
    ("2025-13-45", "2025-01-01", "That is not a date"),
    ("'; DROP TABLE readings; --", "2025-01-01", "That is not a date"),
])
def test_absurd_custom_ranges_get_a_clear_message_not_a_500(
        catalogue: Catalogue, tmp_path: Path, start: str, end: str, message: str) -> None:
    from dashboard.ui import sensor_token

    store = SQLiteStore(str(tmp_path / "s.db"))
    site_id, site = next(iter(catalogue.sites.items()))
    sensor = site.sensors[0]
    app = create_app(store, catalogue, clock=lambda: 1_750_000_000.0)  # June 2025
    token = sensor_token(site_id, sensor.id, sensor.quantity.value)
    answer = _detail(app, token, start, end)
    alert = answer[ids.DETAIL_ALERT]["children"]
    assert message in alert["props"]["children"], alert
    assert ids.DETAIL_GRAPH not in answer  # nothing queried, nothing drawn
    # A sensible custom range on the same page works.
    fine = _detail(app, token, "2025-06-01", "2025-06-07")
    assert fine[ids.DETAIL_ALERT]["children"] is None and ids.DETAIL_GRAPH in fine
    store.close()
