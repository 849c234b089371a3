"""Report timings: a month and a year report of the Stühlinger city hall, cold and warm.

March 2025 (plus three days before) of 1-minute simulated data in a SQLite store, as the
report tests use it. "cold" = a new cache (every store query runs), "warm" = the same
dashboard asked again (the cached months answer). The year report is run after the month
report with the same cache, as a facility manager would open them, and cold on its own.

Run: PYTHONPATH=. .venv/bin/python bench/bench_reports.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dashboard.data.report import ReportPeriod, site_report
from dashboard.data.source import DataSource
from stadtpuls.store.sqlite import SQLiteStore
from testkit.report_month import catalogue, simulate_march

AT = datetime(2025, 4, 2, 10, tzinfo=ZoneInfo("Europe/Berlin")).timestamp()
ROUNDS = 3


def main() -> None:
    cat = catalogue()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "march.db"
        simulate_march(path, cat)
        store = SQLiteStore(path)
        cold_month, warm_month, year_after, cold_year = [], [], [], []
        for _ in range(ROUNDS):
            source = DataSource.create(store, cat, clock=lambda: AT)
            t = time.perf_counter()
            site_report(source, "stuehlinger", ReportPeriod(2025, 3))
            cold_month.append(time.perf_counter() - t)
            t = time.perf_counter()
            site_report(source, "stuehlinger", ReportPeriod(2025, 3))
            warm_month.append(time.perf_counter() - t)
            t = time.perf_counter()
            site_report(source, "stuehlinger", ReportPeriod(2025))
            year_after.append(time.perf_counter() - t)
            fresh = DataSource.create(store, cat, clock=lambda: AT)
            t = time.perf_counter()
            site_report(fresh, "stuehlinger", ReportPeriod(2025))
            cold_year.append(time.perf_counter() - t)
        store.close()
    for name, values in (("month report, cold", cold_month), ("month report, warm", warm_month),
                         ("year report after the month", year_after),
                         ("year report, cold", cold_year)):
        print(f"{name:32s} median {statistics.median(values):6.2f} s "
              f"(min {min(values):.2f}, max {max(values):.2f}, {ROUNDS} rounds)")


if __name__ == "__main__":
    main()
