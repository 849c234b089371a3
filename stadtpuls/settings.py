"""Operator settings: flags, then environment, then defaults (ARCHITECTURE.md §7).

Every service (ingest, dashboard, demo, simulators) resolves its settings here, so an
environment variable means the same everywhere and a bad value gets the same one-line message.
Secrets come from the environment or a file, never from the catalogue.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from stadtpuls.store.protocol import Store

DEFAULT_CATALOGUE = "config/stuehlinger.yaml"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it and what would be valid."""


@dataclass(frozen=True)
class MqttSettings:
    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None
    ca_file: str | None = None

    @property
    def url(self) -> str:
        """The URL without credentials, safe to log."""
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


@dataclass(frozen=True)
class StoreSettings:
    kind: str  # "sqlite" or "influx"
    sqlite_path: str | None = None
    influx_url: str | None = None
    influx_token: str = ""
    influx_org: str = ""
    influx_bucket: str = "stadtpuls"

    def describe(self) -> str:
        if self.kind == "sqlite":
            return f"sqlite:{self.sqlite_path}"
        return f"influx {self.influx_url} bucket {self.influx_bucket}"


def add_mqtt_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("MQTT broker")
    group.add_argument("--mqtt-url", help="broker URL, mqtt://host:port or mqtts://host:port "
                       "(env STADTPULS_MQTT_URL; default mqtt://127.0.0.1:1883)")
    group.add_argument("--mqtt-username", help="user name (env STADTPULS_MQTT_USERNAME)")
    group.add_argument("--mqtt-password-file", help="file holding the password "
                       "(env STADTPULS_MQTT_PASSWORD or STADTPULS_MQTT_PASSWORD_FILE)")
    group.add_argument("--mqtt-ca-file", help="CA bundle for mqtts:// (env STADTPULS_MQTT_CA_FILE)")


def add_store_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("store")
    group.add_argument("--store", help="'influx' or 'sqlite:PATH' (env STADTPULS_STORE; "
                       "default influx)")
    group.add_argument("--influx-url", help="InfluxDB URL (env STADTPULS_INFLUX_URL; "
                       "default http://127.0.0.1:8086)")
    group.add_argument("--influx-token-file", help="file holding the API token "
                       "(env STADTPULS_INFLUX_TOKEN or STADTPULS_INFLUX_TOKEN_FILE)")
    group.add_argument("--influx-org", help="organisation (env STADTPULS_INFLUX_ORG)")
    group.add_argument("--influx-bucket", help="bucket, or db/rp on InfluxDB 1.x "
                       "(env STADTPULS_INFLUX_BUCKET; default stadtpuls)")


def add_catalogue_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--catalogue", help="site catalogue YAML (env STADTPULS_CATALOGUE; "
                        f"default {DEFAULT_CATALOGUE})")


def add_data_dir_argument(parser: argparse.ArgumentParser | argparse._ArgumentGroup,
                          what: str) -> None:
    """`--data-dir`: where the ingest keeps its spool and the dead letters."""
    parser.add_argument("--data-dir", default=os.environ.get("STADTPULS_DATA_DIR", "data"),
                        help=f"{what} live here (env STADTPULS_DATA_DIR; default ./data)")


def catalogue_path(args: argparse.Namespace) -> Path:
    return Path(_pick(getattr(args, "catalogue", None), "STADTPULS_CATALOGUE",
                      DEFAULT_CATALOGUE))


def parse_mqtt_url(url: str) -> MqttSettings:
    """`mqtt://[user[:password]@]host[:port]` (or mqtts://; no scheme means mqtt://)."""
    parts = urlsplit(url if "://" in url else f"mqtt://{url}")
    if parts.scheme.lower() not in ("mqtt", "mqtts", "tcp", "ssl") or not parts.hostname:
        raise SettingsError(f"MQTT URL {url!r} is not valid; use mqtt://host:port or "
                            "mqtts://host:port (--mqtt-url / STADTPULS_MQTT_URL)")
    tls = parts.scheme.lower() in ("mqtts", "ssl")
    try:
        port = parts.port or (8883 if tls else 1883)
    except ValueError:
        raise SettingsError(f"MQTT URL {url!r} has an invalid port") from None
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return MqttSettings(parts.hostname, port, tls, username, password)


