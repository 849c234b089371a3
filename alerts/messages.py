"""Notification texts in German and English, rendered once when a notification is queued.

A message names the sensor (its catalogue name in the recipient's language), the site, the
value with its unit, since when (site time), and links to the sensor's dashboard page. It is
stored in the outbox as rendered, so a later catalogue edit never changes a queued message
and the sender needs no catalogue.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from alerts.state import AlertRow
from stadtpuls.catalogue import Catalogue
from stadtpuls.links import sensor_url
from stadtpuls.pipeline import PIPELINE_SITE
from stadtpuls.timebase import NS_PER_S
from stadtpuls.units import CANONICAL_UNIT

_RULES: dict[str, tuple[str, str]] = {
    "no_data": ("sendet keine Daten", "sends no data"),
    "stuck": ("Wert hängt (ändert sich nicht)", "value stuck (not changing)"),
    "implausible": ("unplausible Werte", "implausible values"),
    "completeness": ("lückenhafte Daten", "incomplete data"),
    "battery": ("Batterie schwach", "battery low"),
    "store_unreachable": ("Datenbank nicht erreichbar", "store unreachable"),
    "spool_growing": ("Zwischenspeicher wächst", "spool growing"),
    "ingest_not_reporting": ("Ingest meldet sich nicht", "ingest not reporting"),
    "kiosk_not_reporting": ("Anzeige-Bildschirm meldet sich nicht", "lobby screen not "
                            "reporting"),
}
_TRANSITIONS: dict[str, tuple[str, str]] = {
    "firing": ("ALARM", "FIRING"),
    "resolved": ("BEHOBEN", "RESOLVED"),
    "reminder": ("ERINNERUNG", "REMINDER"),
}
_WORDS: dict[str, tuple[str, str]] = {
    "sensor": ("Sensor", "Sensor"),
    "site": ("Standort", "Site"),
    "value": ("Wert", "Value"),
    "since": ("seit", "since"),
    "resolved_at": ("behoben", "resolved"),
    "severity": ("Schwere", "Severity"),
    "link": ("Verlauf", "History"),
    "acked": ("bestätigt von", "acknowledged by"),
}


def _w(key: str, lang: str) -> str:
    de, en = _WORDS[key]
    return en if lang == "en" else de


def rule_title(rule: str, lang: str) -> str:
    if rule.startswith("threshold:"):
        name = rule.removeprefix("threshold:")
        direction, _, level = name.partition("_")
        words = {"above": ("über", "above"), "below": ("unter", "below")}
        if direction in words and level:
            de, en = words[direction]
            return f"{en if lang == 'en' else de} {level}"
        return name
    de, en = _RULES.get(rule, (rule, rule))
    return en if lang == "en" else de


def _when(ns: int | None, zone: ZoneInfo) -> str:
    if ns is None:
        return "–"
    return datetime.fromtimestamp(ns / NS_PER_S, zone).strftime("%Y-%m-%d %H:%M %Z")


def render(alert: AlertRow, transition: str, lang: str, catalogue: Catalogue,
           dashboard_url: str | None) -> dict[str, Any]:
    """Subject, plain text and the alert's facts (for the webhook's JSON)."""
    site_entry = catalogue.sites.get(alert.site)
    sensor = catalogue.sensor(alert.site, alert.sensor)
    zone = ZoneInfo(site_entry.timezone if site_entry else "UTC")
    site_name = site_entry.name.get(lang) if site_entry else alert.site
    sensor_name = sensor.name.get(lang) if sensor else alert.sensor
    unit = CANONICAL_UNIT[sensor.quantity] if sensor else ""
    if alert.rule in ("completeness",):
        value = f"{alert.value:.0%}" if alert.value is not None else "–"
    else:
        value = "–" if alert.value is None else f"{alert.value:g} {unit}".strip()
    kind = transition.partition(":")[0]
    de, en = _TRANSITIONS[kind]
    head = en if lang == "en" else de
    title = rule_title(alert.rule, lang)
    subject = f"[Stadtpuls] {head}: {sensor_name} ({site_name}) – {title}"
    url = (sensor_url(dashboard_url, alert.site, alert.sensor)
           if dashboard_url and alert.site != PIPELINE_SITE else None)
    lines = [
        f"{head}: {title}",
        f"{_w('sensor', lang)}: {sensor_name}",
        f"{_w('site', lang)}: {site_name}",
        f"{_w('value', lang)}: {value}",
        f"{_w('since', lang)}: {_when(alert.since_ns, zone)}",
        f"{_w('severity', lang)}: {alert.severity}",
    ]
    if kind == "resolved":
        lines.append(f"{_w('resolved_at', lang)}: {_when(alert.resolved_ns, zone)}")
    if alert.ack_by:
        lines.append(f"{_w('acked', lang)}: {alert.ack_by}")
    if url:
        lines.append(f"{_w('link', lang)}: {url}")
    return {
        "subject": subject,
        "text": "\n".join(lines),
        "alert": {
            "id": alert.id, "rule": alert.rule, "title": title, "transition": transition,
            "state": alert.state, "severity": alert.severity, "site": alert.site,
            "site_name": site_name, "sensor": alert.sensor, "sensor_name": sensor_name,
            "value": alert.value, "unit": unit, "since_ns": alert.since_ns,
            "fired_ns": alert.fired_ns, "resolved_ns": alert.resolved_ns, "url": url,
            "language": lang,
        },
    }
