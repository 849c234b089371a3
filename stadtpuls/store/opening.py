"""Open the store the operator configured (`stadtpuls.settings.StoreSettings`).

Here rather than in the settings, so that reading settings (as the simulators do) pulls in
no store code; the InfluxDB client is imported only when it is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stadtpuls.store.protocol import RollupStore

if TYPE_CHECKING:
    from stadtpuls.settings import StoreSettings


def open_store(settings: StoreSettings) -> RollupStore:
    """Open the configured store (imports the InfluxDB client only when it is used)."""
    if settings.kind == "sqlite":
        from stadtpuls.store.sqlite import SQLiteStore

        assert settings.sqlite_path is not None
        return SQLiteStore(settings.sqlite_path)
    from stadtpuls.store.influx import InfluxStore

    assert settings.influx_url is not None
    return InfluxStore(settings.influx_url, settings.influx_bucket,
                       token=settings.influx_token, org=settings.influx_org)
