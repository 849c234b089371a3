"""Storage: the store protocols (`StoreWriter`, `StoreReader`, both: `Store`) and the SQLite
and InfluxDB implementations."""

from stadtpuls.store.errors import StoreError, StoreRejected, StoreUnavailable
from stadtpuls.store.protocol import (
    Aggregate,
    RollupStore,
    Store,
    StoreReader,
    StoreWriter,
    WindowSeries,
)

__all__ = [
    "Aggregate",
    "RollupStore",
    "Store",
    "StoreError",
    "StoreReader",
    "StoreRejected",
    "StoreUnavailable",
    "StoreWriter",
    "WindowSeries",
]
