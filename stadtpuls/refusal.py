"""Write readings, and when the store refuses them as bad data, find the ones it refuses.

This is the one place that handles "the store refused this batch" (`StoreRejected`, e.g. an
HTTP 400 from InfluxDB): the ingest's direct path and its spool drainer, the dead-letter
replay, the demo's backfill and the dev data all write through `write_isolating` and get back
which of their messages (`origins`) were refused and why. What a refusal means is theirs to
decide: the ingest dead-letters those messages, the replay keeps their dead letters with the
new reason, dev data reports them.

Readings are identified by origin (a message index) because a message is stored whole or
dead-lettered whole, so a replay after a fix stores it complete. The readings of a refused
message that the store did accept stay written: writes are idempotent, the replay writes them
again as the same points.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

from stadtpuls.reading import Reading
from stadtpuls.store import StoreRejected, StoreWriter

log = logging.getLogger("stadtpuls.store")


class WriteOutcome(NamedTuple):
    kept: Sequence[Reading]  # the readings of the origins not refused (all of them normally)
    refused: dict[int, str]  # origin -> "store rejected: <the store's reason>"


Origins = Sequence[int] | Callable[[], Sequence[int]]
"""The origin of every reading, or a function that returns them: called only on a refusal,
for callers whose origins cost a loop over every reading to build."""


def write_isolating(store: StoreWriter, readings: Sequence[Reading],
                    origins: Origins) -> WriteOutcome:
    """Write `readings` (`origins[i]` is the message of reading i); if the store refuses
    them, bisect until every refused reading is alone. Raises StoreUnavailable."""
    try:
        store.write(readings)
    except StoreRejected as exc:
        log.warning("store refused %d readings (%s); isolating the refused ones",
                    len(readings), exc)
        reason = str(exc)
    else:
        return WriteOutcome(readings, {})
    if callable(origins):
        origins = origins()
    refused: dict[int, str] = {}
    for index, why in isolate_rejected(store, readings, reason):
        refused.setdefault(origins[index], f"store rejected: {why}")
    kept = [r for r, o in zip(readings, origins, strict=True) if o not in refused]
    return WriteOutcome(kept, refused)


def origins_from_counts(counts: Sequence[int]) -> list[int]:
    """The origins of readings kept as `counts[i]` consecutive readings of message i."""
    return [i for i, c in enumerate(counts) for _ in range(c)]


def isolate_rejected(store: StoreWriter, readings: Sequence[Reading],
                     reason: str = "store rejected the batch") -> list[tuple[int, str]]:
    """Write `readings` (which the store refused as a whole, for `reason`) in halves until
    every refused reading is alone; return (index, reason) of those, in index order. Raises
    StoreUnavailable.

    Halving costs about 2·log2(N) writes for one refused reading, but up to 2N when most are
    refused. So the halving goes level by level, and each level estimates how many refused
    readings a refused part holds from how often both halves of a part were refused; once
    writing the parts' readings one by one is cheaper than halving on, it does that. The
    worst case is then about N plus a few percent, instead of 2N. (Readings the stores are
    known to refuse never get here: `Reading` refuses them, see stadtpuls.reading.)
    """
    bad: list[tuple[int, str]] = []
    level = [(0, len(readings), reason)] if readings else []
    while level:
        refused: list[tuple[int, int, str]] = []
        splits = 0
        for lo, hi, why in level:
            if hi - lo == 1:
                bad.append((lo, why))
                continue
            splits += 1
            mid = (lo + hi) // 2
            for a, b in ((lo, mid), (mid, hi)):
                try:
                    store.write(readings[a:b])
                except StoreRejected as exc:
                    refused.append((a, b, str(exc)))
        level = refused
        if level and _one_by_one_is_cheaper(splits, len(refused) - splits,
                                            max(hi - lo for lo, hi, _ in level)):
            for lo, hi, why in level:
                bad += [(lo, why)] if hi - lo == 1 else _write_singly(store, readings, lo, hi)
            level = []
    bad.sort()
    return bad


def _one_by_one_is_cheaper(splits: int, both_refused: int, size: int) -> bool:
    """Whether parts of `size` are cheaper to write reading by reading than to halve on,
    when `both_refused` of `splits` halved parts had both halves refused."""
    if splits < 4:
        return False  # too few parts to estimate from
    # With k refused readings in a part, both halves are refused with probability about
    # 1 - 2**(1-k); invert that. If every part had both refused, take the k at which that
    # is an even chance (a cautious lower bound).
    share = both_refused / splits if both_refused < splits else 0.5 ** (1 / splits)
    k = 1 - math.log2(1 - share)
    return size <= 2 * k * (math.log2(max(size / k, 1.0)) + 1)


def _write_singly(store: StoreWriter, readings: Sequence[Reading], lo: int, hi: int
                  ) -> list[tuple[int, str]]:
    bad: list[tuple[int, str]] = []
    for i in range(lo, hi):
        try:
            store.write(readings[i:i + 1])
        except StoreRejected as exc:
            bad.append((i, str(exc)))
    return bad
