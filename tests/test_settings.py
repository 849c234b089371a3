"""Settings resolve flags, then environment, then defaults; bad values are one clear line."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from stadtpuls import settings as st
from stadtpuls.store.opening import open_store


def _args(**kw: str | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    st.add_mqtt_arguments(parser)
    st.add_store_arguments(parser)
    st.add_catalogue_argument(parser)
    ns = parser.parse_args([])
    for key, value in kw.items():
        setattr(ns, key, value)
    return ns


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("STADTPULS_"):
            monkeypatch.delenv(name)


def test_defaults() -> None:
    mqtt = st.mqtt_settings(_args())
    assert (mqtt.host, mqtt.port, mqtt.tls, mqtt.username) == ("127.0.0.1", 1883, False, None)
    store = st.store_settings(_args())
    assert store.kind == "influx" and store.influx_bucket == "stadtpuls"
    assert st.catalogue_path(_args()) == Path("config/stuehlinger.yaml")


def test_default_catalogue_outside_a_checkout_is_the_shipped_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from stadtpuls.catalogue.loader import BUNDLED_CATALOGUE

    monkeypatch.chdir(tmp_path)
    assert st.catalogue_path(_args()) == BUNDLED_CATALOGUE
    # A catalogue the operator names is never swapped for the shipped one.
    assert st.catalogue_path(_args(catalogue="config/stuehlinger.yaml")) == Path(
        "config/stuehlinger.yaml")
    monkeypatch.setenv("STADTPULS_CATALOGUE", "mine.yaml")
    assert st.catalogue_path(_args()) == Path("mine.yaml")


def test_flag_beats_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STADTPULS_MQTT_URL", "mqtt://env-host:1884")
    assert st.mqtt_settings(_args()).host == "env-host"
    assert st.mqtt_settings(_args(mqtt_url="mqtts://flag-host")).port == 8883
    monkeypatch.setenv("STADTPULS_STORE", "sqlite:/tmp/x.db")
    assert st.store_settings(_args()).sqlite_path == "/tmp/x.db"
    assert st.store_settings(_args(store="influx")).kind == "influx"


def test_secrets_from_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    token = tmp_path / "token"
    token.write_text("s3cret\n")
    monkeypatch.setenv("STADTPULS_INFLUX_TOKEN_FILE", str(token))
    assert st.store_settings(_args()).influx_token == "s3cret"
    monkeypatch.setenv("STADTPULS_MQTT_USERNAME", "ingest")
    monkeypatch.setenv("STADTPULS_MQTT_PASSWORD", "pw")
    mqtt = st.mqtt_settings(_args())
    assert (mqtt.username, mqtt.password) == ("ingest", "pw")
    assert "pw" not in mqtt.url


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"mqtt_url": "http://x"}, "MQTT URL 'http://x' is not valid"),
        ({"mqtt_url": "mqtt://x:notaport"}, "invalid port"),
        ({"store": "postgres"}, "store 'postgres' is not known; use 'influx' or 'sqlite:PATH'"),
        ({"store": "sqlite:"}, "needs a path"),
        ({"influx_url": "localhost:8086"}, "InfluxDB URL 'localhost:8086' is not valid"),
        ({"influx_token_file": "/nonexistent/token"}, "cannot read secret file"),
    ],
)
def test_bad_values_name_the_setting(kw: dict[str, str], message: str) -> None:
    with pytest.raises(st.SettingsError, match=message.replace("(", r"\(")):
        st.mqtt_settings(_args(**kw))
        st.store_settings(_args(**kw))


def test_password_without_user_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STADTPULS_MQTT_PASSWORD", "pw")
    with pytest.raises(st.SettingsError, match="no user name"):
        st.mqtt_settings(_args())


def test_open_store_sqlite(tmp_path: Path) -> None:
    store = open_store(st.store_settings(_args(store=f"sqlite:{tmp_path}/d/s.db")))
    assert store.latest() == {}
    store.close()


def _ingest_args(*argv: str) -> argparse.Namespace:
    from ingest.cli import configure_parser

    parser = argparse.ArgumentParser()
    configure_parser(parser)
    return parser.parse_args(list(argv))


def test_ingest_settings_flag_then_environment_then_default(
        monkeypatch: pytest.MonkeyPatch) -> None:
    args = _ingest_args()
    assert st.mqtt_version(args) == 5 and st.ingest_share_group(args) is None
    # fixed, not the host name (which changes with every container re-create)
    assert st.ingest_client_id(args) == "stadtpuls-ingest"
    assert st.ingest_http(args) == ("127.0.0.1", 9108) and st.log_level(args) == "INFO"
    for name, value in (("MQTT_VERSION", "3.1.1"), ("INGEST_CLIENT_ID", "env-id"),
                        ("INGEST_SHARE_GROUP", "env-group"), ("INGEST_HTTP_HOST", "0.0.0.0"),
                        ("INGEST_HTTP_PORT", "9200"), ("LOG_LEVEL", "debug")):
        monkeypatch.setenv(f"STADTPULS_{name}", value)
    args = _ingest_args()
    assert (st.mqtt_version(args), st.ingest_client_id(args), st.ingest_share_group(args),
            st.ingest_http(args), st.log_level(args)) == (
        4, "env-id", "env-group", ("0.0.0.0", 9200), "DEBUG")
    # `--http-port 0` (off) is a value, not a missing flag: it beats the environment
    args = _ingest_args("--mqtt-version", "5", "--client-id", "flag-id", "--share-group", "g",
                        "--http-host", "::1", "--http-port", "0", "--log-level", "ERROR")
    assert (st.mqtt_version(args), st.ingest_client_id(args), st.ingest_share_group(args),
            st.ingest_http(args), st.log_level(args)) == (5, "flag-id", "g", ("::1", 0), "ERROR")


@pytest.mark.parametrize(
    ("name", "value", "resolve", "message"),
    [
        ("MQTT_VERSION", "6", st.mqtt_version, "MQTT version '6' is not known; use 5 or 3.1.1"),
        ("INGEST_HTTP_PORT", "nine", st.ingest_http,
         "STADTPULS_INGEST_HTTP_PORT='nine' is not a whole number"),
        ("LOG_LEVEL", "loud", st.log_level, "log level 'LOUD' is not known"),
    ],
)
def test_bad_ingest_environment_names_the_variable(
        monkeypatch: pytest.MonkeyPatch, name: str, value: str,
        resolve: Callable[[argparse.Namespace], object], message: str) -> None:
    monkeypatch.setenv(f"STADTPULS_{name}", value)
    with pytest.raises(st.SettingsError, match=re.escape(message)) as err:
        resolve(_ingest_args())
    assert f"STADTPULS_{name}" in str(err.value) and "\n" not in str(err.value)


_ROOT = Path(__file__).resolve().parents[1]
_PRODUCT = ("stadtpuls", "ingest", "dashboard", "simulators", "demo", "alerts", "opendata")
_SETTINGS = _ROOT / "stadtpuls" / "settings"


def test_only_the_settings_module_reads_stadtpuls_variables() -> None:
    reads = re.compile(r"(environ\.get|getenv|environ\[)\(?\s*f?[\"']STADTPULS_")
    offenders = sorted(
        str(path.relative_to(_ROOT)) for folder in _PRODUCT
        for path in (_ROOT / folder).rglob("*.py")
        if _SETTINGS not in path.parents and reads.search(path.read_text())
    )
    assert offenders == [], offenders


def test_readme_lists_every_variable_the_settings_read() -> None:
    source = "\n".join(path.read_text() for path in sorted(_SETTINGS.glob("*.py")))
    read = set(re.findall(r"[\"'](STADTPULS_[A-Z_]+)[\"']", source))
    # secrets are also read from <NAME>_FILE (see `secret`)
    within_call = r"(?:[^()]|\([^()]*\))*?"  # the arguments of one call, nested once
    read |= {f"{name}_FILE" for name in re.findall(
        rf"\bsecret\({within_call}[\"'](STADTPULS_[A-Z_]+)", source)}
    table = (_ROOT / "README.md").read_text()
    listed = {m.group(1) for m in re.finditer(r"`(STADTPULS_[A-Z_]+)`", table)}
    listed |= {f"{m.group(1)}_FILE" for m in re.finditer(r"`(STADTPULS_[A-Z_]+)` / `_FILE`",
                                                          table)}
    assert len(read) >= 19 and read <= listed, sorted(read - listed)


def test_mqtt_client_certificate_settings(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key = tmp_path / "c.crt", tmp_path / "c.key"
    cert.write_text("x")
    key.write_text("y")
    args = _ingest_args("--mqtt-url", "mqtts://b:8883", "--mqtt-cert-file", str(cert),
                        "--mqtt-key-file", str(key))
    mqtt = st.mqtt_settings(args)
    assert (mqtt.cert_file, mqtt.key_file) == (str(cert), str(key))
    monkeypatch.setenv("STADTPULS_MQTT_CERT_FILE", str(cert))
    assert st.mqtt_settings(_ingest_args("--mqtt-url", "mqtts://b")).cert_file == str(cert)
    with pytest.raises(st.SettingsError, match="needs TLS"):
        st.mqtt_settings(_ingest_args("--mqtt-url", "mqtt://b"))
    monkeypatch.delenv("STADTPULS_MQTT_CERT_FILE")
    with pytest.raises(st.SettingsError, match="no certificate"):
        st.mqtt_settings(_ingest_args("--mqtt-url", "mqtts://b", "--mqtt-key-file", str(key)))
    with pytest.raises(st.SettingsError, match="does not exist"):
        st.mqtt_settings(_ingest_args("--mqtt-url", "mqtts://b", "--mqtt-cert-file", "/no"))


def test_ingest_health_and_deadletter_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert st.ingest_max_unacked_age(_ingest_args()) == 60.0
    assert st.deadletter_caps(_ingest_args(), 7, 8) == (7, 8)
    monkeypatch.setenv("STADTPULS_INGEST_MAX_UNACKED_AGE", "30")
    monkeypatch.setenv("STADTPULS_DEADLETTER_MAX_COUNT", "100")
    assert st.ingest_max_unacked_age(_ingest_args()) == 30.0
    assert st.ingest_max_unacked_age(_ingest_args("--max-unacked-age", "5")) == 5.0
    assert st.deadletter_caps(_ingest_args("--deadletter-max-bytes", "9"), 7, 8) == (100, 9)
    monkeypatch.setenv("STADTPULS_INGEST_MAX_UNACKED_AGE", "soon")
    with pytest.raises(st.SettingsError, match="STADTPULS_INGEST_MAX_UNACKED_AGE"):
        st.ingest_max_unacked_age(_ingest_args())
