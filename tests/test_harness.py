"""The real-server harness itself: Mosquitto and influxd (1.6.7 behind the v2-write adapter).

No mocks: every test talks to real server processes on loopback ports.
"""

from __future__ import annotations

import gzip
import http.client
import json
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from influxdb_client import InfluxDBClient, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.rest import ApiException
from paho.mqtt.client import Client, ConnectFlags, MQTTMessage
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from testkit.influx_adapter import V2WriteAdapter, translate_target
from testkit.servers import InfluxServer, MosquittoServer, free_port

pytestmark = pytest.mark.integration

T0 = 1_700_000_000  # seconds; a fixed past instant keeps the assertions exact


# --- MQTT helpers ----------------------------------------------------------------------------


class MqttClient:
    """A paho 2.x client whose callbacks feed thread-safe queues the test can wait on."""

    def __init__(
        self,
        server: MosquittoServer,
        client_id: str = "",
        *,
        persistent: bool = False,
        protocol: MQTTProtocolVersion = MQTTProtocolVersion.MQTTv5,
    ) -> None:
        v5 = protocol == MQTTProtocolVersion.MQTTv5
        self.client = Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=protocol,
            clean_session=None if v5 else not persistent,
        )
        self.inbox: queue.Queue[MQTTMessage] = queue.Queue()
        self._connack: queue.Queue[tuple[ReasonCode, bool]] = queue.Queue()
        self._suback: queue.Queue[list[ReasonCode]] = queue.Queue()
        self.client.on_connect = self._on_connect
        self.client.on_message = lambda _c, _u, msg: self.inbox.put(msg)
        self.client.on_subscribe = lambda _c, _u, _mid, codes, _p: self._suback.put(codes)
        if v5:
            # Without a session expiry an MQTT 5 broker forgets the session on disconnect.
            properties = Properties(PacketTypes.CONNECT)
            properties.SessionExpiryInterval = 3600 if persistent else 0
            self.client.connect(
                server.host, server.port, 30, clean_start=not persistent, properties=properties
            )
        else:
            # paho refuses clean_start for 3.1.1; clean_session was given to Client() above.
            self.client.connect(server.host, server.port, 30)
        self.client.loop_start()
        code, self.session_present = self._connack.get(timeout=10)
        assert not code.is_failure, f"CONNACK {code}"

    def _on_connect(
        self, _c: Client, _u: Any, flags: ConnectFlags, code: ReasonCode, _p: Any
    ) -> None:
        self._connack.put((code, flags.session_present))

    def subscribe(self, topic: str, qos: int = 1) -> None:
        self.client.subscribe(topic, qos)
        codes = self._suback.get(timeout=10)
        assert all(not c.is_failure for c in codes), codes

    def receive(self, count: int, timeout: float = 30) -> list[MQTTMessage]:
        return [self.inbox.get(timeout=timeout) for _ in range(count)]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def mqtt_clients() -> Iterator[list[MqttClient]]:
    clients: list[MqttClient] = []
    yield clients
    for c in clients:
        c.close()


# --- InfluxDB helpers ------------------------------------------------------------------------


