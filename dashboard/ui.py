"""Small building blocks shared by the pages: headings, KPI tiles, status pills, links."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from dash import callback_context, dcc, html, no_update

from dashboard import i18n
from dashboard.data.periods import RangeRefused
from dashboard.data.source import DEFAULT_GRID_CO2_G_PER_KWH, DashboardSettings, DataSource
from dashboard.data.status import SensorState, Status
from dashboard.figures.described import ChartText
from dashboard.i18n import t
from stadtpuls.catalogue import Sensor

# Re-exported for the pages; the URL format's home is the core (alert messages link to it).
from stadtpuls.links import parse_sensor_token as parse_sensor_token
from stadtpuls.links import sensor_token as sensor_token
from stadtpuls.store.errors import StoreError
from stadtpuls.units import CANONICAL_UNIT, Quantity

log = logging.getLogger(__name__)


def aria(**attributes: str) -> Any:
    """`aria-*` attributes for a Dash html component: aria(label="…") → aria-label."""
    return {f"aria-{name}": value for name, value in attributes.items()}



def scroll_region(content: Any, label: str, **attributes: Any) -> html.Div:
    """A wide table's sideways-scrolling box: focusable and named, so keyboard users can
    scroll it too (WCAG 2.1.1; axe: scrollable-region-focusable)."""
    return html.Div(content, className="table-wrap", tabIndex="0", role="region",
                    **aria(label=label), **attributes)


def chart_table(text: ChartText) -> html.Table | None:
    """A chart's data: caption, column headers, each row headed by its time or name."""
    if not (text.columns and text.rows):
        return None
    return html.Table([
        html.Caption(text.caption),
        html.Thead(html.Tr([html.Th(c, scope="col") for c in text.columns])),
        html.Tbody([html.Tr([html.Th(row[0], scope="row"),
                             *[html.Td(v, className="num") for v in row[1:]]])
                    for row in text.rows]),
    ], className="table table-compact")


def chart_text(text: ChartText, lang: str) -> list[Any]:
    """A chart's summary and its data as a table behind a disclosure (<details>)."""
    out: list[Any] = [html.P(text.summary, className="chart-summary")]
    table = chart_table(text)
    if table is not None:
        out.append(html.Details([
            html.Summary(t("chart.data", lang)),
            scroll_region(table, text.caption),
            html.P(text.note, className="footnote") if text.note else None,
        ], className="chart-data"))
    return out


STATUS_ICON = {Status.OK: "●", Status.LATE: "◐", Status.SILENT: "○",
               Status.IMPLAUSIBLE: "▲", Status.STUCK: "▬", Status.INCOMPLETE: "◔",
               Status.LOW_BATTERY: "▼", Status.UNREGISTERED: "?"}


def page_head(title: str, intro: str | None = None, *controls: Any) -> html.Div:
    children: list[Any] = [html.Div([html.H1(title), html.P(intro, className="intro")
                                     if intro else None], className="page-title")]
    if controls:
        children.append(html.Div(list(controls), className="page-controls"))
    return html.Div(children, className="page-head")


def alert_slot(component_id: str) -> html.Div:
    return html.Div(id=component_id, className="alert-slot", role="status")


def store_alert(lang: str) -> html.Div:
    return html.Div(t("app.store_down", lang), className="alert")


def tick(component_id: str, settings: DashboardSettings) -> dcc.Interval:
    return dcc.Interval(id=component_id, interval=int(settings.refresh_s * 1000))


def kpi(label: str, value: str, sub: Any = None, *, tone: str | None = None,
        big: bool = False, help_text: str | None = None) -> html.Div:
    classes = "kpi" + (" kpi-big" if big else "") + (f" tone-{tone}" if tone else "")
    number, _, unit = value.partition("\u202f")
    if not number[:1].isdigit() and number[:1] not in ("−", "–"):
        classes += " kpi-text"  # a word such as "verbunden" wraps instead of being cut
    shown: Any = [html.Span(number), html.Span(unit, className="kpi-unit")] if unit else value
    return html.Div([
        html.Div(label, className="kpi-label", title=help_text),
        html.Div(shown, className="kpi-value"),
        html.Div(sub, className="kpi-sub") if sub else None,
    ], className=classes)


def status_pill(status: Status, lang: str, count: int | None = None) -> html.Span:
    label = t(f"status.{status.value}", lang)
    text = f"{count} {label}" if count is not None else label
    icon = html.Span(STATUS_ICON[status], className="pill-icon", **aria(hidden="true"))
    return html.Span([icon, text], className=f"pill pill-{status.value}")


def _unchanged(outputs: int) -> list[Any]:
    """`no_update` for each output, as a list for a wildcard (ALL) output, which Dash wants
    shaped like the components it matched (the overview's per-site cards)."""
    try:
        specs = callback_context.outputs_list[:outputs]
    except (AttributeError, IndexError, KeyError, LookupError):  # called outside a request
        return [no_update] * outputs
    return [[no_update] * len(spec) if isinstance(spec, list) else no_update for spec in specs]


def guarded(outputs: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Show a banner instead of failing when the store is down or a request is refused.

    The wrapped callback returns `outputs` values and takes the language as its last
    argument; the wrapper adds one more output, the page's alert slot. A failed callback
    would leave an error in the browser console and the last good data would vanish.
    """

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def run(*args: Any) -> Any:
            lang = i18n.lang_or_default(args[-1] if args else None)
            try:
                result = fn(*args)
            except StoreError as exc:
                log.warning("%s: store unavailable: %s", fn.__name__, exc)
                return (*_unchanged(outputs), store_alert(lang))
            except RangeRefused as exc:
                # A visitor's absurd request (a date in year 9999): say so, query nothing.
                return (*_unchanged(outputs),
                        html.Div(t(exc.key, lang, **exc.params), className="alert"))
            values = result if outputs > 1 else (result,)
            return (*values, None)

        return run

    return wrap


def sensor_href(state: SensorState) -> str:
    quantity = None if state.sensor is not None else state.quantity.value
    return "/sensors/" + sensor_token(state.site, state.sensor_id, quantity)


def sensor_name(sensor: Sensor | None, sensor_id: str, lang: str) -> str:
    return sensor.name.get(lang) if sensor is not None else sensor_id


def site_name(source: DataSource, site: str, lang: str) -> str:
    entry = source.catalogue.sites.get(site)
    return entry.name.get(lang) if entry is not None else site


def unit_of(quantity: Quantity) -> str:
    """The canonical unit to show after a value ("" for plain counts)."""
    unit = CANONICAL_UNIT[quantity]
    return "" if unit == "count" else unit


def now_text(source: DataSource, lang: str) -> str:
    site = next(iter(source.catalogue.sites), None)
    zone = source.zone(site) if site else None
    if zone is None:
        return ""
    return t("app.updated", lang, time=i18n.fmt_time(int(source.clock() * 1e9), zone, lang,
                                                     date=False))


def co2_factor_note(source: DataSource, lang: str) -> str:
    """The CO₂ factor in use and its source (the UBA figure, or "set by the operator")."""
    factor = source.settings.grid_co2_g_per_kwh
    return t("energy.co2_note", lang, factor=i18n.fmt_number(factor, lang),
             source=t("energy.co2_source" if factor == DEFAULT_GRID_CO2_G_PER_KWH
                      else "energy.co2_source_custom", lang))
