"""A generated city: 10,000 sensors in a catalogue, for the scale benches and tests.

`write_city(dir, sensors)` writes `city.yaml` with a few device templates and, per district,
a CSV file of its sensors (the catalogue form a city uses: docs/operations.md "Bringing
2,000 sensors in via CSV"); `write_city_yaml` writes the same sensors as plain YAML blocks.
Sensors are parking bays (count), air quality (CO2, NO2, PM2.5), temperature and noise,
spread over `districts` sites around Freiburg, one reading a minute.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import yaml

DISTRICTS = 10
KINDS: list[tuple[str, dict[str, Any]]] = [
    ("parking_bay", {"quantity": "count", "unit": "1", "interval_s": 60,
                     "plausible": {"min": 0, "max": 1}, "labels": {"kind": "parking"}}),
    ("air_co2", {"quantity": "co2", "unit": "ppm", "interval_s": 60,
                 "plausible": {"min": 300, "max": 5000}}),
    ("air_no2", {"quantity": "no2", "unit": "µg/m³", "interval_s": 60, "role": "no2",
                 "plausible": {"min": 0, "max": 1000}}),
    ("air_pm2_5", {"quantity": "pm2_5", "unit": "µg/m³", "interval_s": 60, "role": "pm2_5",
                   "plausible": {"min": 0, "max": 1000}}),
    ("street_temperature", {"quantity": "temperature", "unit": "°C", "interval_s": 60,
                            "plausible": {"min": -40, "max": 60}}),
    ("street_noise", {"quantity": "noise", "unit": "dB", "interval_s": 60, "role": "noise",
                      "plausible": {"min": 0, "max": 140}}),
]
NAMES = {"parking_bay": ("Parkplatz", "Parking bay"), "air_co2": ("CO₂", "CO₂"),
         "air_no2": ("NO₂", "NO₂"), "air_pm2_5": ("Feinstaub", "Particulates"),
         "street_temperature": ("Temperatur", "Temperature"),
         "street_noise": ("Lärm", "Noise")}


def _kind(i: int) -> str:
    # Half parking bays, the rest spread over the other kinds.
    return KINDS[0][0] if i % 2 == 0 else KINDS[1 + (i // 2) % (len(KINDS) - 1)][0]


def city_sensors(sensors: int, districts: int = DISTRICTS) -> dict[str, list[dict[str, Any]]]:
    """Per district id, its sensors as CSV rows (id, names, position, template)."""
    out: dict[str, list[dict[str, Any]]] = {f"d{d:02d}": [] for d in range(districts)}
    for i in range(sensors):
        d = i % districts
        kind = _kind(i)
        de, en = NAMES[kind]
        n = i // districts
        out[f"d{d:02d}"].append({
            "id": f"{kind}_{n:05d}", "name_de": f"{de} {n}", "name_en": f"{en} {n}",
            # A grid of about 1 km per district, 50 m apart.
            "lat": round(47.96 + 0.012 * (d // 4) + 0.00045 * (n % 20), 6),
            "lon": round(7.80 + 0.016 * (d % 4) + 0.00065 * (n // 20 % 20), 6),
            "template": kind,
        })
    return out


def _site(d: str) -> dict[str, Any]:
    num = int(d[1:])
    return {"name": {"de": f"Bezirk {num}", "en": f"District {num}"},
            "location": {"lat": 47.96 + 0.012 * (num // 4), "lon": 7.80 + 0.016 * (num % 4),
                         "altitude_m": 280},
            "timezone": "Europe/Berlin"}


def write_city(directory: Path, sensors: int = 10_000, districts: int = DISTRICTS) -> Path:
    """`city.yaml` with templates, each district's sensors in `<district>.csv`."""
    directory.mkdir(parents=True, exist_ok=True)
    sites: dict[str, Any] = {}
    for d, rows in city_sensors(sensors, districts).items():
        with (directory / f"{d}.csv").open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, ["id", "name_de", "name_en", "lat", "lon", "template"])
            writer.writeheader()
            writer.writerows(rows)
        sites[d] = {**_site(d), "sensors_csv": f"{d}.csv"}
    path = directory / "city.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "templates": dict(KINDS), "sites": sites},
                                   sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def write_city_yaml(path: Path, sensors: int = 10_000, districts: int = DISTRICTS) -> Path:
    """The same city with every sensor spelled out (the form before templates)."""
    templates = dict(KINDS)
    sites: dict[str, Any] = {}
    for d, rows in city_sensors(sensors, districts).items():
        sites[d] = {**_site(d), "sensors": [
            {"id": r["id"], "name": {"de": r["name_de"], "en": r["name_en"]},
             **templates[r["template"]], "position": {"lat": r["lat"], "lon": r["lon"]}}
            for r in rows]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"version": 1, "sites": sites}, sort_keys=False,
                                   allow_unicode=True), encoding="utf-8")
    return path


# --- readings ----------------------------------------------------------------------------

BASE = {"count": 0.0, "co2": 420.0, "no2": 25.0, "pm2_5": 8.0, "temperature": 12.0,
        "noise": 55.0}


def city_series(catalogue: Any) -> list[tuple[str, str, Any, int]]:
    """(site, sensor id, quantity, behaviour) per catalogued sensor: 0 normal, 1 silent for
    the last 30 minutes, 2 stuck (one value), 3 every other reading missing (incomplete)."""
    out = []
    for n, (site, sensor) in enumerate(catalogue.sensors()):
        kind = 1 if n % 53 == 0 else 2 if n % 59 == 0 else 3 if n % 61 == 0 else 0
        out.append((site, sensor.id, sensor.quantity, kind))
    return out


def city_values(quantity: str, kind: int, n: int, seed: int) -> list[float]:
    """n values a minute apart: small deterministic variation, constant when stuck."""
    base = BASE.get(quantity, 10.0)
    if kind == 2:
        return [base + 1.0] * n
    if quantity == "count":
        return [float((i * 7 + seed) % 3 == 0) for i in range(n)]
    return [round(base + ((i * 37 + seed * 11) % 100) / 25.0, 2) for i in range(n)]


def city_minutes(end_ns: int, minutes: int, kind: int) -> list[int]:
    """The minutes (ns) a series has readings for, ending just before `end_ns`."""
    step = 60_000_000_000
    last = end_ns - end_ns % step - (30 * step if kind == 1 else 0)
    times = [last - i * step for i in range(minutes)][::-1]
    return times[::2] if kind == 3 else times