def http_request(
    url: str,
    method: str,
    target: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, http.client.HTTPMessage, bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        conn.request(method, target, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    finally:
        conn.close()


def influxql(url: str, db: str, q: str, params: dict[str, Any] | None = None) -> list[list[Any]]:
    """Raw InfluxQL GET; returns the rows of the first series (or [])."""
    args = {"db": db, "q": q, "epoch": "ns"}
    if params is not None:
        args["params"] = json.dumps(params)
    status, _, body = http_request(url, "GET", "/query?" + urlencode(args))
    assert status == 200, body
    result = json.loads(body)["results"][0]
    assert "error" not in result, result
    series = result.get("series", [])
    return list(series[0]["values"]) if series else []


def v2_client(influx: InfluxServer, *, gzip_enabled: bool = False) -> InfluxDBClient:
    return InfluxDBClient(url=influx.url, token="unused", org="unused", enable_gzip=gzip_enabled)


# --- Mosquitto -------------------------------------------------------------------------------


def test_mosquitto_delivers_1000_qos1_messages(
    mosquitto: MosquittoServer, mqtt_topic_prefix: str, mqtt_clients: list[MqttClient]
) -> None:
    sub = MqttClient(mosquitto)
    mqtt_clients.append(sub)
    sub.subscribe(f"{mqtt_topic_prefix}/#")
    pub = MqttClient(mosquitto)
    mqtt_clients.append(pub)

    infos = [
        pub.client.publish(f"{mqtt_topic_prefix}/s{i % 7}", str(i).encode(), qos=1)
        for i in range(1000)
    ]
    for info in infos:
        info.wait_for_publish(timeout=30)
        assert info.is_published()

    got = sorted(int(m.payload) for m in sub.receive(1000))
    assert got == list(range(1000))
    assert sub.inbox.empty()
    assert mosquitto.url == f"mqtt://127.0.0.1:{mosquitto.port}"


@pytest.mark.parametrize(
    "protocol",
    [MQTTProtocolVersion.MQTTv5, MQTTProtocolVersion.MQTTv311],
    ids=["mqtt5", "mqtt311"],
)
def test_mosquitto_restart_keeps_queued_qos1_messages(
    make_mosquitto: Callable[[], MosquittoServer],
    mqtt_topic_prefix: str,
    mqtt_clients: list[MqttClient],
    protocol: MQTTProtocolVersion,
) -> None:
    broker = make_mosquitto()
    port = broker.port
    client_id = f"harness-persistent-{mqtt_topic_prefix[-12:]}"
    away = MqttClient(broker, client_id, persistent=True, protocol=protocol)
    away.subscribe(f"{mqtt_topic_prefix}/#")
    away.close()

    pub = MqttClient(broker)
    for i in range(50):
        pub.client.publish(f"{mqtt_topic_prefix}/x", str(i).encode(), qos=1).wait_for_publish(10)
    pub.close()

    broker.restart()
    assert broker.port == port

    back = MqttClient(broker, client_id, persistent=True, protocol=protocol)
    mqtt_clients.append(back)
    assert back.session_present
    assert sorted(int(m.payload) for m in back.receive(50, timeout=15)) == list(range(50))


# --- InfluxDB through the adapter ------------------------------------------------------------


def test_v2_write_and_influxql_read_back(influx: InfluxServer, influx_db: str) -> None:
    lines = [
        f"m,sensor=x v=1.5 {T0}",
        f"m,sensor=y v=2.5 {T0 + 1}",
        # The tag value an injected query string would look like, stored literally.
        f"m,sensor=x'\\ OR\\ 1\\=1\\ -- v=9 {T0 + 2}",
    ]
    with v2_client(influx) as client:
        client.write_api(write_options=SYNCHRONOUS).write(
            bucket=f"{influx_db}/autogen", record=lines, write_precision=WritePrecision.S
        )

    rows = influxql(influx.url, influx_db, 'SELECT "v", "sensor" FROM "m"')
    assert rows == [
        [T0 * 10**9, 1.5, "x"],
        [(T0 + 1) * 10**9, 2.5, "y"],
        [(T0 + 2) * 10**9, 9, "x' OR 1=1 --"],
    ]

    # influxd 1.6.7 supports bound parameters: the value is matched literally, never parsed.
    query = "SELECT v FROM m WHERE sensor = $s"
    injected = influxql(influx.url, influx_db, query, {"s": "x' OR 1=1 --"})
    assert injected == [[(T0 + 2) * 10**9, 9]]
    assert influxql(influx.url, influx_db, query, {"s": "y"}) == [[(T0 + 1) * 10**9, 2.5]]


def test_bucket_without_retention_policy_and_precision_default(
    influx: InfluxServer, influx_db: str
) -> None:
    status, _, body = http_request(
        influx.url, "POST", f"/api/v2/write?bucket={influx_db}&org=o", b"m v=1 1"
    )
    assert status == 204, body
    assert influxql(influx.direct_url, influx_db, "SELECT v FROM m") == [[1, 1]]


def test_gzip_write_passes_through(influx: InfluxServer, influx_db: str) -> None:
    body = gzip.compress(f"g,sensor=z v=7 {T0}\n".encode())
    status, _, resp = http_request(
        influx.url,
        "POST",
        f"/api/v2/write?bucket={influx_db}/autogen&precision=s",
        body,
        {"Content-Encoding": "gzip", "Authorization": "Token unused"},
    )
    assert status == 204, resp
    with v2_client(influx, gzip_enabled=True) as client:
        client.write_api(write_options=SYNCHRONOUS).write(
            bucket=influx_db, record=f"g,sensor=z v=8 {T0 + 1}", write_precision=WritePrecision.S
        )
    assert influxql(influx.url, influx_db, "SELECT v FROM g") == [
        [T0 * 10**9, 7],
        [(T0 + 1) * 10**9, 8],
    ]


def test_malformed_line_is_400_with_influxd_error(influx: InfluxServer, influx_db: str) -> None:
    with v2_client(influx) as client, pytest.raises(ApiException) as err:
        client.write_api(write_options=SYNCHRONOUS).write(bucket=influx_db, record="garbage line")
    assert err.value.status == 400
    assert "unable to parse 'garbage line'" in str(err.value.body)
    assert "unable to parse" in err.value.headers["X-Influxdb-Error"]


def test_unknown_database_is_404(influx: InfluxServer) -> None:
    status, headers, body = http_request(
        influx.url, "POST", "/api/v2/write?bucket=no_such_db&precision=s", b"m v=1 1"
    )
    assert status == 404
    assert "database not found" in body.decode()
    assert headers["X-Influxdb-Version"].startswith("1.6")


def test_ping_and_other_paths_are_forwarded(influx: InfluxServer) -> None:
    status, headers, _ = http_request(influx.url, "GET", "/ping")
    assert status == 204
    assert "X-Influxdb-Version" in headers
    # influxd 1.6 has no /health; the 404 must come through as it is.
    assert http_request(influx.url, "GET", "/health")[0] == 404


def test_keep_alive_connection_serves_many_requests(influx: InfluxServer, influx_db: str) -> None:
    conn = http.client.HTTPConnection(influx.host, influx.adapter_port, timeout=30)
    try:
        for i in range(20):
            conn.request("POST", f"/api/v2/write?bucket={influx_db}", body=f"k v={i} {i}")
            resp = conn.getresponse()
            assert resp.status == 204, resp.read()
            resp.read()
        first_sock = conn.sock
        conn.request("GET", "/ping")
        conn.getresponse().read()
        assert conn.sock is first_sock
    finally:
        conn.close()
    assert len(influxql(influx.url, influx_db, "SELECT v FROM k")) == 20


def test_stop_start_keeps_data_and_ports(make_influx: Callable[[], InfluxServer]) -> None:
    server = make_influx()
    server.create_database("keep")
    status, _, _ = http_request(
        server.url, "POST", "/api/v2/write?bucket=keep&precision=s", b"m v=3 5"
    )
    assert status == 204
    ports = (server.adapter_port, server.http_port, server.rpc_port)
    idle = http.client.HTTPConnection(server.host, server.adapter_port, timeout=5)
    idle.request("GET", "/ping")
    idle.getresponse().read()

    server.stop()
    for url in (server.url, server.direct_url):
        with pytest.raises(ConnectionRefusedError):
            http_request(url, "GET", "/ping")
    # A kept-alive connection is cut as well, as a real outage would.
    with pytest.raises((OSError, http.client.HTTPException)):
        idle.request("GET", "/ping")
        idle.getresponse().read()
    idle.close()

    server.start()
    assert (server.adapter_port, server.http_port, server.rpc_port) == ports
    assert influxql(server.url, "keep", "SELECT v FROM m") == [[5 * 10**9, 3]]


def test_adapter_answers_503_when_influxd_is_down() -> None:
    with V2WriteAdapter("127.0.0.1", free_port()) as adapter:
        status, headers, body = http_request(
            adapter.url, "POST", "/api/v2/write?bucket=x", b"m v=1"
        )
    assert status == 503
    assert "unreachable" in headers["X-Influxdb-Error"]
    assert json.loads(body)["error"]


def test_database_names_are_quoted(influx: InfluxServer) -> None:
    name = 'odd "name" -- here'  # influxd forbids / and \ in names
    influx.create_database(name)
    try:
        names = [
            row[0] for row in influx.query("SHOW DATABASES")["results"][0]["series"][0]["values"]
        ]
        assert name in names
    finally:
        influx.drop_database(name)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/api/v2/write?org=o&bucket=db%2Frp&precision=s", "/write?db=db&rp=rp&precision=s"),
        ("/api/v2/write?bucket=db", "/write?db=db&precision=n"),
        ("/api/v2/write?bucket=db&precision=us", "/write?db=db&precision=u"),
        ("/api/v2/write?bucket=db&precision=ms", "/write?db=db&precision=ms"),
        ("/query?db=x&q=SELECT+1", "/query?db=x&q=SELECT+1"),
        ("/ping", "/ping"),
    ],
)
def test_translate_target(target: str, expected: str) -> None:
    assert translate_target(target) == expected


def test_adapter_is_threaded(influx: InfluxServer, influx_db: str) -> None:
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            lines = "\n".join(f"t,w={n} v={i} {i}" for i in range(2000)).encode()
            status, _, body = http_request(
                influx.url, "POST", f"/api/v2/write?bucket={influx_db}", lines
            )
            assert status == 204, body
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert influxql(influx.url, influx_db, "SELECT count(v) FROM t")[0][1] == 16000
