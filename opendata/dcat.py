"""The DCAT-AP.de 3.0 catalogue of the public datasets, as an rdflib graph.

One `dcat:Dataset` per public sensor with two distributions: the CSV files (an index of day
and month files) and the OGC SensorThings API (`opendata/sta/`, a `dcat:DataService`). Air
quality, noise and weather datasets carry the high-value-dataset category and Implementing
Regulation (EU) 2023/138 as applicable legislation. Political coverage is the catalogue's
geocoding URI (e.g. Freiburg's municipality key) as `dct:spatial`, as DCAT-AP.de 3.0 wants it
(the older `dcatde:politicalGeocodingURI` is deprecated there); the sensor's position is a
second `dct:spatial` with a WKT point. Checked against the official SHACL shapes in
tests/test_opendata_dcat.py.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, SKOS, XSD

from opendata import urls
from opendata.datasets import HVD_REGULATION, Dataset, public_datasets
from stadtpuls.catalogue import Catalogue
from stadtpuls.catalogue.publication import OpenData
from stadtpuls.timebase import NS_PER_S

DCATAP = Namespace("http://data.europa.eu/r5r/")
DCATDE = Namespace("http://dcat-ap.de/def/dcatde/")
GSP = Namespace("http://www.opengis.net/ont/geosparql#")
ELI = Namespace("http://data.europa.eu/eli/ontology#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
EU = "http://publications.europa.eu/resource/authority/"
FREQUENCY = URIRef(EU + "frequency/UPDATE_CONT")  # readings arrive as they are measured
LANGUAGE = URIRef(EU + "language/DEU")
CSV = URIRef(EU + "file-type/CSV")
JSON = URIRef(EU + "file-type/JSON")
STA_STANDARD = URIRef("http://www.opengis.net/doc/is/sensorthings/1.1")
MEDIA = "https://www.iana.org/assignments/media-types/"

Coverage = Callable[[Dataset], tuple[int, int] | None]


def catalogue_graph(catalogue: Catalogue, meta: OpenData, base_url: str,
                    coverage: Coverage) -> Graph:
    """The whole catalogue; `coverage` gives a dataset's first and last reading time."""
    g = Graph()
    for prefix, ns in (("dcat", DCAT), ("dct", DCTERMS), ("foaf", FOAF), ("vcard", VCARD),
                       ("dcatap", DCATAP), ("dcatde", DCATDE), ("gsp", GSP),
                       ("skos", SKOS)):
        g.bind(prefix, ns)
    root = URIRef(base_url + urls.CATALOG)
    publisher = URIRef(str(meta.publisher.uri))
    g.add((publisher, RDF.type, FOAF.Agent))
    g.add((publisher, FOAF.name, Literal(meta.publisher.name)))
    g.add((root, RDF.type, DCAT.Catalog))
    _texts(g, root, DCTERMS.title, meta.title.de, meta.title.en)
    _texts(g, root, DCTERMS.description, meta.description.de, meta.description.en)
    g.add((root, DCTERMS.publisher, publisher))
    g.add((root, DCTERMS.language, LANGUAGE))
    g.add((root, FOAF.homepage, URIRef(base_url + urls.LANDING)))
    g.add((root, DCAT.themeTaxonomy, URIRef(EU + "data-theme")))
    geocoding = URIRef(str(meta.political_geocoding_uri))
    g.add((geocoding, RDF.type, DCTERMS.Location))
    g.add((root, DCTERMS.spatial, geocoding))
    datasets = public_datasets(catalogue)
    service = _service(g, base_url, meta, datasets)
    g.add((root, DCAT.service, service))
    modified: list[int] = []
    for dataset in datasets:
        span = coverage(dataset)
        node = _dataset(g, dataset, meta, base_url, publisher, service, span)
        g.add((root, DCAT.dataset, node))
        if span:
            modified.append(span[1])
    if modified:
        g.add((root, DCTERMS.modified, _when(max(modified))))
    return g


