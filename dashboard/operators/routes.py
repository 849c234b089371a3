"""POST endpoints: log in, log out, acknowledge and silence alerts.

Plain Flask routes answering HTML forms (no Dash callback changes state): each checks the
CSRF token and the logged-in operator on the server, so a hand-made request is refused
whatever the page showed. Each answers 303 back to a page, which shows the outcome.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, redirect, request, session
from werkzeug.wrappers import Response

from dashboard.data.alerts import BoardUnavailable, board
from dashboard.operators.session import (
    check_form,
    client_address,
    current_operator,
    log,
    new_session,
    now_ns,
    operators,
    require_operator,
    shown,
)
from dashboard.operators.users import MAX_PASSWORD_CHARS
from stadtpuls.timebase import NS_PER_S

MAX_COMMENT_CHARS = 500
SILENCE_HOURS = (1, 4, 8, 24, 72, 168)
SCOPES = ("sensor", "site", "rule")


def install(server: Flask) -> None:
    server.add_url_rule("/auth/login", "operator_login", _login, methods=["POST"])
    server.add_url_rule("/auth/logout", "operator_logout", _logout, methods=["POST"])
    server.add_url_rule("/alerts/ack", "alerts_ack", _ack, methods=["POST"])
    server.add_url_rule("/alerts/silence", "alerts_silence", _silence, methods=["POST"])
    server.add_url_rule("/alerts/unsilence", "alerts_unsilence", _unsilence, methods=["POST"])


def _back(path: str, **query: str) -> Response:
    return redirect(f"{path}?{urlencode(query)}" if query else path, 303)


def _safe_next(target: str | None) -> str:
    # Only paths on this server: no open redirect to another site after login.
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target[:200]
    return "/alerts"


def _login() -> Response:
    check_form()
    ops = operators()
    name = request.form.get("username", "").strip()[:64]
    password = request.form.get("password", "")[:MAX_PASSWORD_CHARS + 1]
    target = _safe_next(request.form.get("next"))
    keys = [f"addr:{client_address()}", f"name:{name}"]
    now = now_ns()
    if ops.throttle.blocked(keys, now):
        log.warning("login refused (too many failures): name=%s from %s", shown(name),
                    client_address())
        return _back("/login", error="throttled", next=target)
    assert ops.users is not None  # check_form refused the request when login is off
    if not name or not ops.users.verify(name, password):
        ops.throttle.failed(keys, now)
        log.warning("login failed: name=%s from %s", shown(name), client_address())
        return _back("/login", error="failed", next=target)
    new_session(name)
    log.info("login: operator=%s from %s", name, client_address())
    return redirect(target, 303)


def _logout() -> Response:
    check_form()
    name = current_operator()
    session.clear()
    log.info("logout: operator=%s from %s", name or "-", client_address())
    return _back("/login", done="logout")


def _form_id(field: str = "alert") -> int | None:
    raw = request.form.get(field, "")
    return int(raw) if raw.isdigit() and len(raw) < 19 else None


def _comment() -> str:
    return " ".join(request.form.get("comment", "").split())[:MAX_COMMENT_CHARS]


def _ack() -> Response:
    who = require_operator()
    alert_id, comment = _form_id(), _comment()
    try:
        done = alert_id is not None and board().state().acknowledge(alert_id, who, comment,
                                                                     now_ns())
    except BoardUnavailable as exc:
        log.error("acknowledge by %s failed: %s", who, exc)
        return _back("/alerts", error="state")
    if not done:
        return _back("/alerts", error="not_open")
    log.info("acknowledged: alert=%s by operator=%s comment=%s", alert_id, who, shown(comment,
                                                                                      200))
    return _back("/alerts", done="ack")


def _silence() -> Response:
    who = require_operator()
    alert_id, comment = _form_id(), _comment()
    scope = request.form.get("scope", "")
    hours = request.form.get("hours", "")
    if scope not in SCOPES or not hours.isdigit() or int(hours) not in SILENCE_HOURS:
        return _back("/alerts", error="form")
    try:
        state = board().state()
        row = state.alert(alert_id) if alert_id is not None else None
        if row is None:
            return _back("/alerts", error="not_open")
        now = now_ns()
        until = now + int(hours) * 3600 * NS_PER_S
        silence_id = state.silence(
            rule=row.rule if scope == "rule" else None,
            site=row.site if scope in ("site", "sensor") else None,
            sensor=row.sensor if scope == "sensor" else None,
            from_ns=now, until_ns=until, by=who, comment=comment)
    except BoardUnavailable as exc:
        log.error("silence by %s failed: %s", who, exc)
        return _back("/alerts", error="state")
    target = {"sensor": f"{row.site}/{row.sensor}", "site": row.site, "rule": row.rule}[scope]
    log.info("silenced: id=%d %s %s for %s h by operator=%s comment=%s", silence_id, scope,
             shown(target, 200), hours, who, shown(comment, 200))
    return _back("/alerts", done="silence")


def _unsilence() -> Response:
    who = require_operator()
    silence_id = _form_id("silence")
    try:
        done = silence_id is not None and board().state().end_silence(silence_id, now_ns())
    except BoardUnavailable as exc:
        log.error("ending a silence by %s failed: %s", who, exc)
        return _back("/alerts", error="state")
    if not done:
        return _back("/alerts", error="form")
    log.info("silence ended: id=%s by operator=%s", silence_id, who)
    return _back("/alerts", done="unsilence")
