"""Dash pages; each module defines one `Page` (`dashboard.page`), and `ALL` lists them.

The app factory registers `ALL` on every app it builds; a new page is a module here plus
its entry below.
"""

from dashboard.page import Page
from dashboard.pages import (
    alerts,
    energy,
    login,
    not_found_404,
    opendata,
    overview,
    reports,
    sensor_detail,
    sensors,
    statement,
    status,
)
from dashboard.pages import map as map_page

ALL: tuple[Page, ...] = (overview.page, energy.page, sensors.page, map_page.page,
                         status.page, reports.page, alerts.page, opendata.page, login.page,
                         sensor_detail.page, statement.page, not_found_404.page)
