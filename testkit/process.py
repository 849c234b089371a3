"""Server processes for tests: temp dir, start with retries on a port clash, stop at exit.

The servers themselves (Mosquitto, InfluxDB) are in :mod:`testkit.servers`.
"""

from __future__ import annotations

import atexit
import contextlib
import http.client
import shutil
import socket
import subprocess
import tempfile
import time
import weakref
from pathlib import Path

_STOP_TIMEOUT = 10.0
START_ATTEMPTS = 3  # a port picked by free_port() can be taken before the server binds it


class BinaryNotFoundError(RuntimeError):
    """The server binary is not installed; ``apt_package`` names the package to install."""

    def __init__(self, binary: str, apt_package: str) -> None:
        super().__init__(f"{binary} not found: apt-get install {apt_package}")
        self.binary = binary
        self.apt_package = apt_package


class ServerStartError(RuntimeError):
    """The server did not become ready; the message carries the tail of its log."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(paths: list[Path], lines: int = 40) -> str:
    out: list[str] = []
    for path in paths:
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        if text.strip():
            out.append(f"--- {path.name} ---\n" + "\n".join(text.splitlines()[-lines:]))
    return "\n".join(out) or "(logs are empty)"


def terminate(proc: subprocess.Popen[bytes], timeout: float = _STOP_TIMEOUT) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# Servers still running when the interpreter exits (a test run aborted by an exception or
# Ctrl-C) are stopped here, so no orphaned broker or database outlives the test session.
_live: weakref.WeakSet[ManagedServer] = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    for server in list(_live):
        with contextlib.suppress(Exception):
            server.stop()


class ManagedServer:
    """Temp-dir, process and retry bookkeeping shared by both servers."""

    binary: str
    config_flag: str
    apt_package: str
    name: str
    _proc: subprocess.Popen[bytes] | None = None

    def __init__(self, workdir: Path | None, startup_timeout: float, ports_fixed: bool) -> None:
        self._owns_workdir = workdir is None
        if workdir is None:
            workdir = Path(tempfile.mkdtemp(prefix=f"stadtpuls-{self.name}-"))
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.startup_timeout = startup_timeout
        # Ports are only re-picked on a clash if the caller did not ask for specific ones and
        # the server never ran: after that, clients rely on them staying the same.
        self._may_repick = not ports_fixed

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def stderr_path(self) -> Path:
        return self.workdir / f"{self.name}.stderr"

    def log_tail(self, lines: int = 40) -> str:
        return _tail(self._log_paths(), lines)

    def start(self) -> None:
        if not Path(self.binary).exists():
            raise BinaryNotFoundError(self.binary, self.apt_package)
        if self.running:
            raise RuntimeError(f"{self.name} already running")
        # free_port() lets go of the port before the server binds it, so another process
        # may grab it in between.
        attempts = START_ATTEMPTS if self._may_repick else 1
        for attempt in range(attempts):
            if attempt:
                self._pick_ports()
            try:
                self._launch()
                break
            except ServerStartError as exc:
                self.stop()
                if attempt + 1 == attempts or "in use" not in str(exc):
                    raise
        self._may_repick = False
        _live.add(self)

    def _launch(self) -> None:
        config = self._write_config()
        with self.stderr_path.open("ab") as err:
            self._proc = subprocess.Popen(
                [self.binary, self.config_flag, str(config)],
                stdin=subprocess.DEVNULL,
                stdout=err,
                stderr=err,
            )
        deadline = time.monotonic() + self.startup_timeout
        last_error = "not ready"
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise ServerStartError(
                    f"{self.name} exited with {self._proc.returncode}:\n{self.log_tail()}"
                )
            try:
                if self._ready():
                    return
            except (OSError, http.client.HTTPException) as exc:
                last_error = repr(exc)
            time.sleep(0.05)
        raise ServerStartError(
            f"{self.name} not ready after {self.startup_timeout:.0f} s ({last_error}):\n"
            f"{self.log_tail()}"
        )

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            terminate(proc)
        _live.discard(self)

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop and remove the temp dir if this object created it."""
        self.stop()
        if self._owns_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _write_config(self) -> Path:
        raise NotImplementedError

    def _ready(self) -> bool:
        raise NotImplementedError

    def _pick_ports(self) -> None:
        raise NotImplementedError

    def _log_paths(self) -> list[Path]:
        return [self.stderr_path]
