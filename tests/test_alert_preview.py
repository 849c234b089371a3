"""`stadtpuls alerts preview --simulate`: three simulated days with faults fire exactly the
faults the simulator injected, and a PV inverter stuck at 0 W in the night fires nothing."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

FAULTS = ("silent:weather_wind_speed@+12h/3h,"
          "stuck:room_sitzungssaal_co2@+1d12h/6h,"
          # 23:00–04:00 in Freiburg: the inverter reads 0 W anyway, flat is normal
          "stuck:pv_facade_s_power@2025-06-12T21:00:00Z/5h")


@pytest.mark.slow
def test_preview_of_simulated_days_lists_the_injected_faults() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "stadtpuls.cli", "alerts", "preview", "--simulate",
         "--catalogue", "config/stuehlinger.yaml", "--days", "3",
         "--end", "2025-06-13T12:00:00+00:00", "--faults", FAULTS],
        capture_output=True, text=True, timeout=280, check=False)
    assert done.returncode == 0, done.stderr
    injected = set(re.findall(r"^injected (\w+)\s+\S+/(\S+)", done.stdout, re.MULTILINE))
    assert injected == {("silent", "weather_wind_speed"), ("stuck", "room_sitzungssaal_co2"),
                        ("stuck", "pv_facade_s_power")}
    fired = re.findall(r"^fired\s+(\S+)\s+(\S+)/(\S+) \S+ (\S+) until (\S+)", done.stdout,
                       re.MULTILINE)
    assert {(rule, sensor) for rule, _, sensor, _, _ in fired} == {
        ("no_data", "weather_wind_speed"), ("stuck", "room_sitzungssaal_co2")}, done.stdout
    assert len(fired) == 2
    # both end when the fault ends, inside the three days
    assert all(until != "still" for *_, until in fired)
    assert "2 alerts from 2025-06-10T12:00+00:00 to 2025-06-13T12:00+00:00" in done.stdout
