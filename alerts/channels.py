"""Notification channels: e-mail over SMTP and a signed JSON webhook.

Each `send` makes one attempt and raises `ChannelError` with a one-line reason; retrying with
backoff is the outbox sender's job (alerts/sender.py), so a failure is never lost and always
visible.

Webhook: `POST` of JSON with `Content-Type: application/json` and two headers,
`X-Stadtpuls-Timestamp` (Unix seconds) and `X-Stadtpuls-Signature: sha256=<hex>`, the
HMAC-SHA256 of `<timestamp>.<body bytes>` under the shared secret. A receiver recomputes it
and rejects old timestamps (replays). The body suits the usual receivers at once:

- Microsoft Teams workflows ("When a Teams webhook request is received" → post card): the
  `type: message` + `attachments[0]` Adaptive Card;
- Matrix bridges (e.g. matrix-hookshot generic webhooks): `text` (plain) and `html`;
- anything else: `stadtpuls`, the alert's facts as plain fields.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.utils import formatdate, make_msgid
from typing import Any, Protocol

from stadtpuls.settings import SmtpSettings

_BODY_CHARSET = Charset("utf-8")
_BODY_CHARSET.body_encoding = QP  # readable in the mail's source, unlike base64

SIGNATURE_HEADER = "X-Stadtpuls-Signature"
TIMESTAMP_HEADER = "X-Stadtpuls-Timestamp"


class ChannelError(Exception):
    """One attempt failed; the message says why (no secrets in it)."""


class Channel(Protocol):
    def send(self, address: str, message: dict[str, Any]) -> None: ...


class EmailChannel:
    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def send(self, address: str, message: dict[str, Any]) -> None:
        s = self.settings
        mail = compose(s.sender, address, message["subject"], message["text"])
        context = ssl.create_default_context(cafile=s.ca_file)
        try:
            if s.security == "tls":
                client: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_s,
                                                        context=context)
            else:
                client = smtplib.SMTP(s.host, s.port, timeout=s.timeout_s)
            with client:
                if s.security == "starttls":
                    client.starttls(context=context)
                if s.username:
                    client.login(s.username, s.password or "")
                client.send_message(mail)
        except (OSError, smtplib.SMTPException) as exc:
            raise ChannelError(f"SMTP {s.host}:{s.port}: {type(exc).__name__}: "
                               f"{str(exc)[:200]}") from None


def compose(sender: str, address: str, subject: str, text: str) -> Message:
    """The mail, built with the stdlib's older `Message`/`Header` API on purpose: the newer
    `EmailMessage` folds a long non-ASCII subject into encoded words and drops the space
    between two of them (CPython gh-144156, fixed upstream in 2026; seen here on 3.11):
    "Rathaus im Stühlinger" arrived as "Rathaus imStühlinger"."""
    mail = Message()
    mail["From"] = sender
    mail["To"] = address
    # Encoded here, folded at 75: RFC 2047 caps an encoded word at 75 characters.
    mail["Subject"] = (subject if subject.isascii()
                       else Header(subject, "utf-8", header_name="Subject").encode(maxlinelen=75))
    mail["Date"] = formatdate()
    mail["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    mail.set_payload(text, _BODY_CHARSET)
    return mail


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def webhook_body(message: dict[str, Any]) -> dict[str, Any]:
    alert = message["alert"]
    facts = [{"title": k, "value": str(v)} for k, v in (
        ("Sensor", alert["sensor_name"]), ("Site", alert["site_name"]),
        ("Value", "–" if alert["value"] is None else f"{alert['value']:g} {alert['unit']}"),
        ("Severity", alert["severity"]))]
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard", "version": "1.4",
        "body": [{"type": "TextBlock", "text": message["subject"], "weight": "Bolder",
                  "wrap": True},
                 {"type": "TextBlock", "text": message["text"], "wrap": True},
                 {"type": "FactSet", "facts": facts}],
    }
    if alert.get("url"):
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Stadtpuls", "url": alert["url"]}]
    lines = "<br>".join(html.escape(line) for line in message["text"].splitlines())
    return {
        "type": "message",
        "summary": message["subject"],
        "text": message["text"],
        "html": f"<b>{html.escape(message['subject'])}</b><br>{lines}",
        "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
                         "content": card}],
        "stadtpuls": alert,
    }


class WebhookChannel:
    def __init__(self, url: str, secret: str, timeout_s: float = 10.0) -> None:
        self.url = url
        self.secret = secret
        self.timeout_s = timeout_s

    def send(self, address: str, message: dict[str, Any]) -> None:
        body = json.dumps(webhook_body(message), ensure_ascii=False).encode()
        stamp = str(int(time.time()))
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json", TIMESTAMP_HEADER: stamp,
            SIGNATURE_HEADER: sign(self.secret, stamp, body)})
        try:
            # the URL is an operator setting (http/https checked in stadtpuls/settings/alerts.py)
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # nosec B310
                status = response.status
        except urllib.error.HTTPError as exc:
            raise ChannelError(f"webhook answered HTTP {exc.code}") from None
        except (OSError, urllib.error.URLError) as exc:
            raise ChannelError(f"webhook unreachable: {type(exc).__name__}: "
                               f"{str(exc)[:200]}") from None
        if not 200 <= status < 300:
            raise ChannelError(f"webhook answered HTTP {status}")
