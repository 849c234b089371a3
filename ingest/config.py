"""The ingest's settings as one validated object (flags and environment are read in
`stadtpuls.settings`; `ingest.cli` builds this from them)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from stadtpuls.settings import MqttSettings


@dataclass(frozen=True)
class IngestConfig:
    mqtt: MqttSettings
    client_id: str
    topic_filters: Sequence[str]
    data_dir: Path
    mqtt_version: int = 5  # 5 or 4 (3.1.1)
    share_group: str | None = None
    batch_size: int = 5_000
    batch_ms: float = 100.0
    spool_max_readings: int = 5_000_000
    http_host: str = "127.0.0.1"
    http_port: int = 9108  # 0 = no HTTP server
    stats_interval_s: float = 5.0
    keepalive_s: int = 30
    session_expiry_s: int = 7 * 86_400
    max_pending_messages: int = 50_000
    max_pending_bytes: int = 64 * 1024 * 1024
    max_block_s: float = 5.0  # longest hold of the network thread on a full queue
    shutdown_timeout_s: float = 20.0

    @property
    def subscriptions(self) -> list[str]:
        if self.share_group:
            return [f"$share/{self.share_group}/{f}" for f in self.topic_filters]
        return list(self.topic_filters)

    @property
    def spool_path(self) -> Path:
        return self.data_dir / f"spool-{re.sub(r'[^A-Za-z0-9_.-]', '_', self.client_id)}.db"

    @property
    def deadletter_path(self) -> Path:
        return self.data_dir / "deadletter.db"
