"""The dashboard's operations side, on its Flask server: the alert board the `/alerts` page
reads, operator login and the actions behind it, and the screens' heartbeats that the
evaluator's kiosk rule reads from the same alert state file.
"""

from __future__ import annotations

from flask import Flask

from dashboard.data import alerts as alert_data
from dashboard.kiosk import routes as kiosk_routes
from dashboard.kiosk.heartbeats import HeartbeatWriter
from dashboard.operators import routes, session
from stadtpuls.settings import OperatorSettings

_WRITER_KEY = "STADTPULS_SCREEN_HEARTBEATS"


def install(server: Flask, settings: OperatorSettings, heartbeat_every_s: float) -> None:
    """After the kiosk routes (their registry feeds the heartbeat writer)."""
    board = alert_data.install(server, settings.alert_state)
    session.install(server, settings)
    routes.install(server)
    if settings.alert_state is not None:
        with server.app_context():
            registry = kiosk_routes.registry()
        writer = HeartbeatWriter(registry, board, heartbeat_every_s)
        registry.listener = writer.poke
        server.config[_WRITER_KEY] = writer
