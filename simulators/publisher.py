"""Publish simulated sites over MQTT: pacing, backfill, a bounded window of unacked messages.

The publisher is thin: `simulators.generate` makes the readings and `simulators.messages`
the payloads; this module only decides when each message goes out and sends it with QoS 1.

- Time: a run covers [start, end) of simulated time (end None = forever). Messages are sent
  when the simulated clock reaches them; the clock runs at `speed` simulated seconds per real
  second from an anchor. For a backfill the anchor is "now", so everything before now goes
  out as fast as the broker acknowledges it (with a progress bar), then the run is live.
- Generation happens in chunks (six simulated hours) with meters and faults carried over, so
  an endless live run keeps memory flat.
- At most `window` messages are unacknowledged at any time. paho keeps unsent messages in
  memory and fails with ERR_QUEUE_SIZE above 65,535, and a broker drops what it cannot hold.
"""

from __future__ import annotations

import heapq
import math
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import reduce
from typing import Any, Protocol, TextIO

from simulators.faults import FaultCarry, FaultPlan, InjectedFault
from simulators.formats import Format
from simulators.generate import Carry, generate
from simulators.messages import OutboundMessage, build_messages
from stadtpuls.catalogue.models import Catalogue
from stadtpuls.settings import MqttSettings, SettingsError, parse_mqtt_url
from stadtpuls.timebase import NS_PER_S, to_ns

_CHUNK = timedelta(hours=6)


class BrokerError(RuntimeError):
    """The broker cannot be used; the message is one line that says what to do."""


