"""How long raw readings and each tier are kept, and deleting what is older.

Applied by Stadtpuls on every store (the ingest's roll-up worker once an hour, and
`stadtpuls rollup retention`): each store deletes by a bounded time range, so nothing
depends on InfluxDB retention policies, buckets' retention periods or SQLite triggers.
A tier's cut-off is floored to its window, so only whole windows go.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from stadtpuls.rollup.tiers import TIERS, Tier, floor_to
from stadtpuls.store.protocol import RollupStore
from stadtpuls.timebase import MIN_NS, NS_PER_S


@dataclass(frozen=True)
class RetentionPolicy:
    """Seconds to keep per tier (None = raw readings); a missing or None value: forever.

    The default keeps everything (settings: `stadtpuls.settings.rollup`)."""

    keep_s: Mapping[Tier | None, int | None] = field(default_factory=dict)

    def cutoff_ns(self, tier: Tier | None, now_ns: int) -> int | None:
        """Everything of `tier` timed before this goes (None: nothing goes)."""
        keep = self.keep_s.get(tier)
        if keep is None:
            return None
        cut = now_ns - keep * NS_PER_S
        return cut if tier is None else floor_to(cut, tier.width_ns)

    def source_kept_from(self, tier: Tier, now_ns: int) -> int:
        """From when on the data `tier` is computed from is still there.

        The worker recomputes no window before this: it would rebuild it from a remnant.
        """
        cut = self.cutoff_ns(tier.finer, now_ns)
        return MIN_NS if cut is None else cut


def apply_retention(store: RollupStore, policy: RetentionPolicy, now_ns: int, *,
                    dry_run: bool = False) -> dict[str, tuple[int, int]]:
    """Delete (or with `dry_run` only count) what is too old: name -> (cut-off, rows)."""
    out: dict[str, tuple[int, int]] = {}
    for tier in (None, *TIERS):
        cut = policy.cutoff_ns(tier, now_ns)
        if cut is not None:
            out["raw" if tier is None else tier.value] = (
                cut, store.delete_before(tier, cut, dry_run=dry_run))
    return out
