"""Shared by the alert tests: a tiny catalogue, readings fed into a real store, real servers
(an SMTP server with STARTTLS and login, an HTTP receiver that checks the HMAC signature).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from stadtpuls.catalogue import Catalogue
from stadtpuls.reading import Reading
from stadtpuls.store.protocol import StoreWriter
from stadtpuls.timebase import NS_PER_S, to_ns
from stadtpuls.units import Quantity
from testkit.process import free_port

SITE = "rathaus"
CO2 = "saal_co2"
PV = "pv_s"
NOON = datetime(2025, 6, 11, 10, 0, tzinfo=UTC)  # 12:00 in Freiburg
MIDNIGHT = datetime(2025, 6, 11, 23, 0, tzinfo=UTC)  # 01:00 in Freiburg


def catalogue(alerts: dict[str, Any]) -> Catalogue:
    def sensor(sid: str, quantity: str, plausible: tuple[float, float],
               **extra: Any) -> dict[str, Any]:
        return {"id": sid, "name": {"de": f"{sid} (de)", "en": f"{sid} (en)"},
                "quantity": quantity, "position": {"lat": 48.0, "lon": 7.83},
                "interval_s": 60, "plausible": {"min": plausible[0], "max": plausible[1]},
                **extra}

    return Catalogue.model_validate({
        "version": 1,
        "sites": {SITE: {
            "name": {"de": "Rathaus", "en": "City hall"},
            "location": {"lat": 48.0002, "lon": 7.832, "altitude_m": 260},
            "timezone": "Europe/Berlin",
            "sensors": [sensor(CO2, "co2", (0, 10_000)),
                        sensor(PV, "power", (-100, 30_000), role="pv_power")],
        }},
        "alerts": alerts,
    })


def feed(store: StoreWriter, sensor: str, start: datetime, end: datetime,
         value: Callable[[int], float], quantity: Quantity | None = None) -> None:
    """One reading a minute in [start, end); value(i) for the i-th minute."""
    q = quantity or (Quantity.CO2 if sensor == CO2 else Quantity.POWER)
    n = int((end - start).total_seconds() // 60)
    store.write([Reading(SITE, sensor, q, to_ns(start + timedelta(minutes=i)), value(i))
                 for i in range(n)])


def healthy(i: int) -> float:
    return 600.0 + (i * 7) % 13


def rounds(start: datetime, end: datetime, step_s: float = 30.0) -> Iterator[int]:
    t = to_ns(start)
    while t < to_ns(end):
        yield t
        t += int(step_s * NS_PER_S)


# --- real servers ------------------------------------------------------------------------------


@dataclass
class Mailbox:
    messages: list[Any] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    tls: list[bool] = field(default_factory=list)

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.messages]


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key (the test's own CA bundle is the cert)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "smtp.crt", directory / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class SmtpServer:
    """aiosmtpd on a free port: STARTTLS required, AUTH LOGIN/PLAIN with one user."""

    USER, PASSWORD = "stadtpuls", "s3cret"

    def __init__(self, directory: Path, port: int = 0) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        self.mailbox = Mailbox()
        self.cert, key = self_signed(directory)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, key)
        mailbox = self.mailbox

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                from email import message_from_bytes, policy

                mailbox.messages.append(message_from_bytes(envelope.content, policy=policy.default))
                mailbox.tls.append(session.ssl is not None)
                return "250 OK"

        def authenticate(server: Any, session: Any, envelope: Any, mechanism: str,
                         data: Any) -> AuthResult:
            ok = (isinstance(data, LoginPassword) and data.login.decode() == self.USER
                  and data.password.decode() == self.PASSWORD)
            if ok:
                mailbox.logins.append(data.login.decode())
            return AuthResult(success=ok)

        self.port = port or free_port()  # aiosmtpd cannot start on port 0
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port,
                                     tls_context=context, require_starttls=True,
                                     authenticator=authenticate, auth_required=True)
        self.controller.start()
        self.running = True

    def stop(self) -> None:
        if self.running:  # a test may stop it early (server down)
            self.controller.stop()
            self.running = False


class WebhookReceiver:
    """http.server in a thread; keeps bodies whose HMAC signature verifies, 401s the rest."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.received: list[dict[str, Any]] = []
        self.rejected = 0
        self.fail_next = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                stamp = self.headers.get("X-Stadtpuls-Timestamp", "")
                expected = "sha256=" + hmac.new(receiver.secret.encode(),
                                                stamp.encode() + b"." + body,
                                                hashlib.sha256).hexdigest()
                given = self.headers.get("X-Stadtpuls-Signature", "")
                if receiver.fail_next > 0:
                    receiver.fail_next -= 1
                    self.send_response(503)
                elif not hmac.compare_digest(expected, given):
                    receiver.rejected += 1
                    self.send_response(401)
                else:
                    receiver.received.append(json.loads(body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
