"""Settings resolve flags, then environment, then defaults; bad values are one clear line."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from stadtpuls import settings as st


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
    store = st.open_store(st.store_settings(_args(store=f"sqlite:{tmp_path}/d/s.db")))
    assert store.latest() == {}
    store.close()
