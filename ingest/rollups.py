"""The ingest's part in the roll-ups: mark what it wrote, and run the worker beside it.

The store the service writes to is wrapped in `DirtyMarkingWriter`, so delivery and the spool
drainer mark series only after a durable write; `RollupWorker` (its own thread) recomputes
the marked windows every `period_s` — off the hot path, bounded (stadtpuls/rollup/).
"""

from __future__ import annotations

from collections.abc import Mapping

from stadtpuls.catalogue import Catalogue
from stadtpuls.reading import SeriesKey
from stadtpuls.rollup.dirty import DirtyMarkingWriter, DirtySeries
from stadtpuls.rollup.retention import RetentionPolicy
from stadtpuls.rollup.tiers import Tier
from stadtpuls.rollup.worker import Recomputer, RollupWorker
from stadtpuls.store.protocol import RollupStore, StoreWriter


def with_rollups(store: RollupStore, catalogue: Catalogue, period_s: float, catchup_s: float,
                 keep_s: Mapping[Tier | None, int | None]
                 ) -> tuple[StoreWriter, RollupWorker | None]:
    """The writer the service should use and the worker to start (None: roll-ups off)."""
    if period_s <= 0:
        return store, None
    dirty = DirtySeries()
    worker = RollupWorker(Recomputer(store, catalogue_intervals(catalogue).get,
                                     RetentionPolicy(keep_s)), dirty,
                          period_s=period_s, catchup_s=catchup_s)
    return DirtyMarkingWriter(store, dirty), worker


def catalogue_intervals(catalogue: Catalogue) -> dict[SeriesKey, float]:
    """Each catalogue series' reporting interval (the roll-ups' gap rule for power)."""
    return {SeriesKey(site, s.id, s.quantity): s.interval_s for site, s in catalogue.sensors()}
