"""Open-data classification in the catalogue: closed by default, licence required when public."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from stadtpuls.catalogue import load_catalogue

CATALOGUE = Path(__file__).resolve().parents[1] / "config" / "stuehlinger.yaml"


def test_shipped_catalogue_publishes_energy_but_not_rooms() -> None:
    catalogue = load_catalogue(CATALOGUE)
    public = {(site, sensor.id) for site, sensor, _ in catalogue.public_sensors()}
    assert ("stuehlinger", "pv_facade_ne_power") in public
    assert ("freiburg", "bike_wiwili") in public
    assert not any(sensor.startswith("room_") for _, sensor in public)
    chamber = catalogue.sensor("stuehlinger", "room_sitzungssaal_co2")
    assert chamber is not None
    assert catalogue.sites["stuehlinger"].publication(chamber).data_class == "personal"
    for _, _, publication in catalogue.public_sensors():
        assert publication.licence_uri is not None
        assert publication.licence_uri.startswith("http://dcat-ap.de/def/licenses/")


def test_a_site_without_classification_publishes_nothing(tmp_path: Path) -> None:
    text = CATALOGUE.read_text(encoding="utf-8")
    text = text.replace("    data_class: public\n    licence: dl-de/by-2-0\n", "")
    path = tmp_path / "closed.yaml"
    path.write_text(text, encoding="utf-8")
    assert list(load_catalogue(path).public_sensors()) == []


def test_public_sensor_without_licence_is_one_clear_line(tmp_path: Path) -> None:
    text = CATALOGUE.read_text(encoding="utf-8")
    text = text.replace("    data_class: public\n    licence: dl-de/by-2-0\n",
                        "    data_class: public\n", 1)
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "stadtpuls.cli", "config", "check", str(path)],
                            capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"{path}:" in lines[0]
    assert "'pv_facade_ne_power' is public but has no licence" in lines[0]
    assert "dl-de/by-2-0" in lines[0]


def test_a_sensor_can_close_what_its_site_publishes(tmp_path: Path) -> None:
    catalogue = load_catalogue(CATALOGUE)
    site = catalogue.sites["stuehlinger"]
    sensor = catalogue.sensor("stuehlinger", "room_buero_3og_co2")
    assert sensor is not None
    assert site.data_class == "public"
    assert not site.publication(sensor).is_public
