"""Every user-facing text of the dashboard, in German and English, and locale formatting.

German is the default (the sites are German). Numbers follow the language: German
`1.234,5`, English `1,234.5`; times are shown in the site's time zone; ages read
"vor 3 Min." or "3 min ago". Sensor and site names come from the catalogue's de/en names.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dashboard.i18n_text import TEXT
from stadtpuls.timebase import NS_PER_S

LANGUAGES = ("de", "en")
DEFAULT = "de"


def lang_or_default(lang: object, default: str = DEFAULT) -> str:
    return lang if isinstance(lang, str) and lang in LANGUAGES else default


def t(key: str, lang: str, **values: Any) -> str:
    """The text for `key`; a missing key shows itself (and a test lists missing keys).

    A count is passed as `n`; when it is one and `key_one` exists, that text is used
    ("1 Sensor", not "1 Sensoren")."""
    entry = TEXT.get(key)
    if "n" in values and str(values["n"]) == "1":
        entry = TEXT.get(key + "_one", entry)
    if entry is None:
        return key
    text = entry.get(lang) or entry[DEFAULT]
    return text.format(**values) if values else text


def fmt_number(value: float | None, lang: str, decimals: int = 0) -> str:
    """1234.5 → "1.234,5" (de) or "1,234.5" (en); None/NaN → "–"."""
    if value is None or not math.isfinite(value):
        return "–"
    if decimals == 0 and abs(value) < 0.5:
        value = 0.0  # no "-0"
    text = f"{value:,.{decimals}f}"
    if lang == "de":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text.replace("-", "−")


def auto_decimals(value: float | None) -> int:
    """Decimals that keep about three significant digits, at most two."""
    if value is None or not math.isfinite(value) or value == 0:
        return 0
    magnitude = abs(value)
    if magnitude >= 100:
        return 0
    if magnitude >= 10:
        return 1
    return 2 if magnitude < 1 else 1


def fmt_value(value: float | None, unit: str, lang: str, decimals: int | None = None) -> str:
    """Number with its unit, a narrow no-break space between ("21,4 °C", "3 count" → "3")."""
    number = fmt_number(value, lang, auto_decimals(value) if decimals is None else decimals)
    if not unit or unit == "count" or number == "–":
        return number
    if unit == "%" and lang == "en":
        return f"{number}%"
    return f"{number}\u202f{unit}"


def fmt_percent(share: float | None, lang: str, decimals: int = 0) -> str:
    """0.834 → "83 %" (de) / "83%" (en)."""
    if share is None or not math.isfinite(share):
        return "–"
    number = fmt_number(share * 100, lang, decimals)
    return f"{number}\u202f%" if lang == "de" else f"{number}%"


def energy_parts(wh: float | None, lang: str) -> tuple[str, str]:
    """(number, unit) of Wh scaled to kWh or MWh, whichever reads best; the kiosk sets the
    two apart, the pages join them (`fmt_energy`)."""
    if wh is None:
        return "–", ""
    if abs(wh) >= 10_000_000:
        return fmt_number(wh / 1e6, lang, 1), "MWh"
    kwh = wh / 1000
    return fmt_number(kwh, lang, 0 if abs(kwh) >= 100 else 1), "kWh"


def kw_number(w: float, lang: str) -> str:
    """Watts as a number of kW, whole from 100 kW on."""
    return fmt_number(w / 1000, lang, 0 if abs(w) >= 100_000 else 1)


def _joined(number: str, unit: str) -> str:
    return f"{number}\u202f{unit}" if unit and number != "–" else number


def fmt_energy(wh: float | None, lang: str) -> str:
    return _joined(*energy_parts(wh, lang))


def fmt_power(w: float | None, lang: str) -> str:
    if w is None:
        return "–"
    if abs(w) >= 1000:
        return _joined(kw_number(w, lang), "kW")
    return fmt_value(w, "W", lang, 0)


def fmt_co2(kg: float | None, lang: str) -> str:
    """CO₂ mass: whole kg, or tonnes with one decimal from 10 t on."""
    if kg is not None and kg >= 10_000:
        return fmt_value(kg / 1000, "t", lang, 1)
    return fmt_value(kg, "kg", lang, 0)


def fmt_reading(value: float | None, quantity: str, unit: str, lang: str) -> str:
    """A reading as people read it: meters in kWh/MWh, power in W/kW, counts whole."""
    if quantity == "energy":
        return fmt_energy(value, lang)
    if quantity == "power":
        return fmt_power(value, lang)
    if quantity == "count":
        return fmt_number(value, lang, 0)
    return fmt_value(value, unit, lang)


def fmt_relative(age_s: float | None, lang: str) -> str:
    """How long ago: "vor 3 Min." / "3 min ago"; None → "nie" / "never"."""
    if age_s is None:
        return t("time.never", lang)
    if age_s < 45:
        return t("time.just_now", lang)
    minutes = age_s / 60
    if minutes < 59.5:
        return t("time.minutes_ago", lang, n=max(1, round(minutes)))
    hours = minutes / 60
    if hours < 23.5:
        return t("time.hours_ago", lang, n=round(hours))
    days = round(hours / 24)
    return t("time.day_ago" if days == 1 else "time.days_ago", lang, n=days)


def fmt_time(time_ns: int | None, zone: ZoneInfo, lang: str, *, date: bool = True,
             seconds: bool = False) -> str:
    """A time in the site's zone: "14.06.2025, 13:05" (de) / "14 Jun 2025, 13:05" (en)."""
    if time_ns is None:
        return "–"
    local = datetime.fromtimestamp(time_ns / NS_PER_S, tz=zone)
    clock = local.strftime("%H:%M:%S" if seconds else "%H:%M")
    if not date:
        return clock
    if lang == "de":
        return f"{local:%d.%m.%Y}, {clock}"
    return f"{local.day} {MONTHS_EN[local.month - 1]} {local.year}, {clock}"


MONTHS_DE = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
             "September", "Oktober", "November", "Dezember"]
MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
             "Dec"]


def plotly_separators(lang: str) -> str:
    """Plotly's `layout.separators`: decimal then thousands."""
    return ",." if lang == "de" else ".,"


def plotly_config(lang: str, *, modebar: bool = False) -> Any:
    """dcc.Graph `config`: locale shipped inline (nothing loads from a CDN)."""
    config: dict[str, Any] = {"displaylogo": False,
                              "displayModeBar": "hover" if modebar else False}
    if lang == "de":
        config["locale"] = "de-stadtpuls"
        config["locales"] = {"de-stadtpuls": {"format": {
            "days": ["Sonntag", "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag",
                     "Samstag"],
            "shortDays": ["So", "Mo", "Di", "Mi", "Do", "Fr", "Sa"],
            "months": MONTHS_DE,
            "shortMonths": ["Jan", "Feb", "Mär", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep",
                            "Okt", "Nov", "Dez"],
            "date": "%d.%m.%Y",
            "decimal": ",",
            "thousands": ".",
            "year": "%Y",
            "month": "%b %Y",
            "dayMonth": "%-d. %b",
            "dayMonthYear": "%-d. %b %Y",
        }, "dictionary": {
            "Autoscale": "Automatisch skalieren",
            "Download plot as a png": "Als PNG herunterladen",
            "Reset axes": "Achsen zurücksetzen",
            "Zoom in": "Vergrößern",
            "Zoom out": "Verkleinern",
            "Zoom": "Zoomen",
            "Pan": "Verschieben",
            "Box Select": "Rechteckauswahl",
            "Lasso Select": "Lassoauswahl",
            "Double-click to zoom back out": "Doppelklick zum Zurückzoomen",
        }}}
    return config
