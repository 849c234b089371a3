"""Operator login over real HTTP (the dashboard served from a thread, `requests` as the
client): who may change alert state, CSRF, throttling, logout; the users file and the
settings and CLI around it.

The browser flow (the forms themselves) is in tests/test_alerts_browser.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from operator_helpers import (
    OPERATOR,
    PASSWORD,
    Setup,
    anonymous_session,
    firing_alert,
    session_data,
)

from dashboard.operators.throttle import FailedLogins
from dashboard.operators.users import (
    Users,
    UsersFileError,
    load_users,
    remove_user,
    save_user,
)
from stadtpuls.settings import SettingsError, operator_settings
from testkit.kiosk import Served

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    found = firing_alert(tmp_path)
    yield found
    found.store.close()
    found.state.close()


@pytest.fixture
def served(setup: Setup) -> Iterator[tuple[Any, Served]]:
    app = setup.app()
    server = Served(app.server)
    yield app, server
    server.stop()


def _login(http: requests.Session, app: Any, server: Served, password: str = PASSWORD,
           **extra: str) -> requests.Response:
    token = anonymous_session(app, http, "127.0.0.1")
    return http.post(f"{server.url}/auth/login", allow_redirects=False,
                     data={"username": OPERATOR, "password": password, "csrf_token": token,
                           **extra})


def _ack(http: requests.Session, server: Served, alert_id: int, token: str | None,
         **headers: str) -> requests.Response:
    data = {"alert": str(alert_id), "comment": "Techniker ist informiert"}
    if token is not None:
        data["csrf_token"] = token
    return http.post(f"{server.url}/alerts/ack", data=data, allow_redirects=False,
                     headers=headers)


def _acked_by(setup: Setup) -> str | None:
    row = setup.state.alert(setup.alert.id)
    assert row is not None
    return row.ack_by


# --- who may act ---------------------------------------------------------------------------


def test_anonymous_post_is_refused_even_with_a_valid_form_token(
        setup: Setup, served: tuple[Any, Served]) -> None:
    app, server = served
    http = requests.Session()
    assert _ack(http, server, setup.alert.id, None).status_code == 403
    token = anonymous_session(app, http, "127.0.0.1")
    assert _ack(http, server, setup.alert.id, token).status_code == 403
    silence = http.post(f"{server.url}/alerts/silence", allow_redirects=False,
                        data={"alert": str(setup.alert.id), "scope": "site", "hours": "1",
                              "csrf_token": token})
    assert silence.status_code == 403
    assert _acked_by(setup) is None
    assert setup.state.silences(0) == []


def test_no_dash_callback_changes_alert_state(setup: Setup, served: tuple[Any, Served]) -> None:
    # The page's one callback renders the list; posting it by hand, as an anonymous visitor
    # with every input it has, reads and changes nothing.
    _, server = served
    body = {"output": "..alerts-body.children...alerts-count.children..",
            "outputs": [{"id": "alerts-body", "property": "children"},
                        {"id": "alerts-count", "property": "children"}],
            "inputs": [{"id": i, "property": "value", "value": None} for i in
                       ("alerts-state", "alerts-site", "alerts-severity", "alerts-text")],
            "changedPropIds": [], "state": [{"id": "lang", "property": "data", "value": "en"}]}
    answer = requests.post(f"{server.url}/_dash-update-component", json=body, timeout=30)
    assert answer.status_code == 200
    text = answer.text
    assert "saal_co2 (en)" in text
    assert "/alerts/ack" not in text and "csrf" not in text
    assert _acked_by(setup) is None


def test_login_then_acknowledge_records_who(setup: Setup, served: tuple[Any, Served],
                                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="stadtpuls.operators")
    app, server = served
    http = requests.Session()
    answer = _login(http, app, server, next="/alerts")
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/alerts")
    session = session_data(app, http)
    assert session["operator"] == OPERATOR
    assert session["csrf"] != "t" * 43  # a new token after login (no fixation)
    assert _ack(http, server, setup.alert.id, session["csrf"]).status_code == 303
    row = setup.state.alert(setup.alert.id)
    assert row is not None and row.ack_by == OPERATOR
    assert row.ack_comment == "Techniker ist informiert"
    audit = [r.getMessage() for r in caplog.records if r.name == "stadtpuls.operators"]
    assert any(m.startswith(f"login: operator={OPERATOR} from 127.0.0.1") for m in audit)
    assert f"acknowledged: alert={setup.alert.id} by operator={OPERATOR} comment=" \
        "'Techniker ist informiert'" in audit


def test_wrong_password_is_refused(setup: Setup, served: tuple[Any, Served],
                                   caplog: pytest.LogCaptureFixture) -> None:
    app, server = served
    http = requests.Session()
    answer = _login(http, app, server, password="wrong password here")
    assert f"login failed: name='{OPERATOR}' from 127.0.0.1" in caplog.text
    assert answer.status_code == 303 and "error=failed" in answer.headers["Location"]
    assert "operator" not in session_data(app, http)
    assert _ack(http, server, setup.alert.id, "t" * 43).status_code == 403
    assert _acked_by(setup) is None


def test_missing_or_wrong_csrf_token_is_refused(setup: Setup,
                                                served: tuple[Any, Served]) -> None:
    app, server = served
    http = requests.Session()
    _login(http, app, server)
    assert _ack(http, server, setup.alert.id, None).status_code == 403
    assert _ack(http, server, setup.alert.id, "t" * 43).status_code == 403
    # the right token from another site's page: refused by origin
    token = session_data(app, http)["csrf"]
    assert _ack(http, server, setup.alert.id, token,
                Origin="https://evil.example").status_code == 403
    assert _acked_by(setup) is None
    # and the login form itself needs the token
    http2 = requests.Session()
    answer = http2.post(f"{server.url}/auth/login", allow_redirects=False,
                        data={"username": OPERATOR, "password": PASSWORD})
    assert answer.status_code == 403 and "operator" not in session_data(app, http2)


def test_logout_ends_the_session(setup: Setup, served: tuple[Any, Served]) -> None:
    app, server = served
    http = requests.Session()
    _login(http, app, server)
    token = session_data(app, http)["csrf"]
    answer = http.post(f"{server.url}/auth/logout", data={"csrf_token": token},
                       allow_redirects=False)
    assert answer.status_code == 303
    assert "operator" not in session_data(app, http)
    assert _ack(http, server, setup.alert.id, token).status_code == 403
    assert _acked_by(setup) is None


def test_session_cookie_flags(setup: Setup, served: tuple[Any, Served]) -> None:
    app, server = served
    answer = _login(requests.Session(), app, server)
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # switched off for this plain-HTTP test server


def test_removed_operator_loses_the_session(setup: Setup, served: tuple[Any, Served]) -> None:
    app, server = served
    http = requests.Session()
    _login(http, app, server)
    assert setup.settings.users_file is not None
    remove_user(setup.settings.users_file, OPERATOR)
    assert _ack(http, server, setup.alert.id, session_data(app, http)["csrf"]).status_code == 403


def test_failed_logins_are_throttled(setup: Setup, served: tuple[Any, Served]) -> None:
    app, server = served
    for _ in range(5):
        answer = _login(requests.Session(), app, server, password="not the password")
        assert "error=failed" in answer.headers["Location"]
    http = requests.Session()
    answer = _login(http, app, server)  # the right password, but too late
    assert "error=throttled" in answer.headers["Location"]
    assert "operator" not in session_data(app, http)


def test_login_goes_only_to_local_pages(setup: Setup, served: tuple[Any, Served]) -> None:
    app, server = served
    answer = _login(requests.Session(), app, server, next="//evil.example/x")
    assert answer.headers["Location"] == "/alerts"


def test_without_a_secret_nobody_logs_in(tmp_path: Path) -> None:
    setup = firing_alert(tmp_path, login=False)
    app = setup.app()
    server = Served(app.server)
    try:
        http = requests.Session()
        answer = http.post(f"{server.url}/auth/login", allow_redirects=False,
                           data={"username": OPERATOR, "password": PASSWORD})
        assert answer.status_code == 403
        assert _ack(http, server, setup.alert.id, None).status_code == 403
        assert setup.settings.why_login_disabled() is not None
    finally:
        server.stop()
        setup.store.close()


# --- throttle, users file, settings, CLI ------------------------------------------------------


def test_throttle_is_bounded_and_forgets() -> None:
    throttle = FailedLogins(max_failures=2, window_s=10, max_keys=100)
    throttle.failed(["addr:a"], 0)
    throttle.failed(["addr:a"], 1)
    assert throttle.blocked(["addr:a", "name:x"], 2)
    assert not throttle.blocked(["addr:a"], 12 * 10**9)  # the window has passed
    for i in range(1000):
        throttle.failed([f"addr:{i}"], 5)
    assert len(throttle) == 100


def test_users_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "users"
    assert save_user(path, "bob", "a long enough password") is True
    assert save_user(path, "bob", "another long password") is False
    users = Users(path)
    assert users.verify("bob", "another long password")
    assert not users.verify("bob", "a long enough password")
    assert not users.verify("nobody", "another long password")
    assert load_users(path)["bob"].startswith("$argon2id$")
    assert oct(path.stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize(("content", "expected"), [
    ("bob\n", "users:1: expected NAME:HASH"),
    ("# ok\nbob:plaintext\n", "users:2: the hash of 'bob' is not an argon2id hash"),
    ("bad name:$argon2id$x\n", "users:1: operator name 'bad name' is not valid"),
])
def test_malformed_users_file_is_one_clear_line(tmp_path: Path, content: str,
                                                expected: str) -> None:
    path = tmp_path / "users"
    path.write_text(content)
    with pytest.raises(UsersFileError) as err:
        load_users(path)
    assert expected in str(err.value) and "\n" not in str(err.value)


def test_duplicate_operator_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "users"
    save_user(path, "bob", "a long enough password")
    path.write_text(path.read_text() + path.read_text().splitlines()[-1] + "\n")
    with pytest.raises(UsersFileError, match="listed twice"):
        load_users(path)


@pytest.mark.parametrize(("env", "message"), [
    ({"STADTPULS_DASHBOARD_SECRET_KEY": "short"}, "needs at least 32"),
    ({"STADTPULS_DASHBOARD_COOKIE_SECURE": "maybe"}, "not true or false"),
    ({"STADTPULS_DASHBOARD_USERS_FILE": "/nonexistent/users"}, "does not exist"),
])
def test_bad_setting_is_one_line(monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
                                 message: str) -> None:
    import argparse

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=message) as err:
        operator_settings(argparse.Namespace())
    assert "\n" not in str(err.value)


def _stadtpuls(*args: str, env: dict[str, str],
               stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "stadtpuls.cli", *args], input=stdin,
                          capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **env})


def test_dashboard_with_a_bad_setting_exits_2(tmp_path: Path) -> None:
    done = _stadtpuls("dashboard", "--store", f"sqlite:{tmp_path / 'x.db'}",
                      env={"STADTPULS_DASHBOARD_COOKIE_SECURE": "maybe"})
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().count("\n") == 0 and "STADTPULS_DASHBOARD_COOKIE_SECURE" in \
        done.stderr


def test_user_cli_reads_the_password_from_stdin(tmp_path: Path) -> None:
    users = str(tmp_path / "users")
    env = {"STADTPULS_DASHBOARD_USERS_FILE": users}
    done = _stadtpuls("dashboard", "user", "add", "carol", env=env,
                      stdin="a very long password\n")
    assert done.returncode == 0, done.stderr
    assert "a very long password" not in Path(users).read_text()
    assert Users(users).verify("carol", "a very long password")
    listed = _stadtpuls("dashboard", "user", "list", env=env)
    assert listed.stdout.split() == ["carol"]
    short = _stadtpuls("dashboard", "user", "add", "dave", env=env, stdin="short\n")
    assert short.returncode == 2 and "12 to 1024 characters" in short.stderr
    missing = _stadtpuls("dashboard", "user", "list", env={})
    assert missing.returncode == 2 and "STADTPULS_DASHBOARD_USERS_FILE" in missing.stderr


def test_alert_page_text_families_are_complete() -> None:
    from dashboard.data.alerts import SEVERITIES, STATES
    from dashboard.i18n_text import TEXT
    from dashboard.operators.routes import SCOPES

    keys = ([f"alerts.state_{s}" for s in STATES] + [f"alerts.severity_{s}" for s in SEVERITIES]
            + [f"alerts.scope_{s}" for s in SCOPES]
            + [f"alerts.done_{d}" for d in ("ack", "silence", "unsilence")]
            + [f"alerts.error_{e}" for e in ("not_open", "form", "state")])
    assert [k for k in keys if k not in TEXT] == []


def test_silence_by_an_operator_covers_the_alert(setup: Setup,
                                                 served: tuple[Any, Served]) -> None:
    from dashboard.data.alerts import AlertBoard, choose

    app, server = served
    http = requests.Session()
    _login(http, app, server)
    token = session_data(app, http)["csrf"]
    bad = http.post(f"{server.url}/alerts/silence", allow_redirects=False,
                    data={"alert": str(setup.alert.id), "scope": "site", "hours": "5",
                          "csrf_token": token})
    assert "error=form" in bad.headers["Location"]  # 5 h is not one of the choices
    answer = http.post(f"{server.url}/alerts/silence", allow_redirects=False,
                       data={"alert": str(setup.alert.id), "scope": "sensor", "hours": "4",
                             "comment": "replacing it", "csrf_token": token})
    assert "done=silence" in answer.headers["Location"]
    [silence] = setup.state.silences(0)
    assert (silence.rule, silence.site, silence.sensor, silence.by, silence.comment) == (
        None, setup.alert.site, setup.alert.sensor, OPERATOR, "replacing it")
    assert silence.until_ns - silence.from_ns == 4 * 3600 * 10**9
    board = AlertBoard(setup.settings.alert_state)
    view = board.read(silence.from_ns + 1)
    silenced = choose(view.all, status="silenced")  # every open alert of that sensor
    assert setup.alert.id in [v.row.id for v in silenced]
    assert {v.row.sensor for v in silenced} == {setup.alert.sensor}
    assert [v.row.id for v in choose(view.all, text="CO2_HIGH", status="silenced")] == [
        setup.alert.id]
    assert choose(view.all, status="firing", site=setup.alert.site, severity="warning",
                  text="co2_high") == []
    board.close()
    # ending it: anonymous refused, the operator may
    stranger = requests.Session()
    token_of_stranger = anonymous_session(app, stranger, "127.0.0.1")
    refused = stranger.post(f"{server.url}/alerts/unsilence", allow_redirects=False,
                            data={"silence": str(silence.id), "csrf_token": token_of_stranger})
    assert refused.status_code == 403 and setup.state.silences(silence.from_ns + 1)
    ended = http.post(f"{server.url}/alerts/unsilence", allow_redirects=False,
                      data={"silence": str(silence.id), "csrf_token": token})
    assert "done=unsilence" in ended.headers["Location"]
    assert setup.state.silences(time.time_ns()) == []


def test_heartbeat_writer_survives_an_unwritable_state(tmp_path: Path,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    from alerts.state import AlertState
    from dashboard.data.alerts import AlertBoard
    from dashboard.kiosk.heartbeats import HeartbeatWriter
    from dashboard.kiosk.registry import ScreenRegistry

    (tmp_path / "file").write_text("not a directory")
    registry = ScreenRegistry(["lobby"])
    registry.record("lobby", "v", "clock", 42)
    writer = HeartbeatWriter(registry, AlertBoard(str(tmp_path / "file" / "alerts.db")))
    writer.flush()
    writer.flush()
    assert caplog.text.count("cannot record screen contacts") == 1  # once, not per round
    writer.board = AlertBoard(str(tmp_path / "alerts.db"))
    writer.flush()
    assert AlertState(tmp_path / "alerts.db").screen_contacts() == {"lobby": 42}
