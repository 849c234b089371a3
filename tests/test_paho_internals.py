"""The fence around paho's private API (ingest/mqtt/fast_client.py).

The ingest's speed comes from overriding paho internals. A paho release may rename or change
them without notice; then these tests fail with one line that names what changed and the
installed paho version, instead of the ingest misbehaving under load. The names checked are
the ones `fast_client` declares (`PRIVATE_API`, `PRIVATE_BEHAVIOUR`), next to the code that
uses them. If one fails after a paho upgrade: adapt `fast_client`, re-run the ingest
integration tests and the bench, then widen the pin in pyproject.toml.
"""

from __future__ import annotations

import inspect

import paho.mqtt
import pytest
from paho.mqtt.client import Client, MQTTMessage
from paho.mqtt.enums import CallbackAPIVersion

from ingest.mqtt.fast_client import PRIVATE_API, PRIVATE_BEHAVIOUR, FastClient

PAHO = f"paho-mqtt {paho.mqtt.__version__}"
WHERE = "ingest/mqtt/fast_client.py"


def api_problem(owner: type, name: str, params: tuple[str, ...] | None) -> str | None:
    """One line if paho's `owner.name` is missing or takes other parameters, else None."""
    if params is None:  # an instance attribute, set in __init__
        instance = Client(CallbackAPIVersion.VERSION2) if owner is Client \
            else MQTTMessage(0, b"t")
        if not hasattr(instance, name):
            return f"{PAHO}: {owner.__name__}.{name} no longer exists; {WHERE} relies on it"
        return None
    attr = getattr(owner, name, None)
    if attr is None:
        return f"{PAHO}: {owner.__name__}.{name}() no longer exists; {WHERE} relies on it"
    got = tuple(inspect.signature(attr).parameters)[1:]
    if got != params:
        return (f"{PAHO}: {owner.__name__}.{name}({', '.join(got)}) has changed; {WHERE} "
                f"expects ({', '.join(params)})")
    return None


def behaviour_problem(owner: type, method: str, text: str, why: str) -> str | None:
    attr = getattr(owner, method, None)
    if attr is None:
        return f"{PAHO}: {owner.__name__}.{method}() no longer exists; {WHERE} relies on it"
    if text not in inspect.getsource(attr):
        return (f"{PAHO}: {owner.__name__}.{method}() no longer contains {text!r}; {WHERE} "
                f"relies on this: {why}")
    return None


@pytest.mark.parametrize(("owner", "name", "params"), PRIVATE_API,
                         ids=[f"{o.__name__}.{n}" for o, n, _ in PRIVATE_API])
def test_private_paho_api_is_unchanged(owner: type, name: str,
                                       params: tuple[str, ...] | None) -> None:
    problem = api_problem(owner, name, params)
    if problem:
        pytest.fail(problem, pytrace=False)


@pytest.mark.parametrize(("owner", "method", "text", "why"), PRIVATE_BEHAVIOUR,
                         ids=[f"{o.__name__}.{m}" for o, m, _, _ in PRIVATE_BEHAVIOUR])
def test_private_paho_behaviour_is_unchanged(owner: type, method: str, text: str,
                                             why: str) -> None:
    problem = behaviour_problem(owner, method, text, why)
    if problem:
        pytest.fail(problem, pytrace=False)


def test_the_overrides_take_what_paho_passes() -> None:
    for owner, name, params in PRIVATE_API:
        if owner is Client and params is not None and name in vars(FastClient):
            got = tuple(inspect.signature(getattr(FastClient, name)).parameters)[1:]
            assert got == params, f"FastClient.{name}({', '.join(got)}) must match paho's"


