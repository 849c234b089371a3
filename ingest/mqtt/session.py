"""The ingest's MQTT session: connect, subscribe, reconnect with backoff, receive, ack.

Together with `fast_client` this is the only code in the ingest that imports paho. Inbound,
paho's network thread (`_network`) turns each PUBLISH into an `InboundMessage` on the
`InboundQueue` (which bounds it, see `ingest.inbound`) and does nothing else, so keepalives
keep flowing whatever the store does. Outbound, the only thing that comes back is `ack`.

Persistent session. QoS 1 on a fixed client id; MQTT 5 with clean_start=False and a session
expiry interval (without one the broker forgets the unacked messages the moment we
disconnect), or 3.1.1 with clean_session=False; subscriptions are renewed on every connect.

Retained messages. Subscriptions keep MQTT 5's defaults (retain handling 0, retain as
published off), so the retain flag on a delivery means "sent because of this subscription";
`InboundMessage.retained` carries it to the batch builder, which decides (`ingest.batching`).

Acks and connections. A message is acked only on the connection it arrived on: each
`InboundMessage` carries the connection generation, and acks of an older generation are
dropped (the broker redelivers those messages after the reconnect, and the store treats the
second write of a reading as the same point). Acking an old packet id on a new connection
could otherwise acknowledge a *different* message that reuses the id, before it is stored.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

from paho.mqtt.client import Client, ConnectFlags, DisconnectFlags, MQTTMessage
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from ingest.config import IngestConfig
from ingest.inbound import InboundMessage, InboundQueue
from ingest.metrics import IngestMetrics
from ingest.mqtt.fast_client import FastClient, undecodable_topic

log = logging.getLogger("stadtpuls.ingest")

_MIN_RECONNECT_S = 1
_MAX_RECONNECT_S = 30


class MqttSession:
    def __init__(self, config: IngestConfig, inbound: InboundQueue,
                 metrics: IngestMetrics) -> None:
        self.config = config
        self._inbound = inbound
        self._metrics = metrics
        self._gen_lock = threading.Lock()
        self._generation = 0
        self.connected = False
        self._closing = False  # the network loop ends at the next disconnect
        self._reconnect_requested = False
        self._broker_state = "starting"
        self._reconnect_delay: float = _MIN_RECONNECT_S
        self._client = self._make_client()
        self._thread = threading.Thread(target=self._network, name="mqtt", daemon=True)

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        self._connect_async()
        # paho writes to the socket from the calling thread unless it believes its own loop
        # thread runs; ours does (it restarts loop_forever for forced reconnects), so tell it.
        # Otherwise the worker's acks would race the network thread's socket writes.
        self._client.run_in(self._thread)
        self._thread.start()

    def close(self) -> None:
        """Disconnect (queued behind the PUBACKs already sent) and end the network thread."""
        self._closing = True
        self._client.disconnect()
        if self._thread.is_alive():
            self._thread.join(10)

    def request_redelivery(self) -> None:
        """Reconnect, so the broker redelivers every unacked message of the session."""
        self._reconnect_requested = True
        self._client.disconnect()

    # -- acks (called by the writer thread) ------------------------------------------------

    def ack(self, messages: Sequence[InboundMessage]) -> None:
        """PUBACK the QoS 1 messages of the current connection, in order, in one write."""
        with self._gen_lock:
            if not self.connected:
                return
            gen = self._generation
            mids = [m.mid for m in messages if m.qos == 1 and m.generation == gen]
            if mids:
                self._client.queue_pubacks(mids)

    # -- connection ------------------------------------------------------------------------

    def _make_client(self) -> FastClient:
        c = self.config
        v5 = c.mqtt_version == 5
        client = FastClient(CallbackAPIVersion.VERSION2, client_id=c.client_id,
                            protocol=MQTTProtocolVersion.MQTTv5 if v5
                            else MQTTProtocolVersion.MQTTv311,
                            clean_session=None if v5 else False, manual_ack=True)
        if c.mqtt.username:
            client.username_pw_set(c.mqtt.username, c.mqtt.password)
        if c.mqtt.tls:
            client.tls_set(ca_certs=c.mqtt.ca_file, certfile=c.mqtt.cert_file,
                           keyfile=c.mqtt.key_file)
        client.reconnect_delay_set(_MIN_RECONNECT_S, _MAX_RECONNECT_S)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    def _connect_async(self) -> None:
        c = self.config
        if c.mqtt_version == 5:
            props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            props.SessionExpiryInterval = c.session_expiry_s
            props.ReceiveMaximum = min(65_535, c.max_pending_messages)
            self._client.connect_async(c.mqtt.host, c.mqtt.port, c.keepalive_s,
                                       clean_start=False, properties=props)
        else:
            self._client.connect_async(c.mqtt.host, c.mqtt.port, c.keepalive_s)

    def _network(self) -> None:
        while True:
            try:
                self._client.loop_forever(retry_first_connection=True)
            except Exception as exc:  # e.g. TLS setup errors: log, back off, try again
                log.error("MQTT network loop failed: %s: %s", type(exc).__name__, exc)
                time.sleep(_MIN_RECONNECT_S)
            if self._closing:
                return
            if self._reconnect_requested:
                self._reconnect_requested = False
                log.info("reconnecting to %s to get unacked messages redelivered",
                         self.config.mqtt.url)
            self._connect_async()

    def _on_connect(self, client: Client, _u: Any, flags: ConnectFlags, code: ReasonCode,
                    _p: Any) -> None:
        if code.is_failure:
            self._state(f"broker {self.config.mqtt.url} refused the connection: {code}; "
                        "check --mqtt-username and the password", logging.ERROR)
            return
        with self._gen_lock:
            self._generation += 1
            self.connected = True
        self._reconnect_delay = _MIN_RECONNECT_S
        self._metrics.broker_connected.set(1)
        self._state(f"connected to {self.config.mqtt.url} as {self.config.client_id} "
                    f"(session present: {'yes' if flags.session_present else 'no'})")
        if self.config.mqtt_version == 5:
            topics: list[tuple[str, Any]] = [(s, SubscribeOptions(qos=1))
                                             for s in self.config.subscriptions]
        else:
            topics = [(s, 1) for s in self.config.subscriptions]
        client.subscribe(topics)

    def _on_subscribe(self, _c: Client, _u: Any, _mid: int, codes: list[ReasonCode],
                      _p: Any) -> None:
        for sub, code in zip(self.config.subscriptions, codes, strict=False):
            if code.is_failure:
                log.error("broker refused the subscription to %s: %s", sub, code)

    def _on_connect_fail(self, _c: Client, _u: Any) -> None:
        delay = self._next_delay()
        self._state(f"cannot reach broker {self.config.mqtt.url}; retrying every "
                    f"{delay:.0f}-{_MAX_RECONNECT_S} s", logging.WARNING, key="unreachable")

    def _on_disconnect(self, _c: Client, _u: Any, _f: DisconnectFlags, code: ReasonCode,
                       _p: Any) -> None:
        with self._gen_lock:
            self._generation += 1
            self.connected = False
        self._metrics.broker_connected.set(0)
        if self._closing or self._reconnect_requested:
            self._state(f"disconnected from {self.config.mqtt.url}")
            return
        self._state(f"lost connection to {self.config.mqtt.url}: {code}; retrying in "
                    f"{self._next_delay():.0f} s", logging.WARNING)

    def _next_delay(self) -> float:
        delay = self._reconnect_delay
        self._reconnect_delay = min(delay * 2, _MAX_RECONNECT_S)
        return delay

    def _state(self, line: str, level: int = logging.INFO, key: str | None = None) -> None:
        """One log line per change of the broker connection's state."""
        state = key or line
        if state != self._broker_state:
            self._broker_state = state
            log.log(level, "%s", line)

    # -- inbound (paho's network thread) ---------------------------------------------------

    def _on_message(self, _c: Client, _u: Any, msg: MQTTMessage) -> None:
        payload = msg.payload
        if not isinstance(payload, bytes):
            payload = bytes(payload)
        try:
            topic = msg.topic
        except UnicodeDecodeError:
            topic = undecodable_topic(msg)
        self._inbound.put(topic, payload, msg.mid, msg.qos, self._generation, msg.retain)
