"""`stadtpuls simulate` against the session's Mosquitto: CLI wiring, backfill, clean stop."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from simulators.faults import FaultKind, FaultPlan
from simulators.generate import Carry, generate
from simulators.publisher import BrokerError, MqttSender
from stadtpuls import cli
from stadtpuls.catalogue import load_catalogue

CATALOGUE = Path(__file__).resolve().parents[1] / "config" / "stuehlinger.yaml"
REPO = CATALOGUE.parents[1]


def test_broker_urls() -> None:
    plain = MqttSender("mqtt://127.0.0.1:1884", "t").address
    assert (plain.host, plain.port, plain.tls, plain.username) == ("127.0.0.1", 1884, False, None)
    tls = MqttSender("mqtts://sim:s%40cret@broker.example", "t").address
    assert (tls.port, tls.tls, tls.username, tls.password) == (8883, True, "sim", "s@cret")
    with pytest.raises(BrokerError, match="use mqtt://host:port"):
        MqttSender("http://broker", "t")


def test_window_faults_are_recorded_once_across_chunks() -> None:
    """The publisher generates a run in chunks; a stuck sensor stays stuck at one value."""
    catalogue = load_catalogue(CATALOGUE)
    start = datetime(2025, 6, 3, tzinfo=UTC)
    plan = FaultPlan.parse("stuck:room_sitzungssaal_co2@+2h,silent:weather_wind_speed@+3h/6h"
                           ).for_run(start, start + timedelta(hours=12))
    carry = Carry()
    chunks = [generate(catalogue, "stuehlinger", start + timedelta(hours=h),
                       start + timedelta(hours=h + 4), timedelta(minutes=1), 0, plan, carry)
              for h in (0, 4, 8)]
    faults = [f for sim in chunks for f in sim.faults]
    assert sorted(f.kind for f in faults) == [FaultKind.SILENT, FaultKind.STUCK]
    co2 = np.concatenate([sim.series["room_sitzungssaal_co2"].values for sim in chunks])
    assert np.unique(co2[120:]).size == 1
    wind = sum(sim.series["weather_wind_speed"].times_ns.size for sim in chunks)
    assert wind == 12 * 60 - 6 * 60


@pytest.mark.integration
def test_cli_publishes_and_prints_its_summary(
    mosquitto: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["simulate", "--catalogue", str(CATALOGUE), "--mqtt-url", mosquitto.url,
                     "--site", "freiburg", "--start", "2025-06-03T10:00", "--duration", "30m",
                     "--speed", "1e6", "--faults", "duplicates:noise_bertoldsbrunnen~0.5"])
    out = capsys.readouterr().out
    assert code == 0
    assert "noise_bertoldsbrunnen" in out and "bike_wiwili" in out
    assert "done:" in out and "faults injected:" in out and "duplicates" in out


@pytest.mark.integration
def test_backfill_then_live_until_sigterm(mosquitto: Any) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "stadtpuls.cli", "simulate", "--catalogue", str(CATALOGUE),
         "--mqtt-url", mosquitto.url, "--site", "freiburg", "--backfill", "6h"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stderr is not None
        sel = selectors.DefaultSelector()
        sel.register(proc.stderr, selectors.EVENT_READ)
        err = ""
        deadline = time.monotonic() + 30
        while "backfill done" not in err and time.monotonic() < deadline:
            if sel.select(timeout=0.5):
                line = proc.stderr.readline()
                if not line:
                    break
                err += line
        assert "backfill done" in err, err
        assert "backfill  50 %" in err  # a progress report on the way
        proc.send_signal(signal.SIGTERM)
        out, rest = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, rest
    assert "interrupted:" in out and "bike_wiwili" in out
    assert "Traceback" not in rest
