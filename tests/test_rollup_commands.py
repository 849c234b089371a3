"""`stadtpuls rollup backfill|retention`, the roll-up settings and the dirty marks' bounds
(SQLite, real files; the contract on both stores is tests/test_rollup_contract.py)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rollup.backfill import Checkpoint, backfill
from stadtpuls.reading import Reading, SeriesKey
from stadtpuls.rollup.dirty import DirtySeries
from stadtpuls.rollup.tiers import TIERS, Tier
from stadtpuls.settings import SettingsError
from stadtpuls.settings.rollup import retention_seconds
from stadtpuls.store.sqlite import SQLiteStore
from stadtpuls.units import Quantity

ROOT = Path(__file__).resolve().parents[1]
S = 10**9
DAY = 86_400 * S
BASE = 1_750_032_000 * S
KEY = SeriesKey("site", "temp", Quantity.TEMPERATURE)


def _store(path: Path, days: int = 100) -> SQLiteStore:
    store = SQLiteStore(path)
    store.write([Reading("site", "temp", Quantity.TEMPERATURE, BASE + k * 3_600 * S, float(k))
                 for k in range(days * 24)])
    return store


def _rows(store: SQLiteStore) -> dict[Tier, list[tuple[int, int, float]]]:
    return {t: [(r.start_ns, r.count, r.total) for r in store.rollups(
        t, [KEY], BASE - DAY, BASE + 200 * DAY).get(KEY, [])] for t in TIERS}


class _Interrupting:
    """The real store, but Ctrl-C arrives during the n-th `counts` (one per chunk)."""

    def __init__(self, inner: SQLiteStore, after: int) -> None:
        self.inner = inner
        self.after = after

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def counts(self, start_ns: int, end_ns: int, site: str | None = None
               ) -> dict[SeriesKey, int]:
        self.after -= 1
        if self.after < 0:
            raise KeyboardInterrupt
        return self.inner.counts(start_ns, end_ns, site)


def test_backfill_interrupted_then_resumed_equals_one_run_and_reruns_change_nothing(
        tmp_path: Path) -> None:
    end = BASE + 100 * DAY
    whole = _store(tmp_path / "a.db")
    assert backfill(whole, BASE, end, Checkpoint(tmp_path / "a.json", BASE, end),
                    progress=None) > 0
    expected = _rows(whole)
    assert all(expected[t] for t in TIERS) and whole.coverage() == dict.fromkeys(TIERS, BASE)

    store = _store(tmp_path / "b.db")
    checkpoint = Checkpoint(tmp_path / "b.json", BASE, end)
    with pytest.raises(KeyboardInterrupt):
        backfill(_Interrupting(store, 2), BASE, end, checkpoint, progress=None)  # type: ignore[arg-type]
    assert checkpoint.load() == BASE + 60 * DAY, "two chunks of 30 days were done"
    assert store.coverage() == {}, "an interrupted backfill does not claim completeness"
    partial = _rows(store)
    assert 0 < len(partial[Tier.D1]) < len(expected[Tier.D1])
    backfill(store, BASE, end, checkpoint, progress=None)
    assert _rows(store) == expected
    backfill(store, BASE, end, Checkpoint(tmp_path / "c.json", BASE, end), progress=None)
    assert _rows(store) == expected, "a rerun rewrites the same rows"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env = {k: v for k, v in env.items() if not k.startswith("STADTPULS_")}
    return subprocess.run([sys.executable, "-m", "stadtpuls.cli", "rollup", *args],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)


def test_cli_backfill_then_retention_dry_run_and_apply(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    _store(db, days=10).close()
    store = ["--store", f"sqlite:{db}"]
    done = _cli("backfill", "--since", "2025-06-16", "--until", "2025-06-27",
                "--data-dir", str(tmp_path), *store)
    assert done.returncode == 0, done.stderr
    assert "rollup backfill: up to 2025-06-27 100.0%" in done.stderr
    assert "the tiers are complete from 2025-06-16" in done.stderr
    dry = _cli("retention", "--dry-run", "--retention-raw", "400d", "--retention-15m", "400d",
               "--retention-1h", "400d", *store)
    assert dry.returncode == 0, dry.stderr
    assert "raw: would delete 240 rows" in dry.stdout
    assert "1d: would delete" not in dry.stdout, "the daily tier is kept forever"
    again = SQLiteStore(db)
    assert sum(again.counts(0, 2**62).values()) == 240, "a dry run deletes nothing"
    applied = _cli("retention", "--retention-raw", "400d", "--retention-15m", "400d",
                   "--retention-1h", "400d", *store)
    assert applied.returncode == 0 and "raw: deleted 240 rows" in applied.stdout
    assert again.counts(0, 2**62) == {}
    assert again.rollups(Tier.D1, [KEY], 0, 2**62)[KEY], "daily rows stay"
    bad = _cli("retention", "--retention-1h", "30d", "--retention-15m", "90d", *store)
    assert bad.returncode == 2
    assert bad.stderr.strip().startswith("stadtpuls rollup: each roll-up tier must be kept")


@pytest.mark.parametrize(("value", "ok"), [("90d", 90 * 86_400), ("12h", 43_200),
                                           ("5y", 5 * 365 * 86_400), ("forever", None),
                                           ("7", 7 * 86_400)])
def test_retention_durations(value: str, ok: int | None) -> None:
    args = argparse.Namespace(retention_raw=value, retention_15m="forever",
                              retention_1h="forever", retention_1d="forever")
    assert retention_seconds(args)[None] == ok


def test_a_bad_duration_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STADTPULS_RETENTION_1H", "ten years")
    with pytest.raises(SettingsError, match=r"^STADTPULS_RETENTION_1H='ten years' is not a "):
        retention_seconds(argparse.Namespace())


def test_dirty_marks_are_bounded_and_lose_nothing() -> None:
    dirty = DirtySeries(max_readings=10, max_series=3)
    batches = [[Reading("s", f"n{i}", Quantity.POWER, t * S, 1.0) for i in range(5)]
               for t in (10, 5, 20, 7)]
    for batch in batches:
        dirty.mark(batch)  # the third finds the queue full (two batches of 5): all is folded
    changes = dirty.take()
    assert len(changes.ranges) == 3
    assert set(changes.ranges.values()) == {(5 * S, 20 * S)}
    assert changes.everything == (5 * S, 20 * S), "series beyond the bound: one range for all"
    assert not dirty.take()
    # Ranges are kept across rounds: a series written again reports only its new span, and
    # series quiet for a round give their places to others.
    dirty.mark([Reading("s", "n0", Quantity.POWER, 30 * S, 1.0)])
    assert dirty.take().ranges == {SeriesKey("s", "n0", Quantity.POWER): (30 * S, 30 * S)}
    dirty.mark([Reading("s", f"m{i}", Quantity.POWER, 40 * S, 1.0) for i in range(3)])
    changes = dirty.take()
    assert len(changes.ranges) == 2 and changes.everything == (40 * S, 40 * S)
    dirty.mark([Reading("s", f"m{i}", Quantity.POWER, 50 * S, 1.0) for i in range(3)])
    changes = dirty.take()
    assert len(changes.ranges) == 3 and changes.everything is None, "n0 gave its place up"
    assert not dirty.take()  # a quiet round: every place is given up
    # Live readings (from the open quarter hour on, as the worker says) count for every series.
    dirty.live_from(60 * S)
    dirty.mark([Reading("s", "n0", Quantity.POWER, t * S, 1.0) for t in (59, 61, 70)])
    changes = dirty.take()
    assert changes.ranges == {SeriesKey("s", "n0", Quantity.POWER): (59 * S, 59 * S)}
    assert changes.everything == (61 * S, 70 * S)


def test_tier_choice() -> None:
    from stadtpuls.rollup.planning import plan
    from stadtpuls.store import Aggregate

    hour, now = 3_600 * S, BASE + 400 * DAY
    covered = dict.fromkeys(TIERS, BASE - DAY)
    mean = [Aggregate.MEAN]
    year = (BASE, BASE + 365 * DAY)
    # Local days (offset -1 h): whole hours, not whole UTC days.
    assert plan(*year, DAY, -hour, mean, True, covered, now).tier is Tier.H1  # type: ignore[union-attr]
    assert plan(*year, DAY, 0, mean, True, covered, now).tier is Tier.D1  # type: ignore[union-attr]
    # A total over the range: one window, any offset; the daily tier and raw ends.
    total = plan(BASE + 7 * S, BASE + 30 * DAY, 30 * DAY, BASE + 7 * S, [Aggregate.COUNT],
                 False, covered, now)
    assert total is not None and (total.tier, total.a_ns, total.b_ns) == (
        Tier.D1, BASE + DAY, BASE + 30 * DAY)
    assert plan(*year, DAY, 0, [Aggregate.MAX], False, covered, now) is None, \
        "tiers hold plausible readings only"
    assert plan(*year, 7 * 60 * S, 0, mean, True, covered, now) is None, "7-min windows"
    assert plan(*year, DAY, 0, mean, True, {}, now) is None, "no tier is known complete"
    later = plan(*year, DAY, 0, mean, True, {Tier.D1: BASE + 100 * DAY + 1}, now)
    assert later is not None and later.a_ns == BASE + 101 * DAY, "raw before the coverage"
    recent = plan(now - 10 * DAY, now, DAY, 0, mean, True, covered, now)
    assert recent is not None and recent.b_ns == now - now % DAY - DAY, \
        "the window that closed less than 5 minutes ago is read raw"
