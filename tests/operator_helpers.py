"""Shared by the operator-login tests: a users file, a secret, a dashboard with a firing
alert made by the real evaluator, and reading the signed session cookie the server set."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from alert_helpers import CO2, SITE, catalogue, feed

from alerts.evaluate import Evaluator
from alerts.state import AlertRow, AlertState
from dashboard.app import create_app
from dashboard.operators.users import save_user
from stadtpuls.catalogue import Catalogue
from stadtpuls.settings import OperatorSettings
from stadtpuls.store.sqlite import SQLiteStore
from stadtpuls.timebase import to_ns

OPERATOR = "alice"
PASSWORD = "correct horse battery staple"
SECRET = "s" * 48
RULES = {"quantities": {"co2": {"threshold": [{"name": "co2_high", "above": 1500,
                                               "clear": 1200}]}}}


@dataclass
class Setup:
    store: SQLiteStore
    catalogue: Catalogue
    state: AlertState
    settings: OperatorSettings
    alert: AlertRow

    def app(self) -> Any:
        return create_app(self.store, self.catalogue, operators=self.settings)


def firing_alert(tmp: Path, *, login: bool = True) -> Setup:
    """A CO₂ sensor above its threshold, put through the real evaluator until it fires."""
    cat = catalogue(RULES)
    store = SQLiteStore(tmp / "store.db")
    now = datetime.now(UTC).replace(microsecond=0)
    feed(store, CO2, now - timedelta(minutes=30), now + timedelta(minutes=1),
         lambda i: 1800.0)
    state = AlertState(tmp / "alerts.db")
    evaluator = Evaluator(store, cat, state)
    evaluator.round(to_ns(now))
    firing = [r for r in state.active().values()
              if r.state == "firing" and r.rule.startswith("threshold:")]
    assert [(r.rule, r.site, r.sensor) for r in firing] == [("threshold:co2_high", SITE, CO2)]
    users = tmp / "users"
    if login:
        save_user(users, OPERATOR, PASSWORD)
    settings = OperatorSettings(str(users) if login else None, SECRET if login else None,
                                cookie_secure=False, alert_state=str(tmp / "alerts.db"))
    return Setup(store, cat, state, settings, firing[0])


def session_data(app: Any, http: requests.Session) -> dict[str, Any]:
    """What the server put into the signed session cookie (readable, not forgeable)."""
    cookie = http.cookies.get("stadtpuls_session")
    if cookie is None:
        return {}
    serializer = app.server.session_interface.get_signing_serializer(app.server)
    return dict(serializer.loads(cookie))


def anonymous_session(app: Any, http: requests.Session, host: str) -> str:
    """Give `http` an anonymous session with a CSRF token, as the login page does; the token."""
    serializer = app.server.session_interface.get_signing_serializer(app.server)
    token = "t" * 43
    http.cookies.set("stadtpuls_session", serializer.dumps({"csrf": token}), domain=host)
    return token
