"""Every component id of the dashboard, in one place (ids are unique across all pages)."""

from __future__ import annotations

# frame
URL = "url"
LANG = "lang"
LANG_DE = "lang-de"
LANG_EN = "lang-en"
NAV = "nav"
CLOCK = "clock"
CLOCK_TICK = "clock-tick"
HTML_LANG = "html-lang"
LANG_SWITCH = "lang-switch"
SKIP_LINK = "skip-link"
BRAND = "brand"
FOOTER = "footer"

# overview
OVERVIEW_TICK = "overview-tick"
OVERVIEW_CARDS = "overview-cards"
OVERVIEW_ALERT = "overview-alert"
OVERVIEW_ANNOUNCE = "overview-announce"
OVERVIEW_HEALTH = "overview-health"
# per site card (pattern ids {"type": …, "site": site id})
OVERVIEW_TIME = "overview-time"
OVERVIEW_KPIS = "overview-kpis"
OVERVIEW_TREND_LABEL = "overview-trend-label"
OVERVIEW_TREND = "overview-trend"
OVERVIEW_TREND_SUMMARY = "overview-trend-summary"
OVERVIEW_TREND_TABLE = "overview-trend-table"
OVERVIEW_COUNT = "overview-count"
OVERVIEW_PILLS = "overview-pills"

# energy
ENERGY_TICK = "energy-tick"
ENERGY_SITE = "energy-site"
ENERGY_BODY = "energy-body"
ENERGY_ALERT = "energy-alert"

# sensors
SENSORS_TICK = "sensors-tick"
SENSORS_GRID = "sensors-grid"
SENSORS_SEARCH = "sensors-search"
SENSORS_STATUS = "sensors-status"
SENSORS_SITE = "sensors-site"
SENSORS_COUNT = "sensors-count"
SENSORS_ALERT = "sensors-alert"
SENSORS_REFRESHED = "sensors-refreshed"

# sensor detail
DETAIL_ID = "detail-id"
DETAIL_TICK = "detail-tick"
DETAIL_RANGE = "detail-range"
DETAIL_RANGES = "detail-ranges"
DETAIL_RANGE_OPTION = "detail-range-option"
DETAIL_DATES = "detail-dates"
DETAIL_GRAPH = "detail-graph"
DETAIL_HEADER = "detail-header"
DETAIL_INFO = "detail-info"
DETAIL_TEXT = "detail-text"
DETAIL_DOWNLOAD = "detail-download"
DETAIL_DOWNLOAD_BUTTON = "detail-download-button"
DETAIL_ALERT = "detail-alert"

# map
MAP_TICK = "map-tick"
MAP_SITE = "map-site"
MAP_GRAPH = "map-graph"
MAP_TEXT = "map-text"
MAP_ALERT = "map-alert"
MAP_COUNTS = "map-counts"
MAP_NOTE = "map-note"

# pipeline status
STATUS_TICK = "status-tick"
STATUS_BODY = "status-body"
STATUS_GRAPH = "status-graph"
STATUS_TEXT = "status-text"
STATUS_ALERT = "status-alert"
STATUS_SCREENS = "status-screens"

# alerts
ALERTS_STATE = "alerts-state"
ALERTS_SITE = "alerts-site"
ALERTS_SEVERITY = "alerts-severity"
ALERTS_TEXT = "alerts-text"
ALERTS_BODY = "alerts-body"
ALERTS_COUNT = "alerts-count"
# reports
REPORT_SITE = "report-site"
REPORT_KIND = "report-kind"
REPORT_PERIOD = "report-period"
REPORT_BODY = "report-body"
REPORT_ALERT = "report-alert"
REPORT_LINKS = "report-links"
