"""Who is logged in, and the checks every state-changing request passes.

The session is Flask's signed cookie (HttpOnly, SameSite=Lax, Secure unless switched off)
holding the operator's name, when they logged in and a random CSRF token. Every POST here
must carry that token in its form (compared in constant time) and, when the browser sends
an Origin header, come from this server's own origin. The operator must still be in the
users file: removing a line ends their session at the next request.

Without a secret key or users file, login is off: `current_operator()` is always None and
every action is refused (closed by default).
"""

from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, request, session

from dashboard.operators.throttle import FailedLogins
from dashboard.operators.users import Users
from stadtpuls.settings import OperatorSettings
from stadtpuls.timebase import NS_PER_S

log = logging.getLogger("stadtpuls.operators")
"""Every state change and login attempt, with who: the operators' audit trail."""

SESSION_HOURS = 12
CSRF_FIELD = "csrf_token"
_KEY = "STADTPULS_OPERATORS"


@dataclass
class Operators:
    settings: OperatorSettings
    users: Users | None
    throttle: FailedLogins = field(default_factory=FailedLogins)

    @property
    def enabled(self) -> bool:
        return self.users is not None and self.settings.login_enabled


def install(server: Flask, settings: OperatorSettings) -> Operators:
    operators = Operators(settings, Users(settings.users_file)
                          if settings.login_enabled and settings.users_file else None)
    server.config[_KEY] = operators
    if settings.secret_key:
        server.secret_key = settings.secret_key
    server.config.update(
        SESSION_COOKIE_NAME="stadtpuls_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.cookie_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
    )
    reason = settings.why_login_disabled()
    if reason:
        # Info, not warning: `stadtpuls dashboard` says it once on stderr already.
        log.info(reason)
    return operators


def operators() -> Operators:
    found = current_app.config.get(_KEY)
    if not isinstance(found, Operators):
        raise RuntimeError("operator login was not installed on this app")
    return found


def current_operator() -> str | None:
    """The logged-in operator of this request, or None."""
    ops = operators()
    if not ops.enabled or ops.users is None:
        return None
    name = session.get("operator")
    since = session.get("since_ns")
    if not isinstance(name, str) or not isinstance(since, int):
        return None
    if now_ns() - since > SESSION_HOURS * 3600 * NS_PER_S or not ops.users.exists(name):
        return None
    return name


def csrf_token() -> str | None:
    """This session's CSRF token (made on first use); None while login is off."""
    if not operators().enabled:
        return None
    token = session.get("csrf")
    if not isinstance(token, str):
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def new_session(name: str) -> None:
    """Log `name` in: a fresh session (no fixation), a fresh CSRF token."""
    session.clear()
    session.permanent = True
    session["operator"] = name
    session["since_ns"] = now_ns()
    session["csrf"] = secrets.token_urlsafe(32)


def check_form() -> None:
    """Abort with 403 unless this POST carries the session's CSRF token from our origin."""
    if not operators().enabled:
        abort(403, "operator login is off on this server")
    origin = request.headers.get("Origin")
    if origin and urlsplit(origin).netloc != request.host:
        abort(403, "request from another site")
    expected = session.get("csrf")
    given = request.form.get(CSRF_FIELD, "")
    if not isinstance(expected, str) or not hmac.compare_digest(expected, given):
        hint = ""
        if expected is None and operators().settings.cookie_secure and not request.is_secure:
            # The browser kept no HTTPS-only cookie from a plain-HTTP page: say so.
            hint = (" (the session cookie is HTTPS-only: use https://, or set "
                    "STADTPULS_DASHBOARD_COOKIE_SECURE=false on a plain-HTTP intranet)")
        abort(403, "missing or stale form token; reload the page and try again" + hint)


def require_operator() -> str:
    """The operator behind this POST (CSRF checked), or abort with 403."""
    check_form()
    name = current_operator()
    if name is None:
        log.warning("refused %s %s: not logged in (from %s)", request.method, request.path,
                    client_address())
        abort(403, "log in as an operator first")
    return name


def client_address() -> str:
    # Behind a reverse proxy this is the proxy; docs/operations.md says how to pass the
    # client's address (ProxyFix) if per-address throttling should see it.
    return request.remote_addr or "-"


def now_ns() -> int:
    from dashboard import runtime

    return runtime.source().now_ns()


def shown(text: Any, limit: int = 64) -> str:
    """A visitor's text as it may appear in a log line: quoted, one line, bounded (repr
    escapes newlines and control characters, so nobody can forge a second log line)."""
    return repr(str(text)[:limit])
