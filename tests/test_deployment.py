"""The production deployment's files: docker-compose.yml, its overlay, the Mosquitto config.

The compose files are validated against the Compose Specification's JSON schema
(tests/schemas/README.md says why not `docker-compose config`); the rest are the lock-down
promises of docs/operations.md, "Security".
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from secure_broker import SHIPPED_ACL, SHIPPED_CONF, read_conf

# The ingest's payload limit (256 KiB); the broker refuses larger packets (issue 9, point 1).
from ingest.limits import MAX_PAYLOAD_BYTES

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"
PUBLIC_BROKER = ROOT / "docker-compose.public-broker.yml"
SCHEMA = Path(__file__).parent / "schemas" / "compose-spec.json"


def compose(path: Path = COMPOSE) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict)
    return data


def services() -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = compose()["services"]
    return result


@pytest.mark.parametrize("path", [COMPOSE, PUBLIC_BROKER], ids=lambda p: p.name)
def test_compose_files_follow_the_compose_specification(path: Path) -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in jsonschema.Draft7Validator(schema).iter_errors(compose(path))]
    assert errors == []


def test_every_service_has_a_healthcheck() -> None:
    for name, service in services().items():
        check = service.get("healthcheck", {})
        assert check.get("test") and not check.get("disable"), f"{name} has no healthcheck"


def test_only_the_dashboard_publishes_a_port() -> None:
    published = {name: s["ports"] for name, s in services().items() if s.get("ports")}
    assert published == {"dashboard": ["8050:8050"]}
    # The overlay for sensors outside the host adds the broker's TLS port, nothing else.
    assert compose(PUBLIC_BROKER) == {"services": {"mosquitto": {"ports": ["8883:8883"]}}}
    _, listeners = read_conf()
    tls = [lst.port for lst in listeners if "certfile" in lst.options]
    assert tls == [8883]


def test_secrets_are_files_outside_the_repository() -> None:
    declared = compose()["secrets"]
    for name, secret in declared.items():
        assert set(secret) == {"file"} and secret["file"].startswith("./secrets/"), name
    wanted = ["secrets/influx_admin_token", ".env"]
    ignored = subprocess.run(["git", "check-ignore", *wanted], cwd=ROOT, capture_output=True,
                             text=True, check=False).stdout.split()
    assert ignored == wanted, "secrets/ and .env must be git-ignored"


def test_services_get_secrets_only_through_files() -> None:
    """Credentials come as *_FILE paths; no value that looks like one is written inline."""
    for name, service in services().items():
        for key, value in (service.get("environment") or {}).items():
            if re.search(r"TOKEN|PASSWORD|SECRET|_KEY\b", key):
                assert key.endswith("_FILE") and str(value).startswith("/run/secrets/"), \
                    f"{name}: {key}"
            assert "@" not in str(value) or str(value).startswith("${"), f"{name}: {key}"


def test_each_service_holds_only_its_own_tokens() -> None:
    """Admin token only to InfluxDB's first start; the ingest writes, the dashboard reads."""
    held = {name: {s if isinstance(s, str) else s["source"] for s in svc.get("secrets", [])}
            for name, svc in services().items()}
    holders = {secret: sorted(n for n, have in held.items() if secret in have)
               for secret in compose()["secrets"]}
    assert holders["influx_admin_token"] == ["influxdb"]
    assert holders["influx_ingest_token"] == ["ingest"]
    assert holders["influx_dashboard_token"] == ["dashboard"]
    assert holders["mosquitto_passwd"] == holders["mqtt_server_key"] == ["mosquitto"]
    ingest = services()["ingest"]["environment"]
    assert ingest["STADTPULS_MQTT_URL"].startswith("mqtts://")
    assert ingest["STADTPULS_MQTT_CA_FILE"] == "/run/secrets/mqtt_ca"


def test_no_secret_is_in_the_repository() -> None:
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                             check=True).stdout.decode().split("\0")
    suspicious = re.compile(
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----"  # TLS keys
        r"|^\w[\w.-]*:\$[67]\$"  # mosquitto_passwd hash lines
        r"|\b[0-9a-f]{40,}\b|[A-Za-z0-9_-]{60,}==",  # hex or InfluxDB-style API tokens
        re.M)
    deployment = [COMPOSE, PUBLIC_BROKER, *(ROOT / "config").rglob("*"), ROOT / "Dockerfile"]
    for path in deployment:
        if path.is_file():
            assert not suspicious.search(path.read_text()), path
    private_key = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----\s*\n[A-Za-z0-9+/=]{20,}")
    for name in filter(None, tracked):
        path = ROOT / name
        assert not name.startswith("secrets/") and path.suffix not in {".key", ".pem"}, name
        if path.is_file() and path.stat().st_size < 1_000_000:
            assert not private_key.search(path.read_text(errors="replace")), name


def test_mosquitto_is_locked_down() -> None:
    glob, listeners = read_conf()
    assert glob["per_listener_settings"] == "true"
    assert int(glob["max_packet_size"]) == MAX_PAYLOAD_BYTES
    for lst in listeners:
        if lst.bind == "127.0.0.1":
            continue  # the container's own healthcheck, unreachable from outside it
        assert lst.options.get("allow_anonymous") == "false", lst
        assert lst.options.get("password_file") and lst.options.get("acl_file"), lst
        assert lst.options.get("certfile") and lst.options.get("keyfile"), lst
    assert {lst.bind for lst in listeners} <= {None, "127.0.0.1"}


def test_the_mounted_files_are_where_the_broker_config_looks() -> None:
    service = services()["mosquitto"]
    targets = {s["target"] for s in service["secrets"]}
    targets |= {v.split(":")[1] for v in service["volumes"]}
    _, listeners = read_conf()
    for lst in listeners:
        for key in ("password_file", "acl_file", "certfile", "keyfile"):
            if key in lst.options:
                assert lst.options[key] in targets, key
    assert f"./config/mosquitto/{SHIPPED_CONF.name}:/mosquitto/config/mosquitto.conf:ro" \
        in service["volumes"]


def test_acl_lets_sensors_write_only_their_own_site_and_only_the_ingest_read() -> None:
    rules: dict[str | None, list[tuple[str, str]]] = {None: []}
    user: str | None = None
    for raw in SHIPPED_ACL.read_text().splitlines():
        words = raw.split()
        if not words or words[0].startswith("#"):
            continue
        if words[0] == "user":
            user = words[1]
            rules[user] = []
        else:
            assert words[0] == "topic" and len(words) == 3, raw  # access is always explicit
            rules[user].append((words[1], words[2]))
    assert rules.pop(None) == [("read", "$SYS/broker/uptime")]
    assert rules.pop("ingest") == [("read", "stadtpuls/#"), ("read", "v3/+/devices/+/up")]
    assert rules, "no sensor user in the ACL"
    for user, grants in rules.items():
        site = user.partition(".")[0]  # a site's user, or one device's: `<site>.<device>`
        for access, topic in grants:
            assert access == "write", (user, topic)
            assert topic.startswith((f"stadtpuls/{site}/", f"v3/stadtpuls-{site}@")), topic


def test_the_image_copies_every_shipped_package() -> None:
    # A package left out of the Dockerfile installs fine and fails only when its command runs.
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    shipped = {pattern.rstrip("*")
               for pattern in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    copied = set(re.findall(r"^COPY (\w+) \./\1$", dockerfile, flags=re.MULTILINE))
    assert shipped - copied == set(), f"Dockerfile lacks COPY for {sorted(shipped - copied)}"
