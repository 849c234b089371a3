"""The site catalogue: the real Stühlinger file is valid, and mistakes read as one clear line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from stadtpuls.catalogue import CatalogueError, Role, load_catalogue
from stadtpuls.catalogue.loader import BUNDLED_CATALOGUE
from stadtpuls.units import Quantity

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "config" / "stuehlinger.yaml"


def _check(*files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stadtpuls.cli", "config", "check", *map(str, files)],
        capture_output=True, text=True, timeout=60,
    )


def test_stuehlinger_catalogue_is_valid_and_complete() -> None:
    result = _check(CATALOGUE)
    assert result.returncode == 0, result.stderr
    assert "ok (2 sites" in result.stdout

    cat = load_catalogue(CATALOGUE)
    site = cat.sites["stuehlinger"]
    assert site.timezone == "Europe/Berlin"
    assert abs(site.location.lat - 48.0002) < 1e-3 and abs(site.location.lon - 7.832) < 1e-3
    facade = [a for a in site.pv_arrays if a.kind == "facade"]
    roof = [a for a in site.pv_arrays if a.kind == "roof"]
    assert sum(a.modules for a in facade) == 880
    assert sum(a.peak_power_w for a in facade) == 220_000
    assert sum(a.peak_power_w for a in roof) == pytest.approx(440_000, rel=0.05)
    # Façade arrays go round the oval from north-east through south to north-west.
    assert {a.orientation for a in facade} == {"NE", "E", "SE", "S", "SW", "W", "NW"}
    roles = {s.role for s in site.sensors}
    assert {Role.PV_POWER, Role.CONSUMPTION_ENERGY, Role.GRID_IMPORT_ENERGY,
            Role.GRID_EXPORT_ENERGY, Role.IRRADIANCE, Role.ROOM_CO2} <= roles
    street = {s.quantity for s in cat.sites["freiburg"].sensors}
    assert {Quantity.COUNT, Quantity.PM2_5, Quantity.PM10, Quantity.NO2, Quantity.NOISE} <= street
    for _, sensor in cat.sensors():
        assert sensor.name.de and sensor.name.en and sensor.interval_s > 0


def test_four_mistakes_give_four_clear_lines(tmp_path: Path) -> None:
    text = CATALOGUE.read_text(encoding="utf-8")
    text = text.replace("        quantity: power\n", "        quantity: pwoer\n", 1)
    text = text.replace("        interval_s: 60\n", "        intervall_s: 60\n", 1)
    text = text.replace("plausible: {min: 0, max: 1000000000000.0}",
                        "plausible: {min: 100, max: 10}", 1)
    text = text.replace("      - id: building_power\n", "      -\n", 1)
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")

    result = _check(bad)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 4, result.stderr
    assert "Traceback" not in result.stderr
    assert all(line.startswith(f"{bad}:") for line in lines)
    quantity, typo, order, missing = lines
    assert "sites.stuehlinger.sensors[0].quantity: 'pwoer' is not allowed" in quantity
    assert "did you mean 'power'" in quantity and "'energy'" in quantity
    assert "sensors[0].intervall_s: unknown key (did you mean 'interval_s'?)" in typo
    assert "sensors[1].plausible: min (100) must be below max (10)" in order
    assert "sensors[20].id: required key is missing" in missing


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version: 1\nsites: [", "not valid YAML"),
        ("- a\n- b\n", "expected a mapping"),
        ("version: 1\nsites: {}\n", "sites: Dictionary should have at least 1 item"),
    ],
)
def test_unusable_files_are_one_line(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogueError) as info:
        load_catalogue(path)
    assert expected in str(info.value)
    assert len(str(info.value).splitlines()) == 1


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    result = _check(tmp_path / "nope.yaml")
    assert result.returncode == 1
    assert result.stderr.strip().endswith("cannot read the file: No such file or directory")


def test_cross_references_are_checked(tmp_path: Path) -> None:
    # Cross-field rules run once a site's fields are valid, so this file has only that mistake.
    text = CATALOGUE.read_text(encoding="utf-8")
    bad = tmp_path / "refs.yaml"
    bad.write_text(text.replace("inverter: inv_facade_ne\n", "inverter: inv_x\n", 1))
    result = _check(bad)
    assert result.returncode == 1
    assert "sites.stuehlinger: pv array 'facade_ne' names unknown inverter 'inv_x'" in result.stderr


def test_units_and_zones_are_checked(tmp_path: Path) -> None:
    text = CATALOGUE.read_text(encoding="utf-8")
    text = text.replace('        unit: "kWh"\n', '        unit: "kWhh"\n', 1)
    text = text.replace("    timezone: Europe/Berlin\n", "    timezone: Europe/Freiburg\n", 1)
    bad = tmp_path / "refs.yaml"
    bad.write_text(text, encoding="utf-8")
    result = _check(bad)
    assert result.returncode == 1
    err = result.stderr
    assert "unknown time zone 'Europe/Freiburg'" in err
    assert "unit 'kWhh' is not known for quantity 'energy'; use one of: Wh" in err


def test_the_package_ships_the_stuehlinger_catalogue() -> None:
    # The wheel holds a copy (the demo's fallback outside a checkout); it must be this file.
    assert BUNDLED_CATALOGUE.read_bytes() == CATALOGUE.read_bytes()


def test_the_plausible_range_includes_its_ends() -> None:
    sensor = next(s for _, s in load_catalogue(CATALOGUE).sensors()
                  if s.id == "weather_air_temperature")
    low, high = sensor.plausible.min, sensor.plausible.max
    assert sensor.is_plausible(low) and sensor.is_plausible(high)
    assert not sensor.is_plausible(low - 0.1) and not sensor.is_plausible(high + 0.1)
