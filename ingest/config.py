"""The ingest's settings as one validated object (flags and environment are read in
`stadtpuls.settings`; `ingest.cli` builds this from them).

The rules between settings live here, so a config built by a test or a bench is checked as
strictly as one built from the command line; each error is one line naming the flag.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ingest.deadletter import DEFAULT_MAX_BYTES, DEFAULT_MAX_LETTERS
from ingest.limits import SPOOL_MAX_BYTES
from stadtpuls.settings import MqttSettings, SettingsError


def spool_file_name(client_id: str) -> str:
    """`spool-<client id>.db`; at start the ingest also drains every other `spool-*.db` it
    finds in its data directory (see `ingest.spool.adopt_orphaned_spools`)."""
    return f"spool-{re.sub(r'[^A-Za-z0-9_.-]', '_', client_id)}.db"


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
    spool_max_bytes: int = SPOOL_MAX_BYTES
    http_host: str = "127.0.0.1"
    http_port: int = 9108  # 0 = no HTTP server
    stats_interval_s: float = 5.0
    keepalive_s: int = 30
    session_expiry_s: int = 7 * 86_400
    max_pending_messages: int = 50_000
    max_pending_bytes: int = 64 * 1024 * 1024
    max_block_s: float = 5.0  # longest hold of the network thread on a full queue
    shutdown_timeout_s: float = 20.0
    max_unacked_age_s: float = 60.0  # /healthz answers 503 when a message waits longer
    deadletter_max_letters: int = DEFAULT_MAX_LETTERS
    deadletter_max_bytes: int = DEFAULT_MAX_BYTES
    state_interval_s: float = 60.0  # sensor state snapshots (0 = none; stadtpuls.state)

    def __post_init__(self) -> None:
        for flag, value in (("--batch-size", self.batch_size), ("--batch-ms", self.batch_ms),
                            ("--spool-max-readings", self.spool_max_readings),
                            ("--spool-max-bytes", self.spool_max_bytes),
                            ("--max-pending-messages", self.max_pending_messages),
                            ("--max-unacked-age", self.max_unacked_age_s),
                            ("--deadletter-max-count", self.deadletter_max_letters),
                            ("--deadletter-max-bytes", self.deadletter_max_bytes)):
            if not value > 0:
                raise SettingsError(f"{flag} must be positive, not {value:g}")
        if not self.stats_interval_s >= 0:
            raise SettingsError(f"--stats-interval must be 0 (off) or positive, "
                                f"not {self.stats_interval_s:g}")
        if not 0 <= self.http_port <= 65_535:
            raise SettingsError(f"--http-port must be between 1 and 65535, or 0 for no health "
                                f"server, not {self.http_port}")
        if self.mqtt_version not in (4, 5):
            raise SettingsError(f"MQTT protocol level {self.mqtt_version} is not supported; "
                                "use --mqtt-version 5 or 3.1.1")
        if not self.client_id:
            raise SettingsError("the client id is empty; a persistent session needs a fixed "
                                "one (--client-id / STADTPULS_INGEST_CLIENT_ID)")
        if self.share_group is not None:
            self._check_share_group(self.share_group)

    def _check_share_group(self, group: str) -> None:
        # MQTT 5 §4.8.2: a ShareName is at least one character and holds no '/', '+' or '#'.
        if not group or any(c in group for c in "/+#"):
            raise SettingsError(f"share group {group!r} must be a non-empty name without '/', "
                                "'+' or '#' (--share-group / STADTPULS_INGEST_SHARE_GROUP)")
        if self.mqtt_version != 5:
            raise SettingsError("--share-group needs MQTT 5: drop --mqtt-version 3.1.1 (or "
                                "STADTPULS_MQTT_VERSION) or the share group")

    @property
    def subscriptions(self) -> list[str]:
        if self.share_group:
            return [f"$share/{self.share_group}/{f}" for f in self.topic_filters]
        return list(self.topic_filters)

    @property
    def spool_path(self) -> Path:
        return self.data_dir / spool_file_name(self.client_id)

    @property
    def deadletter_path(self) -> Path:
        return self.data_dir / "deadletter.db"
