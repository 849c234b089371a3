"""The shipped Mosquitto config (TLS, password file, ACL) run for real, with the real ingest.

The broker is Debian's Mosquitto started with `config/mosquitto/mosquitto.conf` and its ACL
(tests/secure_broker.py); the ingest is `stadtpuls ingest` as a subprocess connecting over
mqtts:// with the test CA, as in docker-compose.yml, storing into SQLite.
"""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from conftest import _missing
from paho.mqtt.client import Client
from paho.mqtt.enums import CallbackAPIVersion
from secure_broker import SecureBroker, stop_process
from test_ingest_integration import wait_for

from stadtpuls.store.sqlite import SQLiteStore
from testkit.loadgen import json_payload, json_topic, site_yaml, write_catalogue
from testkit.process import BinaryNotFoundError, free_port

pytestmark = [pytest.mark.integration]

ROOT = Path(__file__).resolve().parents[1]
# Users of the shipped ACL, plus one for a second site in the same style.
USERS = {"ingest": "ingest-test-pw", "stuehlinger": "site-test-pw", "nord": "nord-test-pw"}
ACL_EXTRA = "\nuser nord\ntopic write stadtpuls/nord/#\n"


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureBroker]:
    try:
        server = SecureBroker(tmp_path_factory.mktemp("secure-mosquitto"), USERS, ACL_EXTRA)
    except BinaryNotFoundError as exc:
        _missing(exc)
    server.start()
    yield server
    server.stop()


def connect(broker: SecureBroker, user: str | None) -> tuple[Client, int]:
    """A TLS client (trusting the test CA) and the broker's CONNACK reason code."""
    client = Client(CallbackAPIVersion.VERSION2, client_id=f"test-{user}-{time.monotonic_ns()}")
    client.tls_set(ca_certs=str(broker.pki.ca))
    if user is not None:
        client.username_pw_set(user, USERS[user])
    answered = threading.Event()
    codes: list[int] = []

    def on_connect(_c: Client, _u: object, _f: object, rc: object, _p: object) -> None:
        codes.append(int(rc.value))  # type: ignore[attr-defined]
        answered.set()

    client.on_connect = on_connect
    client.connect("127.0.0.1", broker.tls_port)
    client.loop_start()
    if not answered.wait(15):
        client.loop_stop()
        pytest.fail(f"no CONNACK for {user!r}: {broker.log_text()}")
    return client, codes[0]


def publish(broker: SecureBroker, user: str, messages: list[tuple[str, bytes]]) -> None:
    client, code = connect(broker, user)
    try:
        assert code == 0, f"{user} refused ({code}): {broker.log_text()}"
        for topic, payload in messages:
            client.publish(topic, payload, qos=1).wait_for_publish(15)
    finally:
        client.disconnect()
        client.loop_stop()


def test_anonymous_client_is_refused(broker: SecureBroker) -> None:
    client, code = connect(broker, None)
    client.disconnect()
    client.loop_stop()
    # paho reports the MQTT 3.1.1 CONNACK code 5 as the MQTT 5 reason 135, "Not authorized".
    assert code == 135


def test_the_compose_healthcheck_passes_against_the_shipped_config(broker: SecureBroker
                                                                   ) -> None:
    check = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    cmd = check["services"]["mosquitto"]["healthcheck"]["test"]
    assert cmd[0] == "CMD"
    if shutil.which(cmd[1]) is None:
        _missing(BinaryNotFoundError(cmd[1], "mosquitto-clients"))
    port = cmd.index("-p") + 1
    cmd[port] = str(broker.ports[int(cmd[port])])
    args = [arg.replace("$$", "$") for arg in cmd[1:]]  # compose's escape for a literal $
    done = subprocess.run(args, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr


def test_ingest_over_mqtts_stores_only_what_the_acl_allows(broker: SecureBroker,
                                                           tmp_path: Path) -> None:
    catalogue = write_catalogue(tmp_path / "sites.yaml", {
        "stuehlinger": site_yaml("stuehlinger", 1), "nord": site_yaml("nord", 1)})
    password_file = tmp_path / "mqtt_password"
    password_file.write_text(USERS["ingest"] + "\n")
    db = tmp_path / "store.db"
    port = free_port()
    log_path = tmp_path / "ingest.log"
    cmd = [sys.executable, "-m", "stadtpuls.cli", "ingest",
           "--mqtt-url", f"mqtts://127.0.0.1:{broker.tls_port}", "--mqtt-username", "ingest",
           "--mqtt-password-file", str(password_file), "--mqtt-ca-file", str(broker.pki.ca),
           "--store", f"sqlite:{db}", "--catalogue", str(catalogue),
           "--data-dir", str(tmp_path / "data"), "--client-id", "secure-ingest",
           "--http-port", str(port)]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=log, cwd=ROOT)
    try:
        wait_for(lambda: _health(port).get("broker") == "connected", 30,
                 f"the ingest to connect over mqtts (log: {log_path})")
        time.sleep(0.3)  # CONNACK first, then the SUBACK for its subscriptions
        now_ms = int(time.time() * 1000)
        denied, allowed, control = now_ms - 3_000, now_ms - 2_000, now_ms - 1_000
        # The site's sensor user writes outside its prefix first, then inside it: the broker
        # keeps one publisher's order, so once the second is stored the first had its chance.
        publish(broker, "stuehlinger", [(json_topic("nord", 0), json_payload(1.0, denied)),
                                        (json_topic("stuehlinger", 0),
                                         json_payload(2.0, allowed))])
        store = SQLiteStore(db)
        try:
            wait_for(lambda: _count(store, allowed, "stuehlinger") == 1, 30,
                     f"the permitted reading to be stored (log: {log_path})")
            # The same topic from its own site's user is stored: the refusal above was the ACL.
            publish(broker, "nord", [(json_topic("nord", 0), json_payload(3.0, control))])
            wait_for(lambda: _count(store, control, "nord") == 1, 30,
                     "the nord site's own reading to be stored")
            assert _count(store, denied, "nord") == 0
        finally:
            store.close()
    finally:
        stop_process(proc)


def _health(port: int) -> dict[str, object]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/healthz")
        return dict(json.loads(conn.getresponse().read()))
    except (OSError, ValueError):
        return {}
    finally:
        conn.close()


def _count(store: SQLiteStore, ts_ms: int, site: str) -> int:
    start = ts_ms * 1_000_000
    return sum(store.counts(start, start + 1_000_000, site).values())
