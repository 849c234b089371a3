"""Settings of `stadtpuls alerts`: evaluation, notification channels and their secrets."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from stadtpuls.settings._resolve import SettingsError, as_str, pick, pick_int, secret


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    security: str = "starttls"
    """starttls (upgrade a plain connection), tls (SMTPS, implicit TLS) or none."""
    username: str | None = None
    password: str | None = None
    sender: str = "stadtpuls@localhost"
    ca_file: str | None = None
    timeout_s: float = 15.0


@dataclass(frozen=True)
class AlertSettings:
    interval_s: float
    dashboard_url: str | None
    smtp: SmtpSettings | None
    webhook_url: str | None
    webhook_secret: str | None
    http_host: str
    http_port: int


SMTP_SECURITY = ("starttls", "tls", "none")
ALERT_STATE_FILE = "alerts.db"


def alert_state_path(args: argparse.Namespace) -> Path:
    """The alert state file: `alerts.db` in the data directory (`--data-dir`), shared by the
    evaluator, the `stadtpuls alerts` commands and the dashboard's `/alerts` page."""
    return Path(getattr(args, "data_dir", None) or "data") / ALERT_STATE_FILE


def add_alert_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("alerts")
    group.add_argument("--interval", type=float, help="seconds between evaluation rounds "
                       "(env STADTPULS_ALERTS_INTERVAL; default 30)")
    group.add_argument("--dashboard-url", help="public URL of the dashboard, for links in "
                       "messages (env STADTPULS_DASHBOARD_URL)")
    group.add_argument("--smtp-host", help="mail server (env STADTPULS_SMTP_HOST)")
    group.add_argument("--smtp-port", type=int, help="env STADTPULS_SMTP_PORT; default 587")
    group.add_argument("--smtp-security", choices=SMTP_SECURITY, help="env "
                       "STADTPULS_SMTP_SECURITY; default starttls")
    group.add_argument("--smtp-username", help="env STADTPULS_SMTP_USERNAME")
    group.add_argument("--smtp-password-file", help="file holding the SMTP password (env "
                       "STADTPULS_SMTP_PASSWORD or STADTPULS_SMTP_PASSWORD_FILE)")
    group.add_argument("--smtp-from", help="sender address (env STADTPULS_SMTP_FROM)")
    group.add_argument("--smtp-ca-file", help="CA bundle to trust for the mail server "
                       "(env STADTPULS_SMTP_CA_FILE; default the system's)")
    group.add_argument("--webhook-url", help="webhook for recipients with 'webhook: true' "
                       "(env STADTPULS_ALERTS_WEBHOOK_URL)")
    group.add_argument("--webhook-secret-file", help="file holding the HMAC secret (env "
                       "STADTPULS_ALERTS_WEBHOOK_SECRET or STADTPULS_ALERTS_WEBHOOK_SECRET_FILE)")
    group.add_argument("--http-host", help="address for /metrics (env "
                       "STADTPULS_ALERTS_HTTP_HOST; default 127.0.0.1)")
    group.add_argument("--http-port", type=int, help="port for /metrics; 0 = off (env "
                       "STADTPULS_ALERTS_HTTP_PORT; default 9109)")


def alert_settings(args: argparse.Namespace) -> AlertSettings:
    raw_interval = pick(as_str(getattr(args, "interval", None)), "STADTPULS_ALERTS_INTERVAL", "30")
    try:
        interval = float(raw_interval)
    except ValueError:
        interval = -1.0
    if not interval > 0:
        raise SettingsError(f"alert interval {raw_interval!r} is not a positive number of "
                            "seconds (--interval / STADTPULS_ALERTS_INTERVAL)")
    dashboard = pick(getattr(args, "dashboard_url", None), "STADTPULS_DASHBOARD_URL", "")
    if dashboard and urlsplit(dashboard).scheme not in ("http", "https"):
        raise SettingsError(f"{dashboard!r} is not an http(s) URL (--dashboard-url / "
                            "STADTPULS_DASHBOARD_URL)")
    smtp = None
    host = pick(getattr(args, "smtp_host", None), "STADTPULS_SMTP_HOST", "")
    if host:
        security = pick(getattr(args, "smtp_security", None), "STADTPULS_SMTP_SECURITY",
                         "starttls")
        if security not in SMTP_SECURITY:
            raise SettingsError(f"SMTP security {security!r} is not known; use one of "
                                f"{', '.join(SMTP_SECURITY)} (--smtp-security / "
                                "STADTPULS_SMTP_SECURITY)")
        username = pick(getattr(args, "smtp_username", None), "STADTPULS_SMTP_USERNAME", "")
        password = secret(getattr(args, "smtp_password_file", None), "STADTPULS_SMTP_PASSWORD")
        if password and not username:
            raise SettingsError("an SMTP password is set but no user name; set "
                                "--smtp-username or STADTPULS_SMTP_USERNAME")
        if password and security == "none":
            raise SettingsError("refusing to send the SMTP password unencrypted; use "
                                "--smtp-security starttls or tls")
        smtp = SmtpSettings(
            host, pick_int(getattr(args, "smtp_port", None), "STADTPULS_SMTP_PORT", 587,
                            "--smtp-port"),
            security, username or None, password,
            pick(getattr(args, "smtp_from", None), "STADTPULS_SMTP_FROM",
                  "stadtpuls@localhost"),
            pick(getattr(args, "smtp_ca_file", None), "STADTPULS_SMTP_CA_FILE", "") or None)
    webhook = pick(getattr(args, "webhook_url", None), "STADTPULS_ALERTS_WEBHOOK_URL", "")
    webhook_secret = secret(getattr(args, "webhook_secret_file", None),
                            "STADTPULS_ALERTS_WEBHOOK_SECRET")
    if webhook and urlsplit(webhook).scheme not in ("http", "https"):
        raise SettingsError(f"{webhook!r} is not an http(s) URL (--webhook-url / "
                            "STADTPULS_ALERTS_WEBHOOK_URL)")
    if webhook and not webhook_secret:
        raise SettingsError("a webhook needs a signing secret; set "
                            "STADTPULS_ALERTS_WEBHOOK_SECRET_FILE or --webhook-secret-file")
    http_host = pick(getattr(args, "http_host", None), "STADTPULS_ALERTS_HTTP_HOST",
                      "127.0.0.1")
    http_port = pick_int(getattr(args, "http_port", None), "STADTPULS_ALERTS_HTTP_PORT", 9109,
                          "--http-port")
    return AlertSettings(interval, dashboard or None, smtp, webhook or None, webhook_secret,
                         http_host, http_port)
