"""Open data (`/opendata`): what the city publishes, where to get it, how to cite it.

Built from `opendata.datasets` (only public sensors) and `opendata.urls` (the stable URL
scheme); the files and the catalogue themselves are Flask routes (`opendata/routes.py`).
A static page: no callbacks, no store query.
"""

from __future__ import annotations

from typing import Any

from dash import html

from dashboard import i18n, runtime
from dashboard.i18n import t
from dashboard.page import Page
from dashboard.ui import aria, page_head
from opendata import urls
from opendata.datasets import Dataset, public_datasets
from opendata.routes import base_url

page = Page(__name__, path=urls.LANDING, name="Offene Daten", title="Stadtpuls – Offene Daten",
            order=5, nav_key="nav.opendata")


@page.layout
def layout(lang: str | None = None, **_: Any) -> html.Div:
    lang = i18n.lang_or_default(lang)
    catalogue = runtime.source().catalogue
    datasets = public_datasets(catalogue)
    head = page_head(t("opendata.title", lang), t("opendata.intro", lang))
    if not datasets:
        return html.Div([head, html.Section(html.P(t("opendata.none", lang)), className="card")])
    sites = {d.site_id for d in datasets}
    meta = catalogue.open_data
    return html.Div([
        head,
        html.Section([
            html.H2(t("opendata.what", lang)),
            html.P(t("opendata.what_text", lang, n=len(datasets), sites=len(sites))),
        ], className="card"),
        _access(datasets[0], lang),
        html.Section([
            html.H2(t("opendata.datasets", lang), id="opendata-datasets"),
            html.Div(_table(datasets, lang), className="table-wrap"),
        ], className="card", **aria(labelledby="opendata-datasets")),
        _cite(datasets, meta.attribution if meta else None,
              (meta.contact.name, meta.contact.email) if meta else None, lang),
    ], className="opendata")


def _code_link(path: str) -> html.A:
    return html.A(html.Code(path), href=path)


def _access(example: Dataset, lang: str) -> html.Section:
    day = urls.file_path(example, "YYYY-MM-DD")
    month = urls.file_path(example, "YYYY-MM")
    return html.Section([
        html.H2(t("opendata.access", lang)),
        html.H3(t("opendata.sta", lang)),
        html.P([t("opendata.sta_text", lang), " ", _code_link(urls.STA_ROOT)]),
        html.H3(t("opendata.catalog", lang)),
        html.P([t("opendata.catalog_text", lang), " ",
                *_joined([_code_link(f"{urls.CATALOG}.{ext}") for ext in urls.CATALOG_FORMATS])]),
        html.H3(t("opendata.files", lang)),
        html.P(t("opendata.files_text", lang)),
        html.Ul([html.Li(html.Code(day)), html.Li(html.Code(month))]),
    ], className="card")


def _joined(items: list[Any]) -> list[Any]:
    out: list[Any] = []
    for i, item in enumerate(items):
        out += [", "] if i else []
        out.append(item)
    return out


def _table(datasets: list[Dataset], lang: str) -> html.Table:
    rows = []
    for d in datasets:
        name = d.sensor.name.get(lang)
        rows.append(html.Tr([
            html.Th(name, scope="row"),
            html.Td(d.site.name.get(lang)),
            html.Td(d.unit),
            html.Td(html.A(d.publication.licence, href=d.publication.licence_text_url,
                           title=d.publication.licence_name)),
            html.Td([
                html.A(t("opendata.link_files", lang), href=urls.files_index(d),
                       **aria(label=t("opendata.link_files_of", lang, name=name))),
                " · ",
                html.A(t("opendata.link_sta", lang), href=urls.sta_datastreams(d),
                       **aria(label=t("opendata.link_sta_of", lang, name=name))),
            ]),
        ]))
    return html.Table([
        html.Thead(html.Tr([html.Th(t(f"opendata.col_{c}", lang), scope="col")
                            for c in ("dataset", "site", "unit", "licence", "links")])),
        html.Tbody(rows),
    ], className="table")


def _cite(datasets: list[Dataset], attribution: str | None,
          contact: tuple[str, str] | None, lang: str) -> html.Section:
    licences = dict.fromkeys(d.publication.licence_name for d in datasets)
    lines = [t("opendata.cite_example", lang, attribution=attribution or "Stadtpuls",
               licence=name, url=base_url() + urls.LANDING) for name in licences if name]
    children: list[Any] = [html.H2(t("opendata.cite", lang)),
                           html.P(t("opendata.cite_text", lang)),
                           *[html.Blockquote(line) for line in lines]]
    if contact is not None:
        name, email = contact
        children.append(html.P([t("opendata.contact", lang, name=name), " ",
                                html.A(email, href=f"mailto:{email}")]))
    return html.Section(children, className="card")
