"""The DCAT-AP.de catalogue (`/opendata/catalog`) against the official SHACL shapes.

Shapes: GovData's "DCAT-AP.de 3.0 – Deutsche Spezifikation" profile (SEMIC DCAT-AP 3.0.0 plus
GovData's German files) and SEMIC's DCAT-AP HVD 3.0.0, kept in tests/shapes/dcat-ap-de/ with
their source and licence (README there). The catalogue is served by the real app from a real
SQLite store, so its temporal coverage is the store's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pyshacl import validate
from rdflib import Graph, Literal, URIRef, namespace

from dashboard.app import create_app
from opendata.datasets import HVD_REGULATION, public_datasets
from stadtpuls.catalogue import Catalogue, load_catalogue
from stadtpuls.reading import Reading
from stadtpuls.store.sqlite import SQLiteStore
from stadtpuls.units import Quantity

ROOT = Path(__file__).resolve().parents[1]
SHAPES = ROOT / "tests" / "shapes" / "dcat-ap-de"
DE_PROFILE = ["semic/dcat-ap-SHACL.ttl", "govdata/dcat-ap-SHACL-DE.ttl",
              "govdata/dcat-ap-de-deprecated.ttl", "govdata/dcat-ap-spec-german-additions.ttl",
              "govdata/dcat-ap-de-controlledvocabularies.ttl"]
VOCABULARIES = ["govdata/dcat-ap-de-licenses-open.rdf", "vocabularies/used-terms.ttl"]
DCATAP = "http://data.europa.eu/r5r/"
BASE = "https://stadtpuls.example.org"
FIRST = datetime(2025, 3, 1, 6, 0, tzinfo=UTC)
LAST = datetime(2025, 4, 19, 23, 59, tzinfo=UTC)
NOT_PUBLIC = ["room_buergerservice_co2", "room_sitzungssaal_co2", "room_buero_3og_humidity"]


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(ROOT / "config" / "stuehlinger.yaml")


@pytest.fixture(scope="module")
def served(catalogue: Catalogue, tmp_path_factory: pytest.TempPathFactory,
           ) -> Iterator[tuple[Graph, dict[str, bytes]]]:
    """The catalogue as served, parsed, and its bytes in each format."""
    store = SQLiteStore(tmp_path_factory.mktemp("dcat") / "readings.db")
    store.write([Reading("stuehlinger", "weather_air_temperature", Quantity.TEMPERATURE,
                         int(when.timestamp()) * 10**9, 9.5) for when in (FIRST, LAST)])
    store.write([Reading("stuehlinger", sensor, Quantity.CO2, int(FIRST.timestamp()) * 10**9,
                         800.0) for sensor in NOT_PUBLIC])
    app = create_app(store, catalogue, clock=lambda: datetime(2025, 4, 20, tzinfo=UTC)
                     .timestamp())
    client = app.server.test_client()
    bodies = {}
    for extension in ("ttl", "jsonld", "rdf"):
        response = client.get(f"/opendata/catalog.{extension}", base_url=BASE)
        assert response.status_code == 200, response.data
        bodies[extension] = response.data
    yield Graph().parse(data=bodies["ttl"], format="turtle"), bodies
    store.close()


def _validate(graph: Graph, shape_files: list[str]) -> tuple[bool, Graph]:
    shapes = Graph()
    for name in shape_files:
        shapes.parse(SHAPES / name)
    data = Graph()
    for name in VOCABULARIES:
        data.parse(SHAPES / name)
    conforms, results, _ = validate(graph + data, shacl_graph=shapes, inference="rdfs",
                                    allow_warnings=True)
    return bool(conforms), results


def _results(results: Graph, severity: URIRef) -> list[str]:
    sh = namespace.SH
    return sorted(f"{results.value(r, sh.focusNode)} {results.value(r, sh.resultPath)}: "
                  f"{results.value(r, sh.resultMessage)}"
                  for r in results.subjects(sh.resultSeverity, severity))


def test_the_catalogue_conforms_to_the_dcat_ap_de_shapes(
        served: tuple[Graph, dict[str, bytes]]) -> None:
    conforms, results = _validate(served[0], DE_PROFILE)
    violations = _results(results, namespace.SH.Violation)
    warnings = _results(results, namespace.SH.Warning) + _results(results, namespace.SH.Info)
    print("DCAT-AP.de warnings:", *warnings or ["none"], sep="\n  ")
    assert violations == [] and conforms


def test_the_shapes_do_find_a_broken_catalogue(served: tuple[Graph, dict[str, bytes]]) -> None:
    broken = Graph() + served[0]
    dataset = next(broken.subjects(namespace.RDF.type, namespace.DCAT.Dataset))
    broken.remove((dataset, namespace.DCTERMS.title, None))  # mandatory in DCAT-AP
    broken.add((dataset, namespace.DCTERMS.accrualPeriodicity,
                URIRef("http://publications.europa.eu/resource/authority/frequency/NEVERLY")))
    conforms, results = _validate(broken, DE_PROFILE)
    violations = "\n".join(_results(results, namespace.SH.Violation))
    assert not conforms and "title" in violations and "accrualPeriodicity" in violations


def test_high_value_datasets_meet_the_hvd_shapes(
        served: tuple[Graph, dict[str, bytes]], catalogue: Catalogue) -> None:
    graph = served[0]
    hvd = {f"{BASE}/opendata/datasets/{d.slug}" for d in public_datasets(catalogue)
           if d.hvd_category}
    assert len(hvd) == 7  # air temperature, irradiance, wind speed; PM2.5, PM10, NO2, noise
    for uri in hvd:
        assert (URIRef(uri), URIRef(DCATAP + "applicableLegislation"),
                URIRef(HVD_REGULATION)) in graph
    # The HVD shapes hold every dataset they see to the HVD rules; the others (energy, bike
    # counts) are no high-value datasets and may only miss the HVD properties.
    _, results = _validate(graph, ["semic/hvd-SHACL.ttl"])
    for line in _results(results, namespace.SH.Violation):
        focus = line.split(" ", 1)[0].split("#", 1)[0]
        assert focus not in hvd and f"{BASE}/sta/v1.1" != focus, line
        assert "hvdCategory" in line or "applicableLegislation" in line, line


def test_only_public_sensors_are_catalogued(
        served: tuple[Graph, dict[str, bytes]], catalogue: Catalogue) -> None:
    graph, bodies = served
    expected = {f"{BASE}/opendata/datasets/{d.slug}" for d in public_datasets(catalogue)}
    assert {str(s) for s in graph.subjects(namespace.RDF.type, namespace.DCAT.Dataset)} == expected
    for sensor in NOT_PUBLIC:
        assert all(sensor.encode() not in body for body in bodies.values())


def test_temporal_coverage_comes_from_the_store(served: tuple[Graph, dict[str, bytes]]) -> None:
    graph = served[0]
    dataset = URIRef(f"{BASE}/opendata/datasets/stuehlinger/weather_air_temperature")
    period = graph.value(dataset, namespace.DCTERMS.temporal)
    assert graph.value(period, namespace.DCAT.startDate) == Literal("2025-03-01T06:00:00Z",
                                                          datatype=namespace.XSD.dateTime)
    assert graph.value(period, namespace.DCAT.endDate) == Literal("2025-04-19T23:59:00Z",
                                                        datatype=namespace.XSD.dateTime)
    silent = URIRef(f"{BASE}/opendata/datasets/freiburg/bike_wiwili")
    assert graph.value(silent, namespace.DCTERMS.temporal) is None  # no readings, no coverage
    files = URIRef(f"{dataset}#csv")
    assert graph.value(files, namespace.DCAT.accessURL) == URIRef(
        f"{BASE}/opendata/files/stuehlinger/weather_air_temperature/")


# rdflib's own JSON-LD parser uses its deprecated ConjunctiveGraph internally: not ours.
@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
def test_formats_carry_the_same_catalogue(catalogue: Catalogue, tmp_path: Path,
                                          served: tuple[Graph, dict[str, bytes]]) -> None:
    graph, bodies = served
    as_jsonld = Graph().parse(data=bodies["jsonld"], format="json-ld")
    as_rdfxml = Graph().parse(data=bodies["rdf"], format="xml")
    assert len(as_jsonld) == len(as_rdfxml) == len(graph) > 500
    json.loads(bodies["jsonld"])
    store = SQLiteStore(tmp_path / "empty.db")
    client = create_app(store, catalogue).server.test_client()
    negotiated = client.get("/opendata/catalog", headers={"Accept": "application/ld+json"})
    assert negotiated.status_code == 200 and negotiated.mimetype == "application/ld+json"
    assert client.get("/opendata/catalog").mimetype == "text/turtle"
    assert client.get("/opendata/catalog.xml").status_code == 404
    assert client.post("/opendata/catalog.ttl").status_code == 405
    without = catalogue.model_copy(update={"open_data": None})
    answer = create_app(store, without).server.test_client().get("/opendata/catalog.ttl")
    assert answer.status_code == 404 and b"`open_data:` section" in answer.data
    store.close()
