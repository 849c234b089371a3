"""Child processes of the demo (ingest, dashboard): start, watch, restart, stop.

Each service runs as its own `stadtpuls` process, exactly as in production, so the demo shows
the real thing. A child that dies is restarted with a growing delay, and one line says so:
the demo keeps running unattended on a lobby screen.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

log = logging.getLogger("stadtpuls.demo")


@dataclass
class Child:
    name: str
    args: list[str]
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    next_start: float = 0.0

    def start(self) -> None:
        env = {**os.environ, **self.env}
        # Our own interpreter and `stadtpuls` command, arguments from the demo's own settings,
        # no shell: nothing untrusted reaches this call.
        self.process = subprocess.Popen(  # nosec B603
            [sys.executable, "-m", "stadtpuls.cli", *self.args], env=env,
            # Own process group: Ctrl-C in the terminal reaches the demo, which then stops
            # its children in order instead of all of them dying at once.
            start_new_session=True,
        )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


class Supervisor:
    def __init__(self) -> None:
        self.children: list[Child] = []

    def add(self, child: Child) -> Child:
        self.children.append(child)
        child.start()
        return child

    def check(self) -> None:
        """Restart children that exited; call this every second or so."""
        now = time.monotonic()
        for child in self.children:
            if child.running or child.process is None:
                continue
            if child.next_start == 0.0:
                code = child.process.returncode
                delay = min(2.0 ** child.restarts, 60.0)
                log.warning("%s exited with status %s; restarting in %.0f s", child.name,
                            code, delay)
                child.next_start = now + delay
            elif now >= child.next_start:
                child.restarts += 1
                child.next_start = 0.0
                child.start()

    def stop(self, timeout_s: float = 15.0) -> None:
        for child in reversed(self.children):
            if child.running and child.process is not None:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        for child in reversed(self.children):
            if child.process is None:
                continue
            try:
                child.process.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop within %.0f s; killing it", child.name, timeout_s)
                child.process.kill()
                child.process.wait()
