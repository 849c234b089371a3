"""Bench: a year at 15-minute steps for every sensor of every site in the catalogue.

Run: .venv/bin/python bench/bench_simulators.py [CATALOGUE] [--step 15m] [--seed 0]

Prints the wall time of the generation (numpy arrays for every sensor) and of turning the
result into `Reading` objects, with readings per second for each. The target is well under a
minute for both together (issue 3).
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from pathlib import Path

from simulators.generate import generate
from simulators.timespec import parse_duration
from stadtpuls.catalogue import load_catalogue

_DEFAULT = Path(__file__).resolve().parents[1] / "config" / "stuehlinger.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("catalogue", nargs="?", default=str(_DEFAULT))
    parser.add_argument("--step", default="15m")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--year", type=int, default=2025)
    args = parser.parse_args()

    t0 = time.perf_counter()
    import pvlib  # noqa: F401  (imported up front so its second of start-up is not counted)

    catalogue = load_catalogue(args.catalogue)
    step = parse_duration(args.step)
    start = datetime(args.year, 1, 1, tzinfo=UTC)
    end = datetime(args.year + 1, 1, 1, tzinfo=UTC)
    print(f"imports and catalogue: {time.perf_counter() - t0:.2f} s")

    total_generate = total_iterate = 0.0
    total_readings = 0
    for site in catalogue.sites:
        t1 = time.perf_counter()
        sim = generate(catalogue, site, start, end, step, args.seed)
        t2 = time.perf_counter()
        readings = sum(1 for _ in sim.readings())
        t3 = time.perf_counter()
        total_generate += t2 - t1
        total_iterate += t3 - t2
        total_readings += readings
        print(f"{site:<14} {len(sim.series):>3} sensors {readings:>10,} readings  "
              f"generate {t2 - t1:6.2f} s  Reading objects {t3 - t2:6.2f} s")
    both = total_generate + total_iterate
    print(f"{'all sites':<14} {total_readings:>26,} readings  generate {total_generate:6.2f} s"
          f"  Reading objects {total_iterate:6.2f} s")
    print(f"year at {args.step} steps: {both:.2f} s wall, "
          f"{total_readings / total_generate:,.0f} readings/s as arrays, "
          f"{total_readings / both:,.0f} readings/s as Reading objects")


if __name__ == "__main__":
    main()
