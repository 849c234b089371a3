"""The pipeline page's "Screens" section: each catalogue screen's last contact, version and
scene, so the team sees a dead lobby screen before visitors do."""

from __future__ import annotations

from dash import html

from dashboard import i18n
from dashboard.data.source import DataSource
from dashboard.data.status import Status
from dashboard.i18n import t
from dashboard.kiosk.registry import Contact
from dashboard.ui import status_pill
from stadtpuls.timebase import NS_PER_S

QUIET_AFTER_MIN_S = 60.0
"""A screen polls at least every poll period and backs off to 30 s while it cannot reach
the server; no contact for a minute (or six poll periods, if longer) means it is gone."""


def quiet_after_s(source: DataSource) -> float:
    return max(QUIET_AFTER_MIN_S, 6 * source.settings.kiosk_poll_s)


def screens_section(source: DataSource, contacts: list[Contact | None], version: str,
                    lang: str) -> html.Section | None:
    displays = source.catalogue.displays
    if not displays:
        return None
    now = source.now_ns()
    rows = []
    for name, contact in zip(displays, contacts, strict=True):
        display = displays[name]
        zone = source.zone(display.site)
        if contact is None:
            state, last, shown_version, scene = Status.SILENT, t("time.never", lang), "–", "–"
        else:
            age = (now - contact.last_ns) / NS_PER_S
            state = Status.OK if age <= quiet_after_s(source) else Status.SILENT
            last = (f"{i18n.fmt_relative(age, lang)} "
                    f"({i18n.fmt_time(contact.last_ns, zone, lang, seconds=True)})")
            shown_version = contact.version + ("" if contact.version == version
                                               else f" ≠ {version}")
            scene = contact.scene or "–"
        rows.append(html.Tr([
            # Not the catalogue's description: it says where the screen hangs, for the team,
            # and this page is public.
            html.Th(html.A(name, href=f"/kiosk/{name}"), scope="row"),
            html.Td(status_pill(state, lang)), html.Td(last), html.Td(shown_version),
            html.Td(scene)], id=f"screen-{name}"))
    head = html.Thead(html.Tr([html.Th(t(key, lang), scope="col") for key in (
        "kiosk.screen", "kiosk.screen_state", "kiosk.last_contact", "kiosk.version",
        "kiosk.scene")]))
    return html.Section([
        html.H2(t("kiosk.screens", lang)),
        html.Div(html.Table([head, html.Tbody(rows)], className="table"),
                 className="table-wrap"),
    ], className="card", id="kiosk-screens")
