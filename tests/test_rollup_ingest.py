"""A late reading that reaches the store through the real ingest's spool updates the roll-up
of its closed window (and the hourly and daily rows above it).

`stadtpuls ingest` runs as a subprocess against the real Mosquitto and InfluxDB (1.6.7 behind
the harness's v2-write route adapter); the store is stopped while the late reading arrives,
so it is spooled, and drained once the store is back.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ingest_procs import Ingest, Publisher, kill_leftovers, wait_for

from stadtpuls.reading import SeriesKey
from stadtpuls.rollup.tiers import TIERS, RollupRow, Tier, floor_to
from stadtpuls.store.influx import InfluxStore
from stadtpuls.units import Quantity
from testkit.loadgen import json_payload, json_topic, site_yaml, write_catalogue
from testkit.servers import InfluxServer, MosquittoServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MS = 1_000_000
MIN_MS = 60_000
NO_ROW = RollupRow(SeriesKey("", "", Quantity.POWER), 0, 0, 0, 0.0)


@pytest.fixture(autouse=True)
def _no_orphans() -> Iterator[None]:
    yield
    kill_leftovers()


def test_a_late_reading_drained_from_the_spool_updates_its_closed_window(
    tmp_path: Path, mosquitto: MosquittoServer, make_influx: Callable[[], InfluxServer],
) -> None:
    site = f"late{uuid.uuid4().hex[:8]}"
    catalogue = write_catalogue(tmp_path / "catalogue.yaml", {site: site_yaml(site, 1)})
    influx = make_influx()
    influx.create_database("late")
    store = InfluxStore(influx.url, "late/autogen", timeout_s=30)
    key = SeriesKey(site, "s0", Quantity.POWER)
    start = floor_to(time.time_ns() - 2 * 3_600 * 10**9, Tier.M15.width_ns)  # closed long ago
    start_ms = start // MS
    ingest = Ingest(tmp_path, mosquitto.url, influx.url, "late/autogen", catalogue,
                    f"stadtpuls/{site}/#", "ingest-late", "--rollup-period", "0.5")

    def rows() -> dict[Tier, RollupRow]:
        try:
            found = {t: store.rollups(t, [key], floor_to(start, t.width_ns), start + 1)
                     for t in TIERS}
        except Exception:  # the store is still starting
            return {}
        return {t: r[key][0] for t, r in found.items() if r.get(key)}

    on_time = [(json_topic(site, 0), json_payload(10.0 + i, start_ms + i * MIN_MS))
               for i in range(10)]
    pub = Publisher(mosquitto, on_time)
    pub.start()
    pub.finish()
    # The quarter hour and the hour closed long ago; the day may still be open, and open
    # windows are written when they close or when the ingest stops.
    closed = (Tier.M15, Tier.H1)
    wait_for(lambda: {t: rows().get(t, NO_ROW).count for t in closed} == dict.fromkeys(closed, 10),
             60, "the roll-ups of the first ten readings")

    influx.stop()
    late = Publisher(mosquitto, [(json_topic(site, 0), json_payload(1_000.0,
                                                                    start_ms + 12 * MIN_MS))])
    late.start()
    late.finish()
    wait_for(lambda: ingest.metric("stadtpuls_ingest_spool_depth") > 0, 60,
             "the late reading to be spooled")
    assert {t: r.count for t, r in rows().items()} == {}, "the store is down"
    influx.start()
    wait_for(lambda: ingest.metric("stadtpuls_ingest_spool_depth") == 0, 90, "the spool drained")
    wait_for(lambda: {t: (rows().get(t, NO_ROW).count, rows().get(t, NO_ROW).maximum)
                      for t in closed} == dict.fromkeys(closed, (11, 1_000.0)), 60,
             "the closed window's roll-ups updated")
    quarter = rows()[Tier.M15]
    assert quarter.mean == pytest.approx((sum(10.0 + i for i in range(10)) + 1_000.0) / 11,
                                         rel=1e-9)
    assert ingest.terminate() == 0
    assert {t: (r.count, r.maximum) for t, r in rows().items()} == dict.fromkeys(
        TIERS, (11, 1_000.0)), "the last round at stop writes the day as it is"
    assert "Traceback" not in ingest.log()
    store.close()