def mqtt_settings(args: argparse.Namespace) -> MqttSettings:
    url = _pick(getattr(args, "mqtt_url", None), "STADTPULS_MQTT_URL", "mqtt://127.0.0.1:1883")
    parsed = parse_mqtt_url(url)
    username = getattr(args, "mqtt_username", None) or os.environ.get("STADTPULS_MQTT_USERNAME")
    username = username or parsed.username
    password = _secret(getattr(args, "mqtt_password_file", None), "STADTPULS_MQTT_PASSWORD")
    if password is None:
        password = parsed.password
    if password and not username:
        raise SettingsError("an MQTT password is set but no user name; set --mqtt-username or "
                            "STADTPULS_MQTT_USERNAME")
    ca = getattr(args, "mqtt_ca_file", None) or os.environ.get("STADTPULS_MQTT_CA_FILE")
    if ca and not Path(ca).is_file():
        raise SettingsError(f"MQTT CA file {ca!r} does not exist")
    return MqttSettings(parsed.host, parsed.port, parsed.tls, username, password, ca)


def store_settings(args: argparse.Namespace) -> StoreSettings:
    spec = _pick(getattr(args, "store", None), "STADTPULS_STORE", "influx")
    if spec.startswith("sqlite:"):
        path = spec.removeprefix("sqlite:")
        if not path:
            raise SettingsError("store 'sqlite:' needs a path, e.g. sqlite:data/stadtpuls.db")
        return StoreSettings("sqlite", sqlite_path=path)
    if spec != "influx":
        raise SettingsError(f"store {spec!r} is not known; use 'influx' or 'sqlite:PATH' "
                            "(--store / STADTPULS_STORE)")
    url = _pick(getattr(args, "influx_url", None), "STADTPULS_INFLUX_URL",
                "http://127.0.0.1:8086")
    if urlsplit(url).scheme not in ("http", "https"):
        raise SettingsError(f"InfluxDB URL {url!r} is not valid; use http://host:port "
                            "(--influx-url / STADTPULS_INFLUX_URL)")
    token = _secret(getattr(args, "influx_token_file", None), "STADTPULS_INFLUX_TOKEN") or ""
    org = _pick(getattr(args, "influx_org", None), "STADTPULS_INFLUX_ORG", "")
    bucket = _pick(getattr(args, "influx_bucket", None), "STADTPULS_INFLUX_BUCKET", "stadtpuls")
    return StoreSettings("influx", influx_url=url, influx_token=token, influx_org=org,
                         influx_bucket=bucket)


def open_store(settings: StoreSettings) -> Store:
    """Open the configured store (imports the InfluxDB client only when it is used)."""
    if settings.kind == "sqlite":
        from stadtpuls.store.sqlite import SQLiteStore

        assert settings.sqlite_path is not None
        return SQLiteStore(settings.sqlite_path)
    from stadtpuls.store.influx import InfluxStore

    assert settings.influx_url is not None
    return InfluxStore(settings.influx_url, settings.influx_bucket,
                       token=settings.influx_token, org=settings.influx_org)


def _pick(flag: str | None, env: str, default: str) -> str:
    return flag or os.environ.get(env) or default


def _secret(file_flag: str | None, env: str) -> str | None:
    """A secret from FILE flag, then ENV_FILE, then ENV (files keep it out of `ps`)."""
    file = file_flag or os.environ.get(f"{env}_FILE")
    if file:
        try:
            return Path(file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SettingsError(f"cannot read secret file {file!r} for {env}: "
                                f"{exc.strerror}") from None
    return os.environ.get(env) or None
