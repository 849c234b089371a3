"""What influxd's write path costs per series and per field (the ingest ratio of issue 12).

Usage:  .venv/bin/python bench/bench_influx_fields.py [--rounds N]

Starts its own influxd (1.6.7, `testkit.servers`) and writes 100,000 points of one
measurement straight to its /write endpoint, in requests of 5,000 lines, spread over 41 or
over 10,000 series, with three line shapes: `value` plus both marks (the schema before
session 5), `value` plus `implausible` (what the ingest writes now for a registered sensor),
and `value` alone. Prints influxd's CPU seconds per 100,000 points (utime + stime from
/proc, including a settling second after the last request) and the minimum over the rounds;
the first round, which creates the series, is left out.
"""

from __future__ import annotations

import argparse
import http.client
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))

from _catchup import cpu_seconds, pid_of

from testkit.servers import InfluxServer

SHAPES = {"value + implausible + unregistered": ",implausible=false,unregistered=false ",
          "value + implausible": ",implausible=false ", "value": " "}
POINTS = 100_000
REQUEST = 5_000
T0 = 1_700_000_000_000_000_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    with InfluxServer() as influx:
        influx.create_database("fields")
        pid = pid_of(str(influx.workdir / "influxdb.conf"))
        conn = http.client.HTTPConnection(influx.host, influx.http_port, timeout=120)
        seconds: dict[tuple[str, int], list[float]] = {}
        offset = 0
        for round_no in range(args.rounds):
            for s, (shape, tail) in enumerate(SHAPES.items()):
                for n in (41, 10_000):
                    bodies = ["\n".join(
                        f"power,sensor=s{i % n},site=shape{s}n{n} value={float(i)!r}{tail}"
                        f"{T0 + (offset + i) * 1_000_000}"
                        for i in range(k, k + REQUEST)).encode()
                        for k in range(0, POINTS, REQUEST)]
                    before = cpu_seconds(pid)
                    for body in bodies:
                        conn.request("POST", "/write?db=fields", body=body)
                        response = conn.getresponse()
                        response.read()
                        if response.status != 204:
                            raise RuntimeError(f"write answered {response.status}")
                    time.sleep(1.0)
                    offset += POINTS
                    if round_no:
                        seconds.setdefault((shape, n), []).append(cpu_seconds(pid) - before)
    print(f"influxd CPU s per {POINTS:,} points, requests of {REQUEST:,} lines")
    for (shape, n), values in seconds.items():
        print(f"  {shape:36} {n:6,} series: min {min(values):.2f}  all "
              f"{' '.join(f'{v:.2f}' for v in values)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
