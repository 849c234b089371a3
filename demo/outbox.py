"""Where the demo's alert notifications go: a mail server and a webhook receiver on
127.0.0.1, so `stadtpuls demo` shows the whole alert path without a real mail server.

The real `stadtpuls alerts run` sends to them exactly as it would to a city's servers (SMTP
without TLS on the loopback, the webhook signed with HMAC). Each notification is kept as a
file in `<data-dir>/outbox/` (`….eml` for mail, `….json` for webhooks; the newest `KEEP`)
and announced with one line on the demo's console. Both listen on 127.0.0.1 only and take
at most `MAX_BYTES` per notification; a webhook whose signature does not verify is refused
(401) and not kept.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import secrets
import threading
import time
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

log = logging.getLogger("stadtpuls.demo")

KEEP = 200
MAX_BYTES = 1024 * 1024
WEBHOOK_PATH = "/alerts"


class DemoOutbox:
    def __init__(self, directory: Path, *, keep: int = KEEP) -> None:
        self.directory = directory
        self.keep = keep
        self.secret_file = directory / "webhook-secret"
        self.smtp_port = 0
        self.webhook_url = ""
        self._lock = threading.Lock()
        self._seq = 0
        self._smtp: Any = None
        self._http: ThreadingHTTPServer | None = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd: every SMTP line
        self.directory.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_hex(32)
        # Written as the alerts process reads every secret: from a file only it can read.
        fd = os.open(self.secret_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secret + "\n")
        outbox = self

        class MailHandler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                outbox.mail(list(envelope.rcpt_tos), bytes(envelope.content))
                return "250 kept in the demo's outbox"

        from demo.ports import free_port

        self.smtp_port = free_port()  # aiosmtpd cannot be asked for port 0
        self._smtp = Controller(MailHandler(), hostname="127.0.0.1", port=self.smtp_port,
                                data_size_limit=MAX_BYTES)
        self._smtp.start()
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _webhook_handler(self, secret))
        self.webhook_url = f"http://127.0.0.1:{self._http.server_address[1]}{WEBHOOK_PATH}"
        threading.Thread(target=self._http.serve_forever, name="demo-webhook",
                         daemon=True).start()

    def stop(self) -> None:
        if self._smtp is not None:
            self._smtp.stop()
            self._smtp = None
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None

    def mail(self, recipients: list[str], content: bytes) -> Path:
        subject = str(message_from_bytes(content, policy=policy.default)["Subject"] or "")
        path = self._keep("mail", "eml", content)
        log.info("alert mail to %s: %s  (%s)", ", ".join(recipients), subject, path)
        return path

    def webhook(self, body: bytes) -> Path:
        try:
            summary = str(json.loads(body).get("summary", ""))
        except (ValueError, AttributeError):
            summary = ""
        path = self._keep("webhook", "json", body)
        log.info("alert webhook: %s  (%s)", summary or f"{len(body)} bytes", path)
        return path

    def files(self) -> list[Path]:
        """The kept notifications, oldest first."""
        return sorted(p for p in self.directory.iterdir() if p.suffix in (".eml", ".json"))

    def _keep(self, kind: str, suffix: str, content: bytes) -> Path:
        with self._lock:
            self._seq += 1
            stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
            path = self.directory / f"{stamp}-{self._seq:05d}-{kind}.{suffix}"
            path.write_bytes(content)
            for old in self.files()[:-self.keep]:
                old.unlink(missing_ok=True)
        return path


def _webhook_handler(outbox: DemoOutbox, secret: str) -> type[BaseHTTPRequestHandler]:
    from alerts.channels import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            try:
                length = int(self.headers.get("Content-Length", ""))
            except ValueError:
                length = -1
            if self.path != WEBHOOK_PATH or not 0 <= length <= MAX_BYTES:
                self._answer(404 if self.path != WEBHOOK_PATH else 413)
                return
            body = self.rfile.read(length)
            stamp = self.headers.get(TIMESTAMP_HEADER, "")
            if not hmac.compare_digest(sign(secret, stamp, body),
                                       self.headers.get(SIGNATURE_HEADER, "")):
                self._answer(401)
                return
            outbox.webhook(body)
            self._answer(204)

        def _answer(self, status: int) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the outbox logs what it kept

    return Handler
