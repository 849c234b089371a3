"""Operator settings: flags, then environment, then defaults (ARCHITECTURE.md §7).

Every service (ingest, dashboard, demo, simulators) resolves its settings here, so an
environment variable means the same everywhere and a bad value gets the same one-line message.
Secrets come from the environment or a file, never from the catalogue. This is the only module
that reads `STADTPULS_*` variables; rules between settings live in the config objects they
fill (e.g. `ingest.config.IngestConfig`), which raise `SettingsError` too.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from stadtpuls.settings._resolve import SettingsError as SettingsError
from stadtpuls.settings._resolve import pick, pick_int, secret
from stadtpuls.settings.alerts import SMTP_SECURITY as SMTP_SECURITY
from stadtpuls.settings.alerts import AlertSettings as AlertSettings
from stadtpuls.settings.alerts import SmtpSettings as SmtpSettings
from stadtpuls.settings.alerts import add_alert_arguments as add_alert_arguments
from stadtpuls.settings.alerts import alert_settings as alert_settings
from stadtpuls.settings.alerts import alert_state_path as alert_state_path
from stadtpuls.settings.dashboard import OperatorSettings as OperatorSettings
from stadtpuls.settings.dashboard import add_operator_arguments as add_operator_arguments
from stadtpuls.settings.dashboard import operator_settings as operator_settings
from stadtpuls.settings.dashboard import users_file as users_file

DEFAULT_CATALOGUE = "config/stuehlinger.yaml"
DEFAULT_MQTT_URL = "mqtt://127.0.0.1:1883"
DEFAULT_INGEST_CLIENT_ID = "stadtpuls-ingest"
MQTT_VERSIONS = {"5": 5, "3.1.1": 4}  # flag value -> protocol level on the wire
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


@dataclass(frozen=True)
class MqttSettings:
    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None
    ca_file: str | None = None
    cert_file: str | None = None  # client certificate (PEM), for brokers that require one
    key_file: str | None = None  # its private key (PEM)

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
                       f"(env STADTPULS_MQTT_URL; default {DEFAULT_MQTT_URL})")
    group.add_argument("--mqtt-username", help="user name (env STADTPULS_MQTT_USERNAME)")
    group.add_argument("--mqtt-password-file", help="file holding the password "
                       "(env STADTPULS_MQTT_PASSWORD or STADTPULS_MQTT_PASSWORD_FILE)")
    group.add_argument("--mqtt-ca-file", help="CA bundle for mqtts:// (env STADTPULS_MQTT_CA_FILE)")
    group.add_argument("--mqtt-cert-file", help="client certificate (PEM) for mqtts:// "
                       "(env STADTPULS_MQTT_CERT_FILE)")
    group.add_argument("--mqtt-key-file", help="private key (PEM) of the client certificate "
                       "(env STADTPULS_MQTT_KEY_FILE)")


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


def add_ingest_session_arguments(parser: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """The ingest's MQTT session flags; returns the group for the command's own flags."""
    group = parser.add_argument_group("MQTT session")
    group.add_argument("--mqtt-version", choices=list(MQTT_VERSIONS),
                       help="protocol version; 3.1.1 for brokers without MQTT 5 such as amqtt "
                       "(env STADTPULS_MQTT_VERSION; default 5)")
    group.add_argument("--client-id", help="fixed client id of the persistent session (env "
                       f"STADTPULS_INGEST_CLIENT_ID; default {DEFAULT_INGEST_CLIENT_ID}; each "
                       "replica of a share group needs its own)")
    group.add_argument("--share-group", help="subscribe through $share/NAME/... so several "
                       "replicas split the load (MQTT 5; env STADTPULS_INGEST_SHARE_GROUP)")
    return group


def add_ingest_http_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--http-host", help="address for /healthz and /metrics "
                       "(env STADTPULS_INGEST_HTTP_HOST; default 127.0.0.1)")
    group.add_argument("--http-port", type=int, help="port for /healthz and /metrics; 0 = off "
                       "(env STADTPULS_INGEST_HTTP_PORT; default 9108)")


# The ingest's edge limits (issue 9): flag dest -> (flag, environment variable). Their
# defaults and rules live in `ingest.limits.EdgeLimits`.
INGEST_LIMITS = {
    "max_payload_bytes": ("--max-payload-bytes", "STADTPULS_INGEST_MAX_PAYLOAD_BYTES"),
    "max_pack_records": ("--max-pack-records", "STADTPULS_INGEST_MAX_PACK_RECORDS"),
    "max_future_s": ("--max-future-s", "STADTPULS_INGEST_MAX_FUTURE_S"),
    "retention_days": ("--retention-days", "STADTPULS_INGEST_RETENTION_DAYS"),
    "new_series_per_hour": ("--new-series-per-hour", "STADTPULS_INGEST_NEW_SERIES_PER_HOUR"),
}


def ingest_limits(args: argparse.Namespace) -> dict[str, int]:
    """The edge limits set by flag or environment; the ones not set are left out."""
    given: dict[str, int] = {}
    for dest, (flag, env) in INGEST_LIMITS.items():
        value = getattr(args, dest, None)
        if value is not None or os.environ.get(env):
            given[dest] = pick_int(value, env, 0, flag)
    return given


def add_log_level_argument(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--log-level", type=str.upper, choices=LOG_LEVELS,
                       help="env STADTPULS_LOG_LEVEL; default INFO")


def add_catalogue_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--catalogue", help="site catalogue YAML (env STADTPULS_CATALOGUE; "
                        f"default {DEFAULT_CATALOGUE})")


def add_data_dir_argument(parser: argparse.ArgumentParser | argparse._ArgumentGroup,
                          what: str) -> None:
    """`--data-dir`: where the ingest keeps its spool and the dead letters."""
    parser.add_argument("--data-dir", default=os.environ.get("STADTPULS_DATA_DIR", "data"),
                        help=f"{what} live here (env STADTPULS_DATA_DIR; default ./data)")


def catalogue_path(args: argparse.Namespace) -> Path:
    """The catalogue file; by default the checkout's, else (installed, run elsewhere) the
    copy shipped in the wheel, so every command works from a plain `pip install`."""
    given = pick(getattr(args, "catalogue", None), "STADTPULS_CATALOGUE", "")
    if given:
        return Path(given)
    if not Path(DEFAULT_CATALOGUE).exists():
        from stadtpuls.catalogue.loader import BUNDLED_CATALOGUE

        return BUNDLED_CATALOGUE
    return Path(DEFAULT_CATALOGUE)


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


def mqtt_url(args: argparse.Namespace) -> str:
    """The broker URL as given (it may carry credentials: parse it before logging it)."""
    return pick(getattr(args, "mqtt_url", None), "STADTPULS_MQTT_URL", DEFAULT_MQTT_URL)


def mqtt_settings(args: argparse.Namespace) -> MqttSettings:
    parsed = parse_mqtt_url(mqtt_url(args))
    username = getattr(args, "mqtt_username", None) or os.environ.get("STADTPULS_MQTT_USERNAME")
    username = username or parsed.username
    password = secret(getattr(args, "mqtt_password_file", None), "STADTPULS_MQTT_PASSWORD")
    if password is None:
        password = parsed.password
    if password and not username:
        raise SettingsError("an MQTT password is set but no user name; set --mqtt-username or "
                            "STADTPULS_MQTT_USERNAME")
    ca = getattr(args, "mqtt_ca_file", None) or os.environ.get("STADTPULS_MQTT_CA_FILE")
    if ca and not Path(ca).is_file():
        raise SettingsError(f"MQTT CA file {ca!r} does not exist")
    cert, key = mqtt_client_certificate(args)
    if cert and not parsed.tls:
        raise SettingsError("an MQTT client certificate needs TLS: use an mqtts:// URL "
                            "(--mqtt-url / STADTPULS_MQTT_URL)")
    return MqttSettings(parsed.host, parsed.port, parsed.tls, username, password, ca,
                        cert, key)


def store_settings(args: argparse.Namespace) -> StoreSettings:
    spec = pick(getattr(args, "store", None), "STADTPULS_STORE", "influx")
    if spec.startswith("sqlite:"):
        path = spec.removeprefix("sqlite:")
        if not path:
            raise SettingsError("store 'sqlite:' needs a path, e.g. sqlite:data/stadtpuls.db")
        return StoreSettings("sqlite", sqlite_path=path)
    if spec != "influx":
        raise SettingsError(f"store {spec!r} is not known; use 'influx' or 'sqlite:PATH' "
                            "(--store / STADTPULS_STORE)")
    url = pick(getattr(args, "influx_url", None), "STADTPULS_INFLUX_URL",
                "http://127.0.0.1:8086")
    if urlsplit(url).scheme not in ("http", "https"):
        raise SettingsError(f"InfluxDB URL {url!r} is not valid; use http://host:port "
                            "(--influx-url / STADTPULS_INFLUX_URL)")
    token = secret(getattr(args, "influx_token_file", None), "STADTPULS_INFLUX_TOKEN") or ""
    org = pick(getattr(args, "influx_org", None), "STADTPULS_INFLUX_ORG", "")
    bucket = pick(getattr(args, "influx_bucket", None), "STADTPULS_INFLUX_BUCKET", "stadtpuls")
    return StoreSettings("influx", influx_url=url, influx_token=token, influx_org=org,
                         influx_bucket=bucket)


def mqtt_version(args: argparse.Namespace) -> int:
    """The protocol level: 5, or 4 for MQTT 3.1.1."""
    version = pick(getattr(args, "mqtt_version", None), "STADTPULS_MQTT_VERSION", "5")
    if version not in MQTT_VERSIONS:
        raise SettingsError(f"MQTT version {version!r} is not known; use 5 or 3.1.1 "
                            "(--mqtt-version / STADTPULS_MQTT_VERSION)")
    return MQTT_VERSIONS[version]


def ingest_client_id(args: argparse.Namespace) -> str:
    # Fixed, not the host name: a container's host name changes on every re-create, which
    # would start a new broker session and a new spool file each time.
    return pick(getattr(args, "client_id", None), "STADTPULS_INGEST_CLIENT_ID",
                 DEFAULT_INGEST_CLIENT_ID)


def ingest_share_group(args: argparse.Namespace) -> str | None:
    return pick(getattr(args, "share_group", None), "STADTPULS_INGEST_SHARE_GROUP", "") or None


def ingest_http(args: argparse.Namespace) -> tuple[str, int]:
    """Where the ingest serves /healthz and /metrics: (host, port), port 0 = off."""
    host = pick(getattr(args, "http_host", None), "STADTPULS_INGEST_HTTP_HOST", "127.0.0.1")
    port = pick_int(getattr(args, "http_port", None), "STADTPULS_INGEST_HTTP_PORT", 9108,
                     "--http-port")
    return host, port


def log_level(args: argparse.Namespace) -> str:
    level = pick(getattr(args, "log_level", None), "STADTPULS_LOG_LEVEL", "INFO").upper()
    if level not in LOG_LEVELS:
        raise SettingsError(f"log level {level!r} is not known; use one of "
                            f"{', '.join(LOG_LEVELS)} (--log-level / STADTPULS_LOG_LEVEL)")
    return level


# -- hardening (issue 9): client certificates, health limit, dead-letter caps -------------


def add_ingest_hardening_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--max-unacked-age", type=float, help="/healthz answers 503 when a "
                       "message has waited this many seconds for its ack (env "
                       "STADTPULS_INGEST_MAX_UNACKED_AGE; default 60)")
    group.add_argument("--deadletter-max-count", type=int, help="keep at most this many dead "
                       "letters, purging the oldest (env STADTPULS_DEADLETTER_MAX_COUNT; "
                       "default 1,000,000)")
    group.add_argument("--deadletter-max-bytes", type=int, help="... and at most this many "
                       "bytes of them (env STADTPULS_DEADLETTER_MAX_BYTES; default 1 GiB)")


def mqtt_client_certificate(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """(certificate file, key file) for brokers that authenticate clients by certificate."""
    cert = getattr(args, "mqtt_cert_file", None) or os.environ.get("STADTPULS_MQTT_CERT_FILE")
    key = getattr(args, "mqtt_key_file", None) or os.environ.get("STADTPULS_MQTT_KEY_FILE")
    if key and not cert:
        raise SettingsError("an MQTT client key is set but no certificate; set "
                            "--mqtt-cert-file or STADTPULS_MQTT_CERT_FILE")
    for what, file in (("certificate", cert), ("key", key)):
        if file and not Path(file).is_file():
            raise SettingsError(f"MQTT client {what} file {file!r} does not exist")
    return cert or None, key or None


def ingest_max_unacked_age(args: argparse.Namespace) -> float:
    flag = getattr(args, "max_unacked_age", None)
    if flag is not None:
        return float(flag)
    raw = os.environ.get("STADTPULS_INGEST_MAX_UNACKED_AGE")
    if not raw:
        return 60.0
    try:
        return float(raw)
    except ValueError:
        raise SettingsError(f"STADTPULS_INGEST_MAX_UNACKED_AGE={raw!r} is not a number of "
                            "seconds (--max-unacked-age)") from None


def deadletter_caps(args: argparse.Namespace, letters: int, size: int) -> tuple[int, int]:
    """(max letters, max bytes); `letters` and `size` are the defaults."""
    return (pick_int(getattr(args, "deadletter_max_count", None),
                      "STADTPULS_DEADLETTER_MAX_COUNT", letters, "--deadletter-max-count"),
            pick_int(getattr(args, "deadletter_max_bytes", None),
                      "STADTPULS_DEADLETTER_MAX_BYTES", size, "--deadletter-max-bytes"))
