"""Notifications through real servers: aiosmtpd (STARTTLS required, login) and an HTTP
receiver that verifies the HMAC signature. Time is driven explicitly; the sender is called
after each round (`send_due`), as its thread would.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from alert_helpers import (
    CO2,
    NOON,
    PV,
    SITE,
    SmtpServer,
    WebhookReceiver,
    catalogue,
    feed,
    healthy,
    rounds,
)
from prometheus_client import CollectorRegistry

from alerts.channels import EmailChannel, WebhookChannel, compose
from alerts.evaluate import Evaluator
from alerts.sender import BACKOFF_FIRST_S, Sender, SenderMetrics
from alerts.state import AlertState
from stadtpuls.settings import SmtpSettings
from stadtpuls.store.influx import InfluxStore
from stadtpuls.store.protocol import Store
from stadtpuls.store.sqlite import SQLiteStore
from stadtpuls.timebase import NS_PER_S
from testkit.servers import InfluxServer

SECRET = "hook-secret"
RECIPIENTS = [{"id": "haustechnik", "email": "haustechnik@example.org", "language": "de"},
              {"id": "chat", "webhook": True, "language": "en"}]


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    server = SmtpServer(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver(SECRET)
    yield server
    server.stop()


def _email(server: SmtpServer, port: int | None = None) -> EmailChannel:
    return EmailChannel(SmtpSettings("127.0.0.1", port or server.port, "starttls",
                                     SmtpServer.USER, SmtpServer.PASSWORD,
                                     "alerts@stadtpuls.example", str(server.cert)))


class Clock:
    def __init__(self) -> None:
        self.now_ns = 0

    def __call__(self) -> float:
        return self.now_ns / NS_PER_S


def _silent_then_back(store: Store, evaluator: Evaluator, sender: Sender | None,
                      clock: Clock) -> None:
    feed(store, CO2, NOON - timedelta(hours=25), NOON, healthy)
    feed(store, PV, NOON - timedelta(hours=25), NOON + timedelta(hours=1), lambda i: 9e3 + i % 5)
    for now in rounds(NOON, NOON + timedelta(minutes=20)):
        clock.now_ns = now
        evaluator.round(now)
        if sender:
            sender.send_due()
    feed(store, CO2, NOON + timedelta(minutes=20), NOON + timedelta(minutes=40), healthy)
    for now in rounds(NOON + timedelta(minutes=21), NOON + timedelta(minutes=30)):
        clock.now_ns = now
        evaluator.round(now)
        if sender:
            sender.send_due()


def test_silent_sensor_one_email_and_one_webhook_each_way(
        tmp_path: Path, smtp: SmtpServer, receiver: WebhookReceiver) -> None:
    store = SQLiteStore(tmp_path / "store.db")
    state = AlertState(tmp_path / "alerts.db")
    cat = catalogue({"defaults": {"no_data": {"for": "5m"}}, "recipients": RECIPIENTS})
    clock = Clock()
    evaluator = Evaluator(store, cat, state, dashboard_url="https://stadtpuls.example/")
    sender = Sender(state, {"email": _email(smtp),
                            "webhook": WebhookChannel(receiver.url, SECRET)}, clock=clock)
    _silent_then_back(store, evaluator, sender, clock)

    subjects = smtp.mailbox.subjects()
    assert subjects == ["[Stadtpuls] ALARM: saal_co2 (de) (Rathaus) – sendet keine Daten",
                        "[Stadtpuls] BEHOBEN: saal_co2 (de) (Rathaus) – sendet keine Daten"]
    assert smtp.mailbox.tls == [True, True] and smtp.mailbox.logins == [SmtpServer.USER] * 2
    body = smtp.mailbox.messages[0].get_content()
    assert "https://stadtpuls.example/sensors/rathaus~saal_co2" in body
    # the last value it sent, and since when it is missing (site time, CEST): the last
    # reading at 11:59 plus the silence threshold (1.6 intervals and 5 s), not the round
    assert "Wert: 602 ppm" in body and "seit: 2025-06-11 12:00 CEST" in body
    assert receiver.rejected == 0
    assert [m["stadtpuls"]["transition"] for m in receiver.received] == ["firing", "resolved"]
    hook = receiver.received[0]
    assert hook["type"] == "message" and hook["text"].startswith("FIRING: sends no data")
    assert hook["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert hook["stadtpuls"]["url"] == "https://stadtpuls.example/sensors/rathaus~saal_co2"
    assert hook["stadtpuls"]["site"] == SITE and hook["stadtpuls"]["language"] == "en"


@pytest.mark.parametrize("subject", [
    "[Stadtpuls] ALARM: CO₂ Sitzungssaal (Rathaus im Stühlinger) – Wert hängt (ändert sich "
    "nicht)",
    "[Stadtpuls] BEHOBEN: " + "Feinstaub PM2,5 Schwarzwaldstraße " * 6,
    "[Stadtpuls] FIRING: " + "a plain ascii sensor name " * 8,
])
def test_a_long_subject_arrives_word_for_word(subject: str) -> None:
    # Python's EmailMessage dropped the space between two folded encoded words here
    # ("Rathaus imStühlinger"), which is why alerts.channels.compose uses Header.
    raw = compose("stadtpuls@stadt.example", "ops@example.org", subject, "Wert hängt\n")
    parsed = message_from_bytes(raw.as_bytes(), policy=policy.default)
    assert str(parsed["Subject"]) == subject
    assert parsed.get_content() == "Wert hängt\n"
    head = raw.as_bytes().split(b"\n\n")[0].decode("ascii")  # 7-bit headers
    assert all(len(line) <= 78 for line in head.splitlines())
    assert all(len(word) <= 75 for word in re.findall(r"=\?[^ ]*?\?=", head))  # RFC 2047
    assert parsed["Date"] and parsed["Message-ID"].endswith("@stadt.example>")


def test_a_wrongly_signed_webhook_is_refused_and_kept_for_retry(
        tmp_path: Path, receiver: WebhookReceiver) -> None:
    store = SQLiteStore(tmp_path / "store.db")
    state = AlertState(tmp_path / "alerts.db")
    cat = catalogue({"recipients": [RECIPIENTS[1]]})
    clock = Clock()
    evaluator = Evaluator(store, cat, state)
    sender = Sender(state, {"webhook": WebhookChannel(receiver.url, "not-the-secret")},
                    clock=clock)
    _silent_then_back(store, evaluator, sender, clock)
    assert receiver.received == [] and receiver.rejected >= 1
    unsent = state.outbox(unsent_only=True)
    assert {r.transition for r in unsent} == {"firing", "resolved"}
    assert all(r.last_error == "webhook answered HTTP 401" for r in unsent)


def test_an_unreachable_smtp_server_delays_and_never_loses(
        tmp_path: Path, smtp: SmtpServer, receiver: WebhookReceiver) -> None:
    port = smtp.port
    smtp.stop()  # the mail server is down while the alert fires
    store = SQLiteStore(tmp_path / "store.db")
    state = AlertState(tmp_path / "alerts.db")
    cat = catalogue({"recipients": RECIPIENTS})
    clock = Clock()
    registry = CollectorRegistry()
    evaluator = Evaluator(store, cat, state)
    receiver.fail_next = 1  # and the webhook answers 503 once
    sender = Sender(state, {"email": _email(smtp, port),
                            "webhook": WebhookChannel(receiver.url, SECRET)},
                    clock=clock, metrics=SenderMetrics(registry))
    feed(store, CO2, NOON - timedelta(hours=25), NOON, healthy)
    feed(store, PV, NOON - timedelta(hours=25), NOON + timedelta(hours=1), lambda i: 9e3 + i % 5)
    clock.now_ns = evaluator_now = int((NOON + timedelta(minutes=5)).timestamp()) * NS_PER_S
    evaluator.round(evaluator_now)  # queues; evaluation never waits for a channel
    assert sender.send_due() == 0
    assert registry.get_sample_value("stadtpuls_alerts_outbox_failing") == 2
    [mail] = [r for r in state.outbox(unsent_only=True) if r.channel == "email"]
    assert mail.attempts == 1 and mail.last_error and "SMTP 127.0.0.1" in mail.last_error
    assert mail.next_try_ns >= evaluator_now + BACKOFF_FIRST_S * NS_PER_S

    listing = subprocess.run([sys.executable, "-m", "stadtpuls.cli", "alerts", "outbox",
                              "--unsent", "--data-dir", str(tmp_path)],
                             capture_output=True, text=True, timeout=60, check=True).stdout
    assert "email:haustechnik@example.org waiting, try 2" in listing and "last error" in listing

    back = SmtpServer(tmp_path, port=port)  # the server comes back on its address
    try:
        clock.now_ns += int(BACKOFF_FIRST_S * NS_PER_S)
        assert sender.send_due() == 2
        assert back.mailbox.subjects() == [
            "[Stadtpuls] ALARM: saal_co2 (de) (Rathaus) – sendet keine Daten"]
        assert len(receiver.received) == 1
        assert sender.send_due() == 0
        assert registry.get_sample_value("stadtpuls_alerts_outbox_unsent") == 0
        assert registry.get_sample_value("stadtpuls_alerts_notification_failures_total",
                                         {"channel": "email"}) == 1
    finally:
        back.stop()


@pytest.mark.integration
def test_silent_sensor_through_influxdb(influx: InfluxServer, influx_db: str,
                                       tmp_path: Path, smtp: SmtpServer) -> None:
    store = InfluxStore(influx.url, f"{influx_db}/autogen")
    state = AlertState(tmp_path / "alerts.db")
    cat = catalogue({"defaults": {"no_data": {"for": "5m"}}, "recipients": RECIPIENTS[:1]})
    clock = Clock()
    sender = Sender(state, {"email": _email(smtp)}, clock=clock)
    _silent_then_back(store, Evaluator(store, cat, state), sender, clock)
    assert [s.split(":")[0] for s in smtp.mailbox.subjects()] == ["[Stadtpuls] ALARM",
                                                                 "[Stadtpuls] BEHOBEN"]
    store.close()


class _BrokenChannel:
    """A channel whose message building fails with something other than ChannelError (as
    `EmailMessage` does for a header with a line break)."""

    def send(self, address: str, message: dict[str, object]) -> None:
        raise ValueError("header value contains a linefeed")


def test_any_channel_failure_is_recorded_and_retried_and_only_the_owner_records(
        tmp_path: Path) -> None:
    state = AlertState(tmp_path / "alerts.db")
    with state.transaction() as conn:
        state.enqueue(conn, 1, "firing", "facility", "email", "a@example.org", {"s": 1}, 0)
    clock = Clock()
    sender = Sender(state, {"email": _BrokenChannel()}, clock=clock)  # type: ignore[dict-item]
    assert sender.send_due() == 0
    [row] = state.outbox()
    assert row.sent_ns is None and row.attempts == 1
    assert row.last_error is not None and "ValueError" in row.last_error
    # A sender whose claim lapsed and was taken over records nothing over the new owner.
    clock.now_ns = row.next_try_ns
    assert state.claim(row.id, "new-owner", clock.now_ns, clock.now_ns + NS_PER_S)
    state.mark_sent(row.id, "old-owner", clock.now_ns)
    [row] = state.outbox()
    assert row.sent_ns is None
    state.mark_sent(row.id, "new-owner", clock.now_ns)
    assert state.outbox()[0].sent_ns == clock.now_ns
    state.close()