def test_the_fence_names_what_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The checks above can fail, with the line an operator needs."""
    monkeypatch.delattr(Client, "_handle_on_message")
    assert api_problem(Client, "_handle_on_message", ("message",)) == (
        f"{PAHO}: Client._handle_on_message() no longer exists; {WHERE} relies on it")

    def packet_queue(self: Client, command: int, packet: bytes) -> None: ...

    monkeypatch.setattr(Client, "_packet_queue", packet_queue)
    assert api_problem(Client, "_packet_queue", ("command", "packet", "mid", "qos")) == (
        f"{PAHO}: Client._packet_queue(command, packet) has changed; {WHERE} expects "
        "(command, packet, mid, qos)")
    assert behaviour_problem(Client, "_packet_queue", "self._thread is None", "why") == (
        f"{PAHO}: Client._packet_queue() no longer contains 'self._thread is None'; "
        f"{WHERE} relies on this: why")
    assert api_problem(MQTTMessage, "_no_such_field", None) == (
        f"{PAHO}: MQTTMessage._no_such_field no longer exists; {WHERE} relies on it")


def test_bulk_pubacks_are_the_bytes_paho_sends_for_each_ack() -> None:
    client = FastClient(CallbackAPIVersion.VERSION2, client_id="fence", manual_ack=True)
    queued: list[bytes] = []

    def capture(command: int, packet: bytes, mid: int, qos: int, info: object = None) -> None:
        queued.append(bytes(packet))

    client._packet_queue = capture  # type: ignore[method-assign,assignment]
    for mid in (1, 0x1234, 65_535):
        client.ack(mid, 1)
    client.queue_pubacks([1, 0x1234, 65_535])
    assert len(queued) == 4
    assert queued[3] == b"".join(queued[:3])


def _publish_packet(topic: bytes, mid: int, payload: bytes, v5: bool,
                    properties: bytes = b"\x00") -> bytes:
    return (len(topic).to_bytes(2, "big") + topic + mid.to_bytes(2, "big")
            + (properties if v5 else b"") + payload)


@pytest.mark.parametrize("v5", [True, False], ids=["mqtt5", "mqtt311"])
@pytest.mark.parametrize(("command", "topic", "properties"), [
    (0x32, b"stadtpuls/site/sensor", b"\x00"),  # QoS 1: the fast path
    (0x3B, b"stadtpuls/site/sensor", b"\x00"),  # QoS 1, dup and retain set
    (0x32, b"stadtpuls/\xff\xfe/x", b"\x00"),  # topic that is not UTF-8
    (0x32, b"stadtpuls/site/sensor", b"\x05\x02\x00\x00\x00\x3c"),  # v5 properties
    (0x30, b"stadtpuls/site/sensor", b"\x00"),  # QoS 0: paho's own parser
])
def test_fast_publish_parsing_equals_paho(v5: bool, command: int, topic: bytes,
                                          properties: bytes) -> None:
    """The PUBLISH fast path hands on_message exactly what paho's own parser would."""
    from paho.mqtt.enums import MQTTProtocolVersion

    protocol = MQTTProtocolVersion.MQTTv5 if v5 else MQTTProtocolVersion.MQTTv311
    qos = (command & 0x06) >> 1
    body = _publish_packet(topic, 4242, b'{"value":1.5}', v5, properties)
    if qos == 0:  # no packet id
        body = len(topic).to_bytes(2, "big") + topic + (properties if v5 else b"") \
            + b'{"value":1.5}'
    seen: dict[str, MQTTMessage] = {}
    for name, cls in (("fast", FastClient), ("paho", Client)):
        client = cls(CallbackAPIVersion.VERSION2, protocol=protocol, manual_ack=True)
        client.on_message = lambda _c, _u, m, name=name: seen.__setitem__(name, m)
        client._in_packet = {"command": command, "packet": bytearray(body)}  # as paho reads
        client._handle_publish()
    fast, paho_msg = seen["fast"], seen["paho"]
    assert type(fast.payload) is bytes and type(fast._topic) is bytes
    assert (fast._topic, fast.mid, fast.qos, fast.dup, fast.retain, fast.payload) == (
        paho_msg._topic, paho_msg.mid, paho_msg.qos, paho_msg.dup, paho_msg.retain,
        paho_msg.payload)
