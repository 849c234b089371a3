"""The demo's outbox (demo/outbox.py): the alerts' real channels deliver into it.

Real servers on both sides: aiosmtpd and an HTTP server in the outbox, smtplib and urllib in
`alerts.channels`.
"""

from __future__ import annotations

import json
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest

from alerts.channels import ChannelError, EmailChannel, WebhookChannel
from demo.outbox import DemoOutbox
from stadtpuls.settings import SmtpSettings

MESSAGE: dict[str, Any] = {
    "subject": "[Stadtpuls] ALARM: CO₂ Sitzungssaal (Rathaus im Stühlinger) – Wert hängt",
    "text": "ALARM: Wert hängt\nSensor: CO₂ Sitzungssaal\n",
    "alert": {"sensor_name": "CO₂ Sitzungssaal", "site_name": "Rathaus im Stühlinger",
              "value": 411.0, "unit": "ppm", "severity": "warning", "url": None},
}


@pytest.fixture
def outbox(tmp_path: Path) -> Any:
    box = DemoOutbox(tmp_path / "outbox", keep=3)
    box.start()
    yield box
    box.stop()


def test_mail_and_webhooks_are_kept_as_files(outbox: DemoOutbox) -> None:
    mail = EmailChannel(SmtpSettings(host="127.0.0.1", port=outbox.smtp_port, security="none",
                                     sender="stadtpuls-demo@localhost"))
    mail.send("haustechnik@example.org", MESSAGE)
    secret = outbox.secret_file.read_text().strip()
    assert outbox.secret_file.stat().st_mode & 0o777 == 0o600
    WebhookChannel(outbox.webhook_url, secret).send("it-ops", MESSAGE)
    eml, hook = outbox.files()
    parsed = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert str(parsed["Subject"]) == MESSAGE["subject"]
    assert parsed.get_content().replace("\r\n", "\n") == MESSAGE["text"]  # as on the wire
    assert json.loads(hook.read_text())["summary"] == MESSAGE["subject"]


def test_a_webhook_with_a_wrong_signature_is_refused_and_not_kept(outbox: DemoOutbox) -> None:
    with pytest.raises(ChannelError, match="HTTP 401"):
        WebhookChannel(outbox.webhook_url, "not the secret").send("it-ops", MESSAGE)
    with pytest.raises(ChannelError, match="HTTP 404"):
        WebhookChannel(outbox.webhook_url + "/elsewhere",
                       outbox.secret_file.read_text().strip()).send("it-ops", MESSAGE)
    assert outbox.files() == []


def test_only_the_newest_notifications_are_kept(outbox: DemoOutbox) -> None:
    for i in range(5):
        outbox.mail(["a@example.org"], f"Subject: {i}\n\nbody {i}\n".encode())
    kept = outbox.files()
    assert [p.read_text().splitlines()[0] for p in kept] == ["Subject: 2", "Subject: 3",
                                                             "Subject: 4"]
