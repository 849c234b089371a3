"""The open-data routes on the dashboard's Flask server (`install`, called by create_app).

    GET /opendata/catalog[.ttl|.jsonld|.rdf]            DCAT-AP.de catalogue
    GET /opendata/files/<site>/<sensor>/                a dataset's files, as a list
    GET /opendata/files/<site>/<sensor>/<label>.csv     a day or a month (opendata/files.py)

Read-only: Flask answers 405 to anything but GET, HEAD and OPTIONS. Every answer names only
public datasets; an internal or personal sensor gets the same 404 as an unknown one.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import Flask, Response, current_app, request

from opendata import index_page, urls
from opendata.datasets import find_dataset
from opendata.dcat import catalogue_graph
from opendata.file_cache import FileCache
from opendata.files import not_public, serve_file, store_down, text
from opendata.source import Source, coverage, now_ns
from stadtpuls.links import LANGUAGE_COOKIE
from stadtpuls.settings.opendata import public_base_url
from stadtpuls.store.errors import StoreError

_KEY = "STADTPULS_OPENDATA"
CATALOG_TTL_S = 300.0
_RDFLIB_FORMATS = {"ttl": "turtle", "jsonld": "json-ld", "rdf": "xml"}


class _Installed:
    def __init__(self, source: Source, base_url: str | None) -> None:
        self.source = source
        self.base_url = base_url
        self.files = FileCache()


def install(server: Flask, source: Source) -> None:
    """Add the routes to `server`; STADTPULS_PUBLIC_BASE_URL is read here, once."""
    server.config[_KEY] = _Installed(source, public_base_url())
    server.add_url_rule(urls.CATALOG, "opendata_catalog", _catalog)
    server.add_url_rule(f"{urls.CATALOG}.<extension>", "opendata_catalog_file", _catalog)
    server.add_url_rule(f"{urls.FILES}/<site>/<sensor>/", "opendata_files_index", _index)
    server.add_url_rule(f"{urls.FILES}/<site>/<sensor>/<name>", "opendata_file", _file)


def _installed() -> _Installed:
    found = current_app.config.get(_KEY)
    if not isinstance(found, _Installed):
        raise RuntimeError("the open-data routes were not installed on this app")
    return found


def base_url() -> str:
    """Inside a request: STADTPULS_PUBLIC_BASE_URL, else the scheme and host asked for."""
    return _installed().base_url or request.host_url.rstrip("/")


def _file(site: str, sensor: str, name: str) -> Response:
    state = _installed()
    return serve_file(state.source, state.files, base_url(), site, sensor, name)


def _catalog(extension: str | None = None) -> Response:
    if extension is None:
        # Content negotiation; Turtle unless the client prefers one of the others.
        best = request.accept_mimetypes.best_match(list(urls.CATALOG_FORMATS.values()),
                                                   default="text/turtle")
        extension = next(e for e, m in urls.CATALOG_FORMATS.items() if m == best)
    if extension not in urls.CATALOG_FORMATS:
        return text(404, f"no catalogue format {extension!r}; use "
                    f"{', '.join(urls.CATALOG + '.' + e for e in urls.CATALOG_FORMATS)}")
    source = _installed().source
    meta = source.catalogue.open_data
    if meta is None:
        return text(404, "this deployment publishes no catalogue: the site catalogue has no "
                    "`open_data:` section (publisher and contact; see docs/opendata.md)")
    base = base_url()
    try:
        body = source.reader.memo(
            ("opendata.catalog", base, extension),
            lambda: catalogue_graph(source.catalogue, meta, base,
                                    lambda d: coverage(source, d)).serialize(
                format=_RDFLIB_FORMATS[extension]),
            CATALOG_TTL_S)
    except StoreError as exc:
        return store_down(exc)
    response = Response(body, mimetype=urls.CATALOG_FORMATS[extension])
    response.headers["Cache-Control"] = f"public, max-age={int(CATALOG_TTL_S)}"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Vary"] = "Accept"
    response.add_etag()
    response.make_conditional(request)  # 304 for a matching If-None-Match, in place
    return response


def _index(site: str, sensor: str) -> Response:
    source = _installed().source
    dataset = find_dataset(source.catalogue, site, sensor)
    if dataset is None:
        return not_public(site, sensor)
    try:
        span = coverage(source, dataset)
    except StoreError as exc:
        return store_down(exc)
    zone = ZoneInfo(dataset.site.timezone)
    months: list[date] = []
    if span is not None:
        first = datetime.fromtimestamp(span[0] // 10**9, UTC).astimezone(zone).date()
        today = datetime.fromtimestamp(now_ns(source) // 10**9, UTC).astimezone(zone).date()
        months = _months(first, today)
    lang = index_page.language(request.args.get("lang"), request.cookies.get(LANGUAGE_COOKIE),
                               request.accept_languages.best_match(index_page.LANGUAGES))
    body = index_page.render(dataset, months, lang)
    response = Response(body, mimetype="text/html")
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Vary"] = "Accept-Language, Cookie"
    return response


def _months(first: date, last: date) -> list[date]:
    out, month = [], first.replace(day=1)
    while month <= last:
        out.append(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return out
