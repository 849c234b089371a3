"""The ingest's hot path for one site's messages, for counting cache misses per series.

Usage (one run per site; compare the two totals):
    valgrind --tool=cachegrind --cache-sim=yes --LL=2097152,16,64 \\
        .venv/bin/python bench/bench_hotpath_series.py few|many [--messages N]

Both runs build the same catalogue (`bench_scale.ingest_catalogue`: 41 and 10,000 power
sensors), decoder, and state tracker, and send every series of both sites through them once,
so they differ only in the measured part: N JSON messages of one site through decode and
validation (`MessageDecoder`), line encoding, the tracker and the roll-up marks (folded
once, as the worker's round does), in batches of 3,000 as the ingest does, with the
garbage collector settled as the ingest settles it. cachegrind counts instructions and
simulated misses, not seconds: the same figures whatever else the shared machine is doing
(docs/benchmarks.md, sessions 6 and 7).
Without valgrind it prints the seconds per message of each step (noisy on a shared host).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

from bench_scale import ingest_catalogue

from ingest.cli import settle_garbage_collector
from ingest.decoding import MessageDecoder
from stadtpuls.catalogue import load_catalogue
from stadtpuls.reading import Reading
from stadtpuls.rollup.dirty import DirtySeries
from stadtpuls.state.tracker import StateTracker
from stadtpuls.state.windows import catalogue_windows
from stadtpuls.store.line_protocol import encode_lines
from testkit.loadgen import json_payload, json_topic

SITES = {"few": 41, "many": 10_000}
BATCH = 3_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", choices=sorted(SITES))
    parser.add_argument("--messages", type=int, default=30_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stadtpuls-hotpath-") as tmp:
        catalogue = load_catalogue(ingest_catalogue(Path(tmp), SITES))
    decoder = MessageDecoder(catalogue)
    tracker = StateTracker(catalogue_windows(catalogue))
    dirty = DirtySeries()
    # Live readings, as a city sends them: timed a little before reception, after the start
    # of the open quarter hour as the roll-up worker tells the marks (`DirtySeries.live_from`).
    base_ms = time.time_ns() // 1_000_000 - 120_000
    dirty.live_from(base_ms * 1_000_000)
    now_ns = time.time_ns()

    def run(site: str, offset: int, count: int) -> dict[str, float]:
        n = SITES[site]
        messages = [(json_topic(site, i % n), json_payload(float(i), base_ms + offset + i))
                    for i in range(count)]
        t0 = time.perf_counter()
        readings: list[Reading] = []
        for topic, payload in messages:
            readings += decoder.decode(topic, payload, now_ns)
        t1 = time.perf_counter()
        for i in range(0, count, BATCH):
            encode_lines(readings[i:i + BATCH])
        t2 = time.perf_counter()
        for i in range(0, count, BATCH):
            tracker.add(readings[i:i + BATCH])
        t3 = time.perf_counter()
        for i in range(0, count, BATCH):
            dirty.mark(readings[i:i + BATCH])
        dirty.take()  # the roll-up worker's fold, once per round
        t4 = time.perf_counter()
        return {"decode": t1 - t0, "encode": t2 - t1, "track": t3 - t2, "mark": t4 - t3}

    run("few", 0, 10_000)  # every series of both sites seen once: caches and buckets exist
    run("many", 0, 10_000)
    settle_garbage_collector()  # as the ingest does once started
    took = run(args.site, 10_000, args.messages)
    print(f"{args.site} ({SITES[args.site]:,} series), {args.messages:,} messages: " + ", ".join(
        f"{step} {seconds / args.messages * 1e6:.2f} µs" for step, seconds in took.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
