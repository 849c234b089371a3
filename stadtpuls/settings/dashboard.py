"""Settings of the dashboard's operator login and of its `/alerts` page.

Closed by default: without a users file and a secret key nobody can log in, and every
state-changing action is refused. The secret key signs the session cookie; it comes from the
environment or a file, never from the catalogue or a flag's value.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from stadtpuls.settings._resolve import SettingsError, pick, secret
from stadtpuls.settings.alerts import alert_state_path

MIN_SECRET_KEY_CHARS = 32
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


@dataclass(frozen=True)
class OperatorSettings:
    users_file: str | None = None
    """Operators and their password hashes (`stadtpuls dashboard user add`); None = no login."""
    secret_key: str | None = None
    """Signs the session cookie; None = no login (and so no action)."""
    cookie_secure: bool = True
    """Send the session cookie over HTTPS only (browsers treat localhost as secure too)."""
    alert_state: str | None = None
    """The alert state file the `/alerts` page reads and its actions write; None = no page
    data (the page says so)."""

    @property
    def login_enabled(self) -> bool:
        return bool(self.users_file and self.secret_key)

    def why_login_disabled(self) -> str | None:
        """One line for the operator when login is off, else None."""
        missing = [name for name, value in (
            ("STADTPULS_DASHBOARD_USERS_FILE (--users-file)", self.users_file),
            ("STADTPULS_DASHBOARD_SECRET_KEY_FILE (--secret-key-file)", self.secret_key))
            if not value]
        if not missing:
            return None
        return ("operator login is off (alerts can be seen but not acknowledged or silenced): "
                f"set {' and '.join(missing)}")


def add_operator_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("operator login and alerts page")
    group.add_argument("--users-file", help="operators and their password hashes, made with "
                       "`stadtpuls dashboard user add NAME` (env STADTPULS_DASHBOARD_USERS_FILE; "
                       "default: no login)")
    group.add_argument("--secret-key-file", help="file holding the session signing key, at "
                       f"least {MIN_SECRET_KEY_CHARS} characters (env "
                       "STADTPULS_DASHBOARD_SECRET_KEY or STADTPULS_DASHBOARD_SECRET_KEY_FILE)")
    group.add_argument("--cookie-secure", choices=("true", "false"), help="send the session "
                       "cookie over HTTPS only (env STADTPULS_DASHBOARD_COOKIE_SECURE; "
                       "default true)")


def users_file(args: argparse.Namespace) -> str | None:
    return pick(getattr(args, "users_file", None), "STADTPULS_DASHBOARD_USERS_FILE", "") or None


def operator_settings(args: argparse.Namespace) -> OperatorSettings:
    key = secret(getattr(args, "secret_key_file", None), "STADTPULS_DASHBOARD_SECRET_KEY")
    if key is not None and len(key) < MIN_SECRET_KEY_CHARS:
        raise SettingsError(f"the dashboard secret key has {len(key)} characters, it needs at "
                            f"least {MIN_SECRET_KEY_CHARS}; make one with `python -c 'import "
                            "secrets; print(secrets.token_urlsafe(48))'` "
                            "(STADTPULS_DASHBOARD_SECRET_KEY_FILE)")
    raw = pick(getattr(args, "cookie_secure", None), "STADTPULS_DASHBOARD_COOKIE_SECURE",
               "true").lower()
    if raw not in _TRUE + _FALSE:
        raise SettingsError(f"cookie setting {raw!r} is not true or false "
                            "(--cookie-secure / STADTPULS_DASHBOARD_COOKIE_SECURE)")
    users = users_file(args)
    if users and not Path(users).is_file():
        raise SettingsError(f"users file {users!r} does not exist; create it with `stadtpuls "
                            "dashboard user add NAME` (--users-file / "
                            "STADTPULS_DASHBOARD_USERS_FILE)")
    return OperatorSettings(users, key, raw in _TRUE, str(alert_state_path(args)))
