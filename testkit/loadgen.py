"""Synthetic sites and payloads for the ingest's integration tests and benchmark.

Every generated reading has a unique source timestamp (`base_ms + i` on its sensor), so
"exactly N stored, no duplicates" can be checked by counting points: a duplicate delivery
overwrites the same point, a lost one leaves a hole.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from stadtpuls import topics

SENML_RECORDS = 100


def site_yaml(site: str, sensors: int, *, senml: bool = False) -> dict[str, object]:
    """A catalogue site with `sensors` power sensors s0..s(n-1) (JSON or one SenML topic)."""
    entries = []
    for i in range(sensors):
        entry: dict[str, object] = {
            "id": f"s{i}",
            "name": {"de": f"Sensor {i}", "en": f"Sensor {i}"},
            "quantity": "power",
            "unit": "W",
            "position": {"lat": 48.0, "lon": 7.8},
            "interval_s": 1,
            "plausible": {"min": -1e12, "max": 1e12},
        }
        if senml:
            entry["decoder"] = "senml"
            entry["topic"] = topics.senml_topic(site)
        entries.append(entry)
    return {
        "name": {"de": site, "en": site},
        "location": {"lat": 48.0, "lon": 7.8},
        "timezone": "Europe/Berlin",
        "sensors": entries,
    }


def write_catalogue(path: Path, sites: dict[str, dict[str, object]]) -> Path:
    path.write_text(yaml.safe_dump({"version": 1, "sites": sites}, sort_keys=False))
    return path


def json_topic(site: str, sensor: int) -> str:
    return topics.sensor_topic(site, f"s{sensor}")


def json_payload(value: float, ts_ms: int) -> bytes:
    return b'{"value":%r,"ts":%d}' % (value, ts_ms)


def senml_pack(ts_s: float, sensors: int = SENML_RECORDS, value: float = 1.0) -> bytes:
    """One record per sensor s0..s(n-1), all at base time `ts_s` (seconds)."""
    records: list[dict[str, object]] = [{"bt": ts_s, "bu": "W", "n": "s0", "v": value}]
    records += [{"n": f"s{i}", "v": value + i} for i in range(1, sensors)]
    return json.dumps(records, separators=(",", ":")).encode()
