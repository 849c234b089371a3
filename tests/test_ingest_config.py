"""The ingest's cross-field rules live in `IngestConfig`; the command turns them into exit 2."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from ingest.config import IngestConfig
from stadtpuls.settings import MqttSettings, SettingsError

CATALOGUE = Path(__file__).resolve().parents[1] / "config" / "stuehlinger.yaml"
MQTT = MqttSettings("127.0.0.1", 1883, False, None, None)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("STADTPULS_"):
            monkeypatch.delenv(name)


def _config(**kw: Any) -> IngestConfig:
    return IngestConfig(**{"mqtt": MQTT, "client_id": "c", "topic_filters": ["stadtpuls/#"],
                           "data_dir": Path("data"), **kw})


def test_a_valid_config_is_accepted() -> None:
    config = _config(share_group="g", http_port=0, stats_interval_s=0)
    assert config.subscriptions == ["$share/g/stadtpuls/#"]


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"batch_size": 0}, "--batch-size must be positive, not 0"),
        ({"batch_ms": -5.0}, "--batch-ms must be positive, not -5"),
        ({"spool_max_readings": 0}, "--spool-max-readings must be positive"),
        ({"max_pending_messages": -1}, "--max-pending-messages must be positive"),
        ({"max_unacked_age_s": 0.0}, "--max-unacked-age must be positive"),
        ({"deadletter_max_letters": 0}, "--deadletter-max-count must be positive"),
        ({"deadletter_max_bytes": -1}, "--deadletter-max-bytes must be positive"),
        ({"stats_interval_s": -1.0}, "--stats-interval must be 0 (off) or positive"),
        ({"http_port": 70_000}, "--http-port must be between 1 and 65535"),
        ({"mqtt_version": 3}, "use --mqtt-version 5 or 3.1.1"),
        ({"client_id": ""}, "--client-id / STADTPULS_INGEST_CLIENT_ID"),
        ({"share_group": "a/b"}, "share group 'a/b' must be a non-empty name without '/'"),
        ({"share_group": "all+"}, "without '/', '+' or '#'"),
        ({"share_group": ""}, "must be a non-empty name"),
        ({"share_group": "g", "mqtt_version": 4}, "--share-group needs MQTT 5"),
    ],
)
def test_cross_field_rules_name_the_flag(kw: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError) as err:
        _config(**kw)
    assert message in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["--batch-size", "0"], {}, "--batch-size must be positive"),
        (["--share-group", "g", "--mqtt-version", "3.1.1"], {}, "--share-group needs MQTT 5"),
        (["--share-group", "g"], {"STADTPULS_MQTT_VERSION": "3.1.1"}, "needs MQTT 5"),
        ([], {"STADTPULS_INGEST_SHARE_GROUP": "a#"}, "share group 'a#'"),
        ([], {"STADTPULS_INGEST_HTTP_PORT": "x"}, "is not a whole number"),
        ([], {"STADTPULS_MQTT_VERSION": "4"}, "MQTT version '4' is not known"),
    ],
)
def test_ingest_exits_2_with_one_line(argv: list[str], env: dict[str, str], message: str,
                                      monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    from stadtpuls.cli import main

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    port = [] if "STADTPULS_INGEST_HTTP_PORT" in env else ["--http-port", "0"]
    assert main(["ingest", "--catalogue", str(CATALOGUE), *port, *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
