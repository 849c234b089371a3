"""Catalogue templates and CSV import: what they build, and problems that name file:line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from stadtpuls.catalogue import CatalogueError, load_catalogue
from stadtpuls.units import Quantity
from testkit.city import write_city

CATALOGUE = """\
version: 1
templates:
  parking_bay:
    quantity: count
    unit: "1"
    interval_s: 300
    plausible: {min: 0, max: 1}
    labels: {kind: parking}
    data_class: public
    licence: dl-de/by-2-0
  air:
    quantity: co2
    unit: ppm
    interval_s: 60
    plausible: {min: 300, max: 5000}
sites:
  mitte:
    name: {de: Mitte, en: Centre}
    location: {lat: 48.0, lon: 7.85}
    timezone: Europe/Berlin
    sensors_csv: parking.csv
    sensors:
      - id: rathaus_co2
        template: air
        name: {de: Rathaus CO2, en: City hall CO2}
        position: {lat: 48.0, lon: 7.85}
        labels: {room: saal}
"""

CSV = """\
id,name_de,name_en,lat,lon,template,interval_s,description
bay_1,Platz 1,Bay 1,48.001,7.851,parking_bay,,
bay_2,Platz 2,Bay 2,48.002,7.852,parking_bay,60,Einfahrt Nord
"""


def _write(tmp_path: Path, catalogue: str = CATALOGUE, rows: str = CSV) -> Path:
    (tmp_path / "parking.csv").write_text(rows, encoding="utf-8")
    path = tmp_path / "city.yaml"
    path.write_text(catalogue, encoding="utf-8")
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(CatalogueError) as info:
        load_catalogue(path)
    return [str(p) for p in info.value.problems]


def test_templates_and_csv_rows_become_sensors(tmp_path: Path) -> None:
    catalogue = load_catalogue(_write(tmp_path))
    site = catalogue.sites["mitte"]
    by_id = {s.id: s for s in site.sensors}
    assert list(by_id) == ["rathaus_co2", "bay_1", "bay_2"]
    co2 = by_id["rathaus_co2"]
    assert (co2.quantity, co2.unit, co2.interval_s, co2.labels) == (
        Quantity.CO2, "ppm", 60, {"room": "saal"})
    bay1, bay2 = by_id["bay_1"], by_id["bay_2"]
    assert (bay1.quantity, bay1.interval_s, bay1.labels) == (Quantity.COUNT, 300,
                                                             {"kind": "parking"})
    assert (bay1.name.de, bay1.name.en, bay1.position.lat, bay1.position.lon) == (
        "Platz 1", "Bay 1", 48.001, 7.851)
    assert (bay2.interval_s, bay2.position.description) == (60, "Einfahrt Nord")
    # Templates carry the open-data classification.
    assert site.publication(bay1).is_public and not site.publication(co2).is_public


@pytest.mark.parametrize(("rows", "expected"), [
    (CSV + "bay_3,Platz 3,Bay 3,91,7.85,parking_bay,,\n",
     "parking.csv:4: lat: 91 is outside -90..90"),
    (CSV + "bay_3,Platz 3,Bay 3,48.0,x,parking_bay,,\n",
     "parking.csv:4: lon: 'x' is not a number"),
    (CSV + "bay_1,Platz 1,Bay 1,48.0,7.85,parking_bay,,\n",
     "parking.csv:4: id: sensor id 'bay_1' is used twice in site"),
    (CSV + "Bay_3,Platz 3,Bay 3,48.0,7.85,parking_bay,,\n",
     "parking.csv:4: id: 'Bay_3' is not a valid id"),
    (CSV + "bay_3,Platz 3,Bay 3,48.0,7.85,parking_lot,,\n",
     "parking.csv:4: template: unknown template 'parking_lot'; known: air, parking_bay"),
    (CSV + "bay_3,Platz 3,Bay 3,48.0,7.85,parking_bay,-5,\n",
     "parking.csv:4: interval_s: Input should be greater than 0"),
    (CSV + "bay_3,Platz 3,48.0,7.85,parking_bay,,\n",
     "parking.csv:4: 7 cells, the header has 8"),
    ("id,name,lat,lon,template\n",
     "parking.csv:1: header: missing column(s) name_de, name_en; unknown column(s) name"),
])
def test_csv_problems_name_the_file_and_line(tmp_path: Path, rows: str, expected: str) -> None:
    problems = _problems(_write(tmp_path, rows=rows))
    assert len(problems) == 1, problems
    assert str(tmp_path / expected.split(":")[0]) + ":" in problems[0]
    assert problems[0].split("/")[-1].startswith(expected), problems


def test_template_problems_name_the_catalogue_line(tmp_path: Path) -> None:
    bad_unit = CATALOGUE.replace('unit: "1"', "unit: furlongs")
    problems = _problems(_write(tmp_path, bad_unit))
    assert problems[0].startswith(f"{tmp_path / 'city.yaml'}:3: templates.parking_bay: ")
    assert "furlongs" in problems[0]
    # Each row of the broken template says so too, at its own line.
    assert any(p.endswith("template: template 'parking_bay' has problems (see above)")
               and "parking.csv:2:" in p for p in problems)
    typo = CATALOGUE.replace("interval_s: 300", "intervall_s: 300")
    problems = _problems(_write(tmp_path, typo))
    assert problems[0].startswith(f"{tmp_path / 'city.yaml'}:6: "
                                  "templates.parking_bay.intervall_s: unknown key "
                                  "(did you mean 'interval_s'?)"), problems


def test_a_yaml_sensor_with_an_unknown_template_and_a_missing_csv(tmp_path: Path) -> None:
    text = CATALOGUE.replace("template: air", "template: aer")
    (tmp_path / "city.yaml").write_text(text.replace("parking.csv", "nowhere.csv"))
    problems = _problems(tmp_path / "city.yaml")
    assert problems == [
        f"{tmp_path / 'city.yaml'}:21: sites.mitte.sensors_csv: cannot read "
        f"{tmp_path / 'nowhere.csv'}: No such file or directory",
        f"{tmp_path / 'city.yaml'}:24: sites.mitte.sensors[0].template: unknown template "
        "'aer'; known: air, parking_bay",
    ]


def test_the_generated_city_has_ten_thousand_sensors(tmp_path: Path) -> None:
    path = write_city(tmp_path / "city", 10_000)
    catalogue = load_catalogue(path)
    assert sum(1 for _ in catalogue.sensors()) == 10_000
    assert len(catalogue.sites) == 10
    assert "sensors_csv" in yaml.safe_load(path.read_text())["sites"]["d00"]
