"""The landing page `/opendata`, rendered through Dash's own routing callback.

It must list every public dataset with its licence and links, none of the internal or
personal sensors, the access points (SensorThings, DCAT catalogue, files), and how to cite,
in German and English.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dashboard import ids
from dashboard.app import create_app
from opendata.datasets import public_datasets
from opendata.sta.ids import stable_id
from stadtpuls.catalogue import Catalogue, load_catalogue
from stadtpuls.store.sqlite import SQLiteStore

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(ROOT / "config" / "stuehlinger.yaml")


def _page(catalogue: Catalogue, tmp_path: Path, lang: str) -> tuple[str, set[str]]:
    """(all text, all link targets) of /opendata as Dash renders it for `lang`."""
    store = SQLiteStore(tmp_path / f"{lang}.db")
    app = create_app(store, catalogue)
    body = {
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [{"id": "_pages_content", "property": "children"},
                    {"id": "_pages_store", "property": "data"}],
        "inputs": [{"id": "_pages_location", "property": "pathname", "value": "/opendata"},
                   {"id": "_pages_location", "property": "search", "value": ""},
                   {"id": ids.LANG, "property": "data", "value": lang}],
        "state": [], "changedPropIds": [],
    }
    response = app.server.test_client().post("/_dash-update-component", json=body,
                                             base_url="https://daten.example.org")
    store.close()
    assert response.status_code == 200, response.data[:300]
    payload = response.get_json()["response"]
    expected = "Offene Daten – Stadtpuls" if lang == "de" else "Open data – Stadtpuls"
    assert payload["_pages_store"]["data"]["title"] == expected
    texts: list[str] = []
    links: set[str] = set()
    _walk(payload["_pages_content"]["children"], texts, links)
    return " ".join(texts), links


def _walk(node: Any, texts: list[str], links: set[str]) -> None:
    if isinstance(node, str | int | float):
        texts.append(str(node))
    elif isinstance(node, list):
        for child in node:
            _walk(child, texts, links)
    elif isinstance(node, dict):
        props = node.get("props", {})
        if "href" in props:
            links.add(props["href"])
        _walk(props.get("children"), texts, links)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_page_lists_every_public_dataset_and_nothing_else(
        catalogue: Catalogue, tmp_path: Path, lang: str) -> None:
    text, links = _page(catalogue, tmp_path, lang)
    public = public_datasets(catalogue)
    for dataset in public:
        assert dataset.sensor.name.get(lang) in text
        assert f"/opendata/files/{dataset.slug}/" in links
        datastream = stable_id("Datastream", dataset.site_id, dataset.sensor.id)
        assert f"/sta/v1.1/Datastreams({datastream})" in links
    assert "https://www.govdata.de/dl-de/by-2-0" in links
    public_ids = {(d.site_id, d.sensor.id) for d in public}
    hidden = [(site, s) for site, s in catalogue.sensors() if (site, s.id) not in public_ids]
    assert len(hidden) == 9
    for _site, sensor in hidden:
        assert sensor.name.get(lang) not in text and sensor.id not in " ".join(links)
    assert {"/sta/v1.1", "/opendata/catalog.ttl", "/opendata/catalog.jsonld",
            "/opendata/catalog.rdf"} <= links
    assert "mailto:opendata@example.org" in links
    cite = {"de": "Datenquelle: Stadt Freiburg im Breisgau, Stadtpuls, Datenlizenz Deutschland "
                  "– Namensnennung – Version 2.0, https://daten.example.org/opendata",
            "en": "Data source: Stadt Freiburg im Breisgau, Stadtpuls, Datenlizenz Deutschland "
                  "– Namensnennung – Version 2.0, https://daten.example.org/opendata"}
    assert cite[lang] in text
    assert {"de": "Offene Daten", "en": "Open data"}[lang] in text
