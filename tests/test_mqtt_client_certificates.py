"""MQTT client certificates (issue 9): a Mosquitto that requires one refuses a client without,
and the ingest, given CA, certificate and key in its settings, connects and stores."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import _missing
from ingest_procs import ROOT, wait_for
from paho.mqtt.client import Client
from paho.mqtt.enums import CallbackAPIVersion
from test_secure_broker import _health

from stadtpuls.store.sqlite import SQLiteStore
from testkit.loadgen import json_payload, json_topic, site_yaml, write_catalogue
from testkit.process import BinaryNotFoundError, free_port, terminate
from testkit.servers import MOSQUITTO_BINARY

pytestmark = [pytest.mark.integration]


@dataclass
class Pki:
    ca: Path
    server: tuple[Path, Path]  # certificate, key
    clients: dict[str, tuple[Path, Path]]


def make_pki(directory: Path, clients: list[str]) -> Pki:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())

    def issue(name: str, key: ec.EllipticCurvePrivateKey, ca: bool,
              san: x509.GeneralName | None = None) -> x509.Certificate:
        b = (x509.CertificateBuilder()
             .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
             .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")]))
             .public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(now - dt.timedelta(minutes=5))
             .not_valid_after(now + dt.timedelta(days=1))
             .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if san is not None:
            b = b.add_extension(x509.SubjectAlternativeName([san]), critical=False)
        return b.sign(ca_key, hashes.SHA256())

    def save(name: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
             ) -> tuple[Path, Path]:
        crt, pem = directory / f"{name}.crt", directory / f"{name}.key"
        crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        pem.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
        return crt, pem

    ca = directory / "ca.crt"
    ca.write_bytes(issue("test CA", ca_key, True).public_bytes(serialization.Encoding.PEM))
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = save("server", issue("127.0.0.1", server_key, False,
                                  x509.IPAddress(ipaddress.ip_address("127.0.0.1"))),
                  server_key)
    keys = {c: ec.generate_private_key(ec.SECP256R1()) for c in clients}
    return Pki(ca, server, {c: save(c, issue(c, k, False), k) for c, k in keys.items()})


@dataclass
class CertBroker:
    port: int
    pki: Pki


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[CertBroker]:
    if not Path(MOSQUITTO_BINARY).exists():
        _missing(BinaryNotFoundError(MOSQUITTO_BINARY, "mosquitto"))
    pki = make_pki(tmp_path, ["stadtpuls-ingest", "sensor"])
    port = free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text("\n".join([
        "user root", f"log_dest file {tmp_path / 'mosquitto.log'}",
        f"listener {port} 127.0.0.1", f"cafile {pki.ca}", f"certfile {pki.server[0]}",
        f"keyfile {pki.server[1]}", "require_certificate true",
        "use_identity_as_username true", "allow_anonymous false", ""]))
    proc = subprocess.Popen([MOSQUITTO_BINARY, "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: _listening(port), 15, "mosquitto to listen")
        yield CertBroker(port, pki)
    finally:
        terminate(proc)


def _listening(port: int) -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def _client(broker: CertBroker, cert: tuple[Path, Path] | None) -> Client:
    client = Client(CallbackAPIVersion.VERSION2, client_id=f"t-{time.monotonic_ns()}")
    client.tls_set(ca_certs=str(broker.pki.ca), certfile=str(cert[0]) if cert else None,
                   keyfile=str(cert[1]) if cert else None)
    return client


def _connects(broker: CertBroker, cert: tuple[Path, Path] | None) -> bool:
    """Whether a TLS client (with `cert`, or none) gets a CONNACK; a refused handshake
    raises in `connect` or in the first `loop` (TLS 1.3 reports it only at the first read)."""
    client = _client(broker, cert)
    try:
        client.connect("127.0.0.1", broker.port)
        deadline = time.monotonic() + 10
        while not client.is_connected() and time.monotonic() < deadline:
            if client.loop(0.1) != 0:
                return False
        return client.is_connected()
    except (ssl.SSLError, OSError):
        return False
    finally:
        client.disconnect()


def test_broker_refuses_a_client_without_a_certificate(broker: CertBroker) -> None:
    assert _connects(broker, broker.pki.clients["sensor"])  # the broker itself works
    assert not _connects(broker, None)


def test_ingest_connects_with_its_client_certificate_and_stores(broker: CertBroker,
                                                                tmp_path: Path) -> None:
    catalogue = write_catalogue(tmp_path / "sites.yaml", {"certsite": site_yaml("certsite", 1)})
    cert, key = broker.pki.clients["stadtpuls-ingest"]
    db = tmp_path / "store.db"
    port = free_port()
    log_path = tmp_path / "ingest.log"
    cmd = [sys.executable, "-m", "stadtpuls.cli", "ingest",
           "--mqtt-url", f"mqtts://127.0.0.1:{broker.port}", "--mqtt-ca-file", str(broker.pki.ca),
           "--mqtt-cert-file", str(cert), "--mqtt-key-file", str(key),
           "--store", f"sqlite:{db}", "--catalogue", str(catalogue),
           "--data-dir", str(tmp_path / "data"), "--http-port", str(port)]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=log, cwd=ROOT)
    try:
        wait_for(lambda: _health(port).get("broker") == "connected", 30,
                 f"the ingest to connect with its certificate (log: {log_path})")
        time.sleep(0.3)  # CONNACK first, then the SUBACK for its subscriptions
        sensor = _client(broker, broker.pki.clients["sensor"])
        sensor.connect("127.0.0.1", broker.port)
        sensor.loop_start()
        ts_ms = int(time.time() * 1000)
        sensor.publish(json_topic("certsite", 0), json_payload(1.0, ts_ms), qos=1
                       ).wait_for_publish(10)
        sensor.loop_stop()
        sensor.disconnect()
        store = SQLiteStore(db)
        try:
            wait_for(lambda: sum(store.counts(0, 2**62, "certsite").values()) == 1, 30,
                     f"the reading to be stored (log: {log_path})")
        finally:
            store.close()
    finally:
        terminate(proc)
