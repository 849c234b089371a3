"""Storage: the `Store` protocol and its SQLite and InfluxDB implementations."""

from stadtpuls.store.errors import StoreError, StoreRejected, StoreUnavailable
from stadtpuls.store.protocol import Aggregate, Store, WindowSeries

__all__ = [
    "Aggregate",
    "Store",
    "StoreError",
    "StoreRejected",
    "StoreUnavailable",
    "WindowSeries",
]
