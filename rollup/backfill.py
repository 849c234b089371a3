"""Backfill: build every tier for data already in the store, resumably.

The range is walked oldest first in chunks of 30 days (one `counts` query finds the series
with data in a chunk; empty chunks cost that one query). After each chunk a checkpoint file
records how far it got, written atomically, so Ctrl-C (or a crash) loses at most the chunk in
hand and the next run resumes there. Rows are written by identity, so running again, or over
windows the ingest's worker already keeps, changes nothing. At the end the tiers are marked
complete from the start of the range (coverage), and queries start to use them.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from stadtpuls.rollup.retention import RetentionPolicy
from stadtpuls.rollup.tiers import floor_to
from stadtpuls.rollup.worker import IntervalOf, Recomputer, widen_coverage
from stadtpuls.store.protocol import RollupStore
from stadtpuls.timebase import NS_PER_DAY, NS_PER_S, from_ns

CHUNK_NS = 30 * NS_PER_DAY
_VERSION = 1


@dataclass(frozen=True)
class Checkpoint:
    path: Path
    since_ns: int
    until_ns: int

    def load(self) -> int:
        """Where a run over the same range got to (its start if none did)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return self.since_ns
        same = (data.get("version") == _VERSION and data.get("since_ns") == self.since_ns
                and data.get("until_ns") == self.until_ns)
        done = data.get("done_until_ns") if same else None
        return done if isinstance(done, int) else self.since_ns

    def save(self, done_until_ns: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"version": _VERSION, "since_ns": self.since_ns,
                                   "until_ns": self.until_ns,
                                   "done_until_ns": done_until_ns}), encoding="utf-8")
        os.replace(tmp, self.path)


def backfill(store: RollupStore, since_ns: int, until_ns: int, checkpoint: Checkpoint, *,
             interval_of: IntervalOf = lambda _: None, policy: RetentionPolicy | None = None,
             progress: TextIO | None = sys.stderr,
             clock: Callable[[], float] = time.time) -> int:
    """Build the tiers for [since, until); rows written. Resumes from `checkpoint`."""
    since_ns = floor_to(since_ns, NS_PER_DAY)
    recomputer = Recomputer(store, interval_of, policy, clock)
    done = max(checkpoint.load(), since_ns)
    written = 0
    started = time.monotonic()
    while done < until_ns:
        end = min(until_ns, done + CHUNK_NS)
        series = store.counts(done, end)
        if series:
            written += recomputer.recompute({key: (done, end - 1) for key in series})
        checkpoint.save(end)
        done = end
        if progress is not None:
            share = (done - since_ns) / max(1, until_ns - since_ns)
            rate = written / max(1e-9, time.monotonic() - started)
            print(f"\rrollup backfill: up to {from_ns(done):%Y-%m-%d} {share:6.1%}, "
                  f"{written:,} rows ({rate:,.0f}/s)", end="", file=progress, flush=True)
    widen_coverage(store, since_ns)
    if progress is not None:
        print(file=progress)
    return written


def default_since(now_ns: int, raw_keep_s: int | None, years_if_forever: int = 20) -> int:
    keep = raw_keep_s if raw_keep_s is not None else years_if_forever * 365 * 86_400
    return now_ns - keep * NS_PER_S
