"""The outbox sender: its own thread, so a slow or dead mail server never delays evaluation.

Each due row is claimed (one sender among threads and replicas wins, alerts/state.py), sent
through its channel, then marked sent — or marked failed with the reason and tried again
after a backoff that doubles from 15 s up to 15 min. Nothing is ever dropped: an unreachable
server only delays its notifications, which `stadtpuls alerts outbox` and the
`stadtpuls_alerts_outbox_failing` metric show meanwhile.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge

from alerts.channels import Channel, ChannelError
from alerts.state import AlertState
from stadtpuls.timebase import NS_PER_S

log = logging.getLogger(__name__)

BACKOFF_FIRST_S = 15.0
BACKOFF_MAX_S = 900.0
CLAIM_S = 120.0
"""A claim outlives any single attempt (SMTP and webhook time out well before)."""


class SenderMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.sent = Counter("stadtpuls_alerts_notifications_sent", "Notifications delivered.",
                            ["channel"], registry=registry)
        self.failed = Counter("stadtpuls_alerts_notification_failures",
                              "Failed notification attempts (each is retried).", ["channel"],
                              registry=registry)
        self.unsent = Gauge("stadtpuls_alerts_outbox_unsent",
                            "Notifications waiting to be sent.", registry=registry)
        self.failing = Gauge("stadtpuls_alerts_outbox_failing",
                             "Waiting notifications that failed at least once.",
                             registry=registry)


def backoff_s(attempts: int) -> float:
    """Wait after the `attempts`-th failure (1, 2, ...)."""
    return float(min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** max(0, attempts - 1)))


class Sender:
    def __init__(self, state: AlertState, channels: Mapping[str, Channel], *,
                 metrics: SenderMetrics | None = None,
                 clock: Callable[[], float] = time.time, owner: str | None = None) -> None:
        self.state = state
        self.channels = channels
        self.metrics = metrics
        self.clock = clock
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def send_due(self) -> int:
        """Send what is due now; returns how many went out."""
        sent = 0
        for row in self.state.due(int(self.clock() * NS_PER_S)):
            if self._stop.is_set():
                break
            # The claim counts from now, not from the batch's start: a slow channel must not
            # let later rows' claims expire before they are sent (another sender would too).
            now = int(self.clock() * NS_PER_S)
            if not self.state.claim(row.id, self.owner, now, now + int(CLAIM_S * NS_PER_S)):
                continue  # another sender has it
            channel = self.channels.get(row.channel)
            try:
                if channel is None:
                    raise ChannelError(f"channel {row.channel!r} is not configured")
                channel.send(row.address, row.message)
            except Exception as exc:
                wait = backoff_s(row.attempts + 1)
                log.warning("notification %d (%s to %s) failed, retry in %.0f s: %s",
                            row.id, row.transition, row.recipient, wait, exc)
                self.state.mark_failed(row.id, self.owner, f"{type(exc).__name__}: {exc}"
                                       if not isinstance(exc, ChannelError) else str(exc),
                                       int((self.clock() + wait) * NS_PER_S))
                if self.metrics:
                    self.metrics.failed.labels(row.channel).inc()
                continue
            self.state.mark_sent(row.id, self.owner, int(self.clock() * NS_PER_S))
            sent += 1
            if self.metrics:
                self.metrics.sent.labels(row.channel).inc()
        if self.metrics:
            unsent, failing = self.state.outbox_figures()
            self.metrics.unsent.set(unsent)
            self.metrics.failing.set(failing)
        return sent

    def wake(self) -> None:
        """Something was queued: look now rather than at the next tick."""
        self._wake.set()

    def start(self, tick_s: float = 1.0) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                try:
                    self.send_due()
                except Exception:  # a state-file hiccup must not end the sender thread
                    log.exception("alert sender round failed; retrying")
                self._wake.wait(tick_s)
                self._wake.clear()

        self._thread = threading.Thread(target=loop, name="alert-sender", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 20.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
