"""Where a callback finds its `DataSource`: on the Flask app serving the request.

Page layouts are shared by every app in the process (`dash.page_registry` is global), so they
cannot close over one app's store; they look it up per request instead, and the callbacks do
the same, which keeps several apps in one process (tests) apart.
"""

from __future__ import annotations

from typing import Any

from dashboard.data.source import DataSource

_KEY = "STADTPULS_DATA_SOURCE"


def install(server: Any, source: DataSource) -> None:
    server.config[_KEY] = source


def source() -> DataSource:
    from flask import current_app

    found = current_app.config.get(_KEY)
    if not isinstance(found, DataSource):
        raise RuntimeError("dashboard app was not built by dashboard.app.create_app")
    return found
