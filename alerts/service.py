"""`stadtpuls alerts run`: wiring only — evaluator rounds on a schedule, the sender thread,
`/metrics`. The evaluator runs beside the ingest, never inside it: ingest replicas scale with
the message rate, alert evaluation with the number of sensors, and several evaluators (for
availability) share one state file without notifying twice (alerts/state.py).
"""

from __future__ import annotations

import logging
import threading
import time

from prometheus_client import CollectorRegistry, Gauge, start_http_server

from alerts.channels import Channel, EmailChannel, WebhookChannel
from alerts.evaluate import Evaluator
from alerts.sender import Sender, SenderMetrics
from alerts.state import AlertState
from stadtpuls.catalogue import Catalogue
from stadtpuls.settings import AlertSettings, SettingsError
from stadtpuls.store.protocol import StoreReader
from stadtpuls.timebase import NS_PER_S

log = logging.getLogger(__name__)


def channels_for(catalogue: Catalogue, settings: AlertSettings) -> dict[str, Channel]:
    """The configured channels; refuses recipients whose channel is not configured."""
    channels: dict[str, Channel] = {}
    if settings.smtp is not None:
        channels["email"] = EmailChannel(settings.smtp)
    if settings.webhook_url and settings.webhook_secret:
        channels["webhook"] = WebhookChannel(settings.webhook_url, settings.webhook_secret)
    for recipient in catalogue.alerts.recipients:
        needed = "email" if recipient.email else "webhook"
        if needed not in channels:
            what = ("--smtp-host / STADTPULS_SMTP_HOST" if needed == "email"
                    else "--webhook-url / STADTPULS_ALERTS_WEBHOOK_URL")
            raise SettingsError(f"recipient {recipient.id!r} needs the {needed} channel; "
                                f"set {what}")
    return channels


class AlertService:
    def __init__(self, reader: StoreReader, catalogue: Catalogue, state: AlertState,
                 settings: AlertSettings) -> None:
        self.settings = settings
        self.registry = CollectorRegistry()
        self.round_cpu = Gauge("stadtpuls_alerts_round_cpu_seconds",
                               "CPU time of the last evaluation round.", registry=self.registry)
        self.store_ok = Gauge("stadtpuls_alerts_store_ok",
                              "1 if the last round could read the store.", registry=self.registry)
        self.evaluator = Evaluator(reader, catalogue, state,
                                   dashboard_url=settings.dashboard_url)
        self.sender = Sender(state, channels_for(catalogue, settings),
                             metrics=SenderMetrics(self.registry))
        self.stopping = threading.Event()

    def run(self) -> None:
        if self.settings.http_port:
            start_http_server(self.settings.http_port, self.settings.http_host,
                              registry=self.registry)
        self.sender.start()
        try:
            while not self.stopping.is_set():
                started = time.process_time()
                try:
                    result = self.evaluator.round(int(time.time() * NS_PER_S))
                except Exception:  # a bad round must not stop alerting; the next one retries
                    log.exception("evaluation round failed")
                else:
                    self.store_ok.set(1 if result.store_ok else 0)
                    for state, row in result.transitions:
                        log.info("%s %s %s/%s", state, row.rule, row.site, row.sensor)
                    if result.queued:
                        self.sender.wake()
                self.round_cpu.set(time.process_time() - started)
                self.stopping.wait(self.settings.interval_s)
        finally:
            self.sender.stop()