class MqttSender:
    """A paho 2.x client publishing with QoS 1 and at most `window` unacknowledged messages."""

    def __init__(self, url: str, client_id: str, window: int = 1_000,
                 settings: MqttSettings | None = None) -> None:
        """`settings` (from `stadtpuls.settings.mqtt_settings`) carry what a URL cannot: the
        CA and a client certificate; without them the URL alone is used."""
        from paho.mqtt.client import Client
        from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

        if not 1 <= window <= 65_535:
            raise ValueError(f"window must be 1..65535, not {window}")
        self.url = url
        try:
            self.address = settings or parse_mqtt_url(url)
        except SettingsError as exc:
            raise BrokerError(str(exc)) from None
        self.window = window
        # MQTT 3.1.1: the demo broker (amqtt) speaks no MQTT 5, and a publisher needs
        # nothing that 5 adds.
        self._client = Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=MQTTProtocolVersion.MQTTv311,
            clean_session=True,
        )
        self._client.max_inflight_messages_set(window)
        self._client.max_queued_messages_set(0)
        self._client.on_publish = self._on_publish
        self._client.on_connect = self._on_connect
        self._slots = threading.BoundedSemaphore(window)
        self._lock = threading.Lock()
        self._unacked = 0
        self._connected = threading.Event()
        self._connack: str | None = None
        if self.address.tls:
            self._client.tls_set(ca_certs=self.address.ca_file,
                                 certfile=self.address.cert_file,
                                 keyfile=self.address.key_file)
        if self.address.username:
            self._client.username_pw_set(self.address.username, self.address.password)

    def connect(self, timeout: float = 10.0) -> None:
        hint = "start the broker or point --mqtt-url (or STADTPULS_MQTT_URL) at a running one"
        try:
            self._client.connect(self.address.host, self.address.port, keepalive=30)
        except OSError as exc:
            reason = exc.strerror or str(exc) or type(exc).__name__
            raise BrokerError(f"cannot reach the MQTT broker at {self.url} ({reason}): "
                              f"{hint}") from None
        self._client.loop_start()
        if not self._connected.wait(timeout):
            self._client.loop_stop()
            raise BrokerError(f"the MQTT broker at {self.url} did not answer within "
                              f"{timeout:g} s: {hint}")
        if self._connack is not None:
            self._client.loop_stop()
            raise BrokerError(f"the MQTT broker at {self.url} refused the connection "
                              f"({self._connack}): check the user name and password in the URL")

    def send(self, topic: str, payload: bytes, stop: threading.Event) -> bool:
        """Publish with QoS 1; wait while the window is full. False if `stop` was set."""
        from paho.mqtt.enums import MQTTErrorCode

        while not self._slots.acquire(timeout=0.2):
            if stop.is_set():
                return False
        with self._lock:
            self._unacked += 1
        info = self._client.publish(topic, payload, qos=1)
        # NO_CONN: paho keeps the message and sends it once it has reconnected.
        if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
            self._release()
            raise BrokerError(f"publishing to {self.url} failed: {info.rc.name}")
        return True

    def drain(self, timeout: float) -> int:
        """Wait up to `timeout` s for every acknowledgement; return how many are missing."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._unacked == 0:
                    return 0
            time.sleep(0.02)
        with self._lock:
            return self._unacked

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def _release(self) -> None:
        with self._lock:
            self._unacked -= 1
        self._slots.release()

    def _on_publish(self, _client: Any, _userdata: Any, _mid: int, _reason: Any,
                    _properties: Any) -> None:
        self._release()

    def _on_connect(self, _client: Any, _userdata: Any, _flags: Any, reason: Any,
                    _properties: Any) -> None:
        if getattr(reason, "is_failure", False):
            self._connack = str(reason)
        self._connected.set()


def default_step(catalogue: Catalogue, sites: list[str]) -> timedelta:
    """The greatest common divisor of the sensor intervals: every sensor reports on time."""
    intervals = [max(1, round(s.interval_s)) for site in sites for _, s in catalogue.sensors(site)]
    return timedelta(seconds=reduce(math.gcd, intervals) if intervals else 60)


@dataclass(frozen=True)
class RunConfig:
    catalogue: Catalogue
    sites: list[str]
    fmt: Format | None
    start: datetime
    end: datetime | None
    speed: float
    seed: int
    step: timedelta
    faults: FaultPlan = field(default_factory=FaultPlan)
    catch_up_until: datetime | None = None
    """Backfill: everything before this instant goes out at once, then the run is live."""


@dataclass
class PublishReport:
    messages: Counter[str] = field(default_factory=Counter)
    readings: Counter[str] = field(default_factory=Counter)
    total_messages: int = 0
    faults: list[InjectedFault] = field(default_factory=list)
    unacknowledged: int = 0
    interrupted: bool = False
    simulated_until: datetime | None = None
    wall_seconds: float = 0.0

    def format(self) -> str:
        lines = [f"{'sensor':<40}{'messages':>10}{'readings':>10}"]
        for sensor in sorted(self.readings):
            lines.append(f"{sensor:<40}{self.messages[sensor]:>10,}{self.readings[sensor]:>10,}")
        lines.append(f"{'total':<40}{self.total_messages:>10,}"
                     f"{sum(self.readings.values()):>10,}")
        until = f" up to {self.simulated_until:%Y-%m-%d %H:%M} UTC" if self.simulated_until \
            else ""
        state = "interrupted" if self.interrupted else "done"
        lines.append(f"{state}: {self.total_messages:,} messages{until} in "
                     f"{self.wall_seconds:.1f} s")
        if self.unacknowledged:
            lines.append(f"warning: {self.unacknowledged:,} messages were not acknowledged by "
                         "the broker before the end")
        if self.faults:
            by_kind: Counter[tuple[str, str]] = Counter(
                (str(f.kind), f.sensor) for f in self.faults
            )
            lines.append(f"faults injected: {len(self.faults):,}")
            for (kind, sensor), n in sorted(by_kind.items()):
                lines.append(f"  {kind:<14}{sensor:<40}{n:>6,}")
        else:
            lines.append("faults injected: none")
        return "\n".join(lines)


def message_stream(config: RunConfig, report: PublishReport,
                   stop: threading.Event) -> Iterator[OutboundMessage]:
    """Messages of all sites in due order, generated chunk by chunk."""
    plan = config.faults.for_run(config.start, config.end)
    carries = {site: Carry(faults=FaultCarry()) for site in config.sites}
    chunk_start = config.start
    while not stop.is_set() and (config.end is None or chunk_start < config.end):
        chunk_end = chunk_start + _CHUNK
        if config.end is not None:
            chunk_end = min(chunk_end, config.end)
        batches = []
        for site in config.sites:
            sim = generate(config.catalogue, site, chunk_start, chunk_end, config.step,
                           config.seed, plan, carries[site])
            batch = build_messages(sim, config.fmt, plan)
            report.faults.extend(sim.faults)
            report.faults.extend(batch.faults)
            batches.append(batch.messages)
        yield from heapq.merge(*batches, key=lambda m: m.due_ns)
        chunk_start = chunk_end


class PastSink(Protocol):
    """Takes the catch-up messages of a backfill instead of the broker (see `publish`)."""

    def __call__(self, message: OutboundMessage) -> None: ...

    def flush(self) -> None:
        """The catch-up is over: everything handed over so far must be stored now."""


def publish(config: RunConfig, sender: MqttSender, stop: threading.Event,
            progress_to: TextIO | None = sys.stderr,
            past_sink: PastSink | None = None) -> PublishReport:
    """Send the run's messages on time; return what was sent. Stops early when `stop` is set.

    With `past_sink`, catch-up messages (due before `config.catch_up_until`) are handed to it
    instead of the broker: the demo writes its backfill straight into the store that way, and
    the live part continues the very same run (meters, faults) through the broker.
    """
    report = PublishReport()
    wall_start = time.monotonic()
    anchor_ns = to_ns(config.catch_up_until or config.start)
    start_ns = to_ns(config.start)
    bar = _ProgressBar(progress_to, start_ns, anchor_ns) if config.catch_up_until else None
    latest_ns: int | None = None
    for message in message_stream(config, report, stop):
        wait = (message.due_ns - anchor_ns) / NS_PER_S / config.speed - (time.monotonic()
                                                                      - wall_start)
        if bar is not None and message.due_ns >= anchor_ns:
            bar.finish(report.total_messages, time.monotonic() - wall_start)
            bar = None
            if past_sink is not None:
                past_sink.flush()
        if wait > 0 and stop.wait(wait):
            break
        if past_sink is not None and message.due_ns < anchor_ns:
            past_sink(message)
        elif not sender.send(message.topic, message.payload, stop):
            break
        report.total_messages += 1
        for sensor in message.sensors:
            report.messages[sensor] += 1
            report.readings[sensor] += 1
        if latest_ns is None or message.time_ns > latest_ns:
            latest_ns = message.time_ns
            report.simulated_until = datetime.fromtimestamp(latest_ns / NS_PER_S, tz=UTC)
        if bar is not None:
            bar.update(message.due_ns, report.total_messages)
    if bar is not None:
        bar.finish(report.total_messages, time.monotonic() - wall_start)
    if config.end is not None and not stop.is_set():
        # A live run lasts its whole duration, even if its last reading came earlier.
        rest = (to_ns(config.end) - anchor_ns) / NS_PER_S / config.speed - (
            time.monotonic() - wall_start)
        if rest > 0:
            stop.wait(rest)
    report.interrupted = stop.is_set()
    report.unacknowledged = sender.drain(timeout=10.0)
    report.wall_seconds = time.monotonic() - wall_start
    # Chunks are generated ahead of sending: keep only faults in what actually went out.
    sent_until = to_ns(report.simulated_until) if report.simulated_until else -1
    report.faults = [f for f in report.faults if f.time_ns <= sent_until]
    return report


class _ProgressBar:
    """A one-line bar on a terminal; on a pipe, a line every 10 %."""

    def __init__(self, out: TextIO | None, start_ns: int, end_ns: int) -> None:
        self.out = out
        self.start_ns = start_ns
        self.span = max(end_ns - start_ns, 1)
        self.tty = bool(out and out.isatty())
        self.last_draw = 0.0
        self.last_tenth = -1

    def update(self, due_ns: int, sent: int) -> None:
        if self.out is None:
            return
        fraction = min(max((due_ns - self.start_ns) / self.span, 0.0), 1.0)
        now = time.monotonic()
        if self.tty and now - self.last_draw >= 0.1:
            self.last_draw = now
            filled = int(fraction * 30)
            when = datetime.fromtimestamp(due_ns / NS_PER_S, tz=UTC)
            self.out.write(f"\rbackfill [{'#' * filled}{'.' * (30 - filled)}] {fraction:4.0%} "
                           f"{sent:>10,} messages  {when:%Y-%m-%d %H:%M} UTC")
            self.out.flush()
        elif not self.tty and int(fraction * 10) > self.last_tenth:
            self.last_tenth = int(fraction * 10)
            self.out.write(f"backfill {self.last_tenth * 10:3d} %  {sent:,} messages\n")
            self.out.flush()

    def finish(self, sent: int, seconds: float) -> None:
        if self.out is None:
            return
        prefix = "\r" if self.tty else ""
        self.out.write(f"{prefix}backfill done: {sent:,} messages in {seconds:.1f} s"
                       + " " * 40 + "\n")
        self.out.flush()
