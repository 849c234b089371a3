"""The shipped, locked-down Mosquitto config, run for real by the tests.

:func:`read_conf` parses `config/mosquitto/mosquitto.conf`; :class:`SecureBroker` starts
Debian's Mosquitto with that very config, only its container paths and ports rewritten to a
temp dir and free ports, with a test CA, a server certificate for 127.0.0.1 and a password file
made by `mosquitto_passwd`.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from testkit.process import BinaryNotFoundError, free_port
from testkit.process import terminate as stop_process  # SIGTERM, then SIGKILL
from testkit.servers import MOSQUITTO_BINARY

__all__ = ["SHIPPED_ACL", "SHIPPED_CONF", "SecureBroker", "read_conf", "stop_process"]

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_CONF = ROOT / "config" / "mosquitto" / "mosquitto.conf"
SHIPPED_ACL = ROOT / "config" / "mosquitto" / "acl"
MOSQUITTO_PASSWD = "/usr/bin/mosquitto_passwd"


@dataclass
class Listener:
    port: int
    bind: str | None
    options: dict[str, str] = field(default_factory=dict)


def read_conf(path: Path = SHIPPED_CONF) -> tuple[dict[str, str], list[Listener]]:
    """Global options and listeners (with their own options) of a mosquitto.conf."""
    glob: dict[str, str] = {}
    listeners: list[Listener] = []
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition(" ")
        if key == "listener":
            port, _, bind = value.partition(" ")
            listeners.append(Listener(int(port), bind or None))
        elif listeners:
            listeners[-1].options[key] = value
        else:
            glob[key] = value
    return glob, listeners


@dataclass
class Pki:
    ca: Path
    cert: Path
    key: Path


def make_pki(directory: Path, host: str = "127.0.0.1") -> Pki:
    """A CA and a server certificate for `host` signed by it (valid for a day)."""
    now = dt.datetime.now(dt.UTC)

    def build(subject: str, issuer: str, public: ec.EllipticCurvePublicKey,
              signer: ec.EllipticCurvePrivateKey, ca: bool) -> x509.Certificate:
        b = (x509.CertificateBuilder()
             .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
             .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
             .public_key(public).serial_number(x509.random_serial_number())
             .not_valid_before(now - dt.timedelta(minutes=5))
             .not_valid_after(now + dt.timedelta(days=1))
             .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if not ca:
            b = b.add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(host))]), critical=False)
        return b.sign(signer, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = build("stadtpuls test CA", "stadtpuls test CA", ca_key.public_key(), ca_key, True)
    cert = build(host, "stadtpuls test CA", key.public_key(), ca_key, False)
    pki = Pki(directory / "ca.crt", directory / "server.crt", directory / "server.key")
    pki.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    pki.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pki.key.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return pki


class SecureBroker:
    """Mosquitto with the shipped config and ACL; `users` go into its password file."""

    def __init__(self, workdir: Path, users: dict[str, str], acl_extra: str = "") -> None:
        for binary, package in ((MOSQUITTO_BINARY, "mosquitto"),
                                (MOSQUITTO_PASSWD, "mosquitto")):
            if not Path(binary).exists():
                raise BinaryNotFoundError(binary, package)
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.pki = make_pki(workdir)
        passwd = workdir / "passwd"
        passwd.touch(mode=0o600)
        for user, password in users.items():
            subprocess.run([MOSQUITTO_PASSWD, "-b", str(passwd), user, password],
                           check=True, capture_output=True, timeout=30)
        acl = workdir / "acl"
        acl.write_text(SHIPPED_ACL.read_text() + acl_extra)
        _, listeners = read_conf()
        # The shipped listener's port -> this broker's port for it.
        self.ports = ports = {listener.port: free_port() for listener in listeners}
        self.tls_port = next(ports[lst.port] for lst in listeners if "certfile" in lst.options)
        (workdir / "data").mkdir(exist_ok=True)
        paths = {"/mosquitto/config/passwd": str(passwd), "/mosquitto/config/acl": str(acl),
                 "/mosquitto/certs/server.crt": str(self.pki.cert),
                 "/mosquitto/certs/server.key": str(self.pki.key),
                 "/mosquitto/data/": f"{workdir / 'data'}/"}
        lines = ["user root"]  # as root, Mosquitto would switch to a user that cannot write here
        for raw in SHIPPED_CONF.read_text().splitlines():
            key, _, value = raw.partition(" ")
            if key == "listener":
                port, _, bind = value.partition(" ")
                # Loopback only: the test needs no other interface.
                raw = f"listener {ports[int(port)]} {bind or '127.0.0.1'}"
            elif key == "log_dest":
                raw = f"log_dest file {workdir / 'mosquitto.log'}"
            else:
                raw = f"{key} {paths.get(value, value)}" if value else raw
            lines.append(raw)
        self.conf = workdir / "mosquitto.conf"
        self.conf.write_text("\n".join(lines) + "\n")
        self.log = workdir / "mosquitto.log"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with (self.workdir / "stderr").open("ab") as err:
            self._proc = subprocess.Popen([MOSQUITTO_BINARY, "-c", str(self.conf)],
                                          stdin=subprocess.DEVNULL, stdout=err, stderr=err)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {self.log_text()}")
            try:
                socket.create_connection(("127.0.0.1", self.tls_port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto not listening after 15 s: {self.log_text()}")

    def log_text(self) -> str:
        text = [p.read_text(errors="replace") for p in (self.log, self.workdir / "stderr")
                if p.exists()]
        return "\n".join(text)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            stop_process(proc)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)
