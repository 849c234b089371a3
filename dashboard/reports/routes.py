"""`/reports/<site>/<period>` (printable document) and `/reports/<site>/<period>.csv` on the
dashboard's Flask server; `period` is a year ("2026") or a month ("2026-10").

Inputs are bounded before anything is queried: the site must be in the catalogue with PV
arrays, the period must parse and lie between `periods.EARLIEST_DAY` and today. Answers:
400 for a period that is no period, 404 for an unknown site or a period outside that
range, 503 while the store is unavailable, each with one sentence saying what to do.
"""

from __future__ import annotations

from html import escape

from flask import Flask, Response, request

from dashboard import i18n, runtime
from dashboard.data.periods import RangeRefused, local_day
from dashboard.data.report import ReportPeriod, parse_period, site_report
from dashboard.data.source import DataSource
from dashboard.i18n import t
from dashboard.reports.csv_export import to_csv
from dashboard.reports.document import render
from dashboard.reports.view import report_view
from stadtpuls.store.errors import StoreError

_NO_STORE = 503


def install(server: Flask, source: DataSource) -> None:
    del source  # the routes find the app's data through `dashboard.runtime`, as pages do
    server.add_url_rule("/reports/<site>/<period>.csv", "report_csv", _csv)
    server.add_url_rule("/reports/<site>/<period>", "report_document", _document)


def report_href(site: str, period: ReportPeriod, lang: str, *, csv: bool = False) -> str:
    return f"/reports/{site}/{period.text}{'.csv' if csv else ''}?lang={lang}"


def _lang(source: DataSource) -> str:
    return i18n.lang_or_default(request.args.get("lang"), source.settings.default_language)


def _checked(source: DataSource, site: str, period: str, lang: str
             ) -> ReportPeriod | tuple[str, int]:
    entry = source.catalogue.sites.get(site)
    if entry is None or not entry.pv_arrays:
        return t("report.unknown_site", lang, site=site), 404
    today = local_day(source.now_ns(), source.zone(site))
    try:
        return parse_period(period, today)
    except RangeRefused as exc:
        return t(exc.key, lang, **exc.params), 400 if exc.key == "report.bad_period" else 404


def _document(site: str, period: str) -> Response:
    source = runtime.source()
    lang = _lang(source)
    checked = _checked(source, site, period, lang)
    if isinstance(checked, tuple):
        return _message_page(*checked, lang)
    try:
        report = site_report(source, site, checked)
    except StoreError:
        return _message_page(t("app.store_down", lang), _NO_STORE, lang)
    body = render(report_view(source, report, lang), lang,
                  report_href(site, checked, lang, csv=True),
                  f"/reports?site={site}&period={checked.text}&lang={lang}")
    response = Response(body, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def _csv(site: str, period: str) -> Response:
    source = runtime.source()
    lang = _lang(source)
    checked = _checked(source, site, period, lang)
    if isinstance(checked, tuple):
        return Response(checked[0] + "\n", checked[1], mimetype="text/plain")
    try:
        report = site_report(source, site, checked)
    except StoreError:
        return Response(t("app.store_down", lang) + "\n", _NO_STORE, mimetype="text/plain")
    response = Response(to_csv(source, report, lang), mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="stadtpuls-report-{site}-{checked.text}.csv"')
    return response


def _message_page(message: str, status: int, lang: str) -> Response:
    body = (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
            f"<title>Stadtpuls – {escape(t('report.title', lang))}</title></head><body>"
            f'<main><p>{escape(message)}</p><p><a href="/reports">'
            f"{escape(t('report.back', lang))}</a></p></main></body></html>")
    return Response(body, status, mimetype="text/html")