def _dataset(g: Graph, dataset: Dataset, meta: OpenData, base_url: str, publisher: URIRef,
             service: URIRef, span: tuple[int, int] | None) -> URIRef:
    node = URIRef(f"{base_url}/opendata/datasets/{dataset.slug}")
    sensor, site = dataset.sensor, dataset.site
    g.add((node, RDF.type, DCAT.Dataset))
    _texts(g, node, DCTERMS.title, dataset.title("de"), dataset.title("en"))
    every = f"{sensor.interval_s:g}"
    _texts(g, node, DCTERMS.description,
           f"Messwerte von „{sensor.name.de}“ ({site.name.de}) in {dataset.unit}, etwa alle "
           f"{every} s, als CSV-Dateien je Tag und Monat und über die OGC SensorThings API.",
           f"Readings of “{sensor.name.en}” ({site.name.en}) in {dataset.unit}, about every "
           f"{every} s, as CSV files per day and month and through the OGC SensorThings API.")
    g.add((node, DCTERMS.identifier, Literal(str(node))))
    for keyword in [*meta.keywords, sensor.quantity.value]:
        g.add((node, DCAT.keyword, Literal(keyword, lang="de")))
    g.add((node, DCTERMS.publisher, publisher))
    g.add((node, DCAT.contactPoint, _contact(g, meta)))
    g.add((node, DCAT.theme, URIRef(dataset.theme_uri)))
    g.add((node, DCTERMS.accrualPeriodicity, FREQUENCY))
    g.add((node, DCTERMS.language, LANGUAGE))
    g.add((node, DCAT.landingPage, URIRef(base_url + urls.LANDING)))
    g.add((node, DCTERMS.spatial, URIRef(str(meta.political_geocoding_uri))))
    g.add((node, DCATDE.politicalGeocodingLevelURI, URIRef(meta.political_geocoding_level_uri)))
    if meta.contributor_id is not None:
        g.add((node, DCATDE.contributorID, URIRef(str(meta.contributor_id))))
    place = BNode()
    g.add((place, RDF.type, DCTERMS.Location))
    g.add((place, DCAT.centroid, Literal(
        f"POINT({sensor.position.lon} {sensor.position.lat})", datatype=GSP.wktLiteral)))
    g.add((node, DCTERMS.spatial, place))
    if span is not None:
        period = BNode()
        g.add((period, RDF.type, DCTERMS.PeriodOfTime))
        g.add((period, DCAT.startDate, _when(span[0])))
        g.add((period, DCAT.endDate, _when(span[1])))
        g.add((node, DCTERMS.temporal, period))
        g.add((node, DCTERMS.issued, _when(span[0])))
        g.add((node, DCTERMS.modified, _when(span[1])))
    if dataset.hvd_category is not None:
        category = URIRef(dataset.hvd_category)
        g.add((category, RDF.type, SKOS.Concept))
        g.add((node, DCATAP.hvdCategory, category))
        g.add((node, DCATAP.applicableLegislation, _regulation(g)))
        g.add((service, DCATAP.hvdCategory, URIRef(dataset.hvd_category)))
    g.add((service, DCAT.servesDataset, node))
    files = _distribution(g, dataset, meta, f"{node}#csv", base_url + urls.files_index(dataset),
                          CSV, "text/csv",
                          ("CSV-Dateien je Tag und Monat", "CSV files per day and month"))
    api = _distribution(g, dataset, meta, f"{node}#sensorthings",
                        base_url + urls.sta_datastreams(dataset), JSON, "application/json",
                        ("OGC SensorThings API (Datastream)", "OGC SensorThings API (Datastream)"))
    g.add((api, DCAT.accessService, service))
    g.add((api, DCTERMS.conformsTo, _standard(g)))
    g.add((node, DCAT.distribution, files))
    g.add((node, DCAT.distribution, api))
    return node


def _distribution(g: Graph, dataset: Dataset, meta: OpenData, uri: str, access: str,
                  file_type: URIRef, media: str, title: tuple[str, str]) -> URIRef:
    node = URIRef(uri)
    g.add((node, RDF.type, DCAT.Distribution))
    _texts(g, node, DCTERMS.title, *title)
    g.add((node, DCAT.accessURL, URIRef(access)))
    g.add((node, DCTERMS.format, file_type))
    g.add((node, DCAT.mediaType, URIRef(MEDIA + media)))
    assert dataset.publication.licence_uri is not None  # public datasets have a licence
    licence = URIRef(dataset.publication.licence_uri)
    g.add((licence, RDF.type, DCTERMS.LicenseDocument))
    g.add((node, DCTERMS.license, licence))
    g.add((node, DCATDE.licenseAttributionByText, Literal(meta.attribution)))
    if dataset.hvd_category is not None:
        g.add((node, DCATAP.applicableLegislation, _regulation(g)))
    return node


def _service(g: Graph, base_url: str, meta: OpenData, datasets: list[Dataset]) -> URIRef:
    node = URIRef(base_url + urls.STA_ROOT)
    g.add((node, RDF.type, DCAT.DataService))
    _texts(g, node, DCTERMS.title, "OGC SensorThings API (Stadtpuls)",
           "OGC SensorThings API (Stadtpuls)")
    g.add((node, DCAT.endpointURL, node))
    g.add((node, DCTERMS.conformsTo, _standard(g)))
    g.add((node, DCTERMS.publisher, URIRef(str(meta.publisher.uri))))
    g.add((node, DCAT.contactPoint, _contact(g, meta)))
    licences = {d.publication.licence_uri for d in datasets if d.publication.licence_uri}
    if len(licences) == 1:
        g.add((node, DCTERMS.license, URIRef(licences.pop())))
    if any(d.hvd_category for d in datasets):
        g.add((node, DCATAP.applicableLegislation, _regulation(g)))
    page = URIRef(base_url + urls.LANDING)  # its documentation
    g.add((page, RDF.type, FOAF.Document))
    g.add((node, FOAF.page, page))
    return node


def _standard(g: Graph) -> URIRef:
    g.add((STA_STANDARD, RDF.type, DCTERMS.Standard))
    return STA_STANDARD


def _regulation(g: Graph) -> URIRef:
    """Implementing Regulation (EU) 2023/138, the high-value datasets, typed as DCAT-AP
    HVD asks (harvesters do not dereference the ELI)."""
    node = URIRef(HVD_REGULATION)
    g.add((node, RDF.type, ELI.LegalResource))
    return node


def _contact(g: Graph, meta: OpenData) -> BNode:
    node = BNode()
    g.add((node, RDF.type, VCARD.Organization))
    g.add((node, RDF.type, VCARD.Kind))  # stated: harvesters do not infer the superclass
    g.add((node, VCARD.fn, Literal(meta.contact.name)))
    g.add((node, VCARD.hasEmail, URIRef(f"mailto:{meta.contact.email}")))
    if meta.contact.url is not None:
        g.add((node, VCARD.hasURL, URIRef(str(meta.contact.url))))
    return node


def _texts(g: Graph, node: URIRef, predicate: URIRef, de: str, en: str) -> None:
    g.add((node, predicate, Literal(de, lang="de")))
    g.add((node, predicate, Literal(en, lang="en")))


def _when(time_ns: int) -> Literal:
    moment = datetime.fromtimestamp(time_ns // NS_PER_S, UTC)
    return Literal(moment.isoformat().replace("+00:00", "Z"), datatype=XSD.dateTime)
