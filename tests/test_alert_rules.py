"""Alert rules in the catalogue: layering of defaults, validation in `config check`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from stadtpuls.catalogue import CatalogueError, load_catalogue
from stadtpuls.units import Quantity

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "config" / "stuehlinger.yaml"


def _with_alerts(tmp_path: Path, alerts: object) -> Path:
    data = yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))
    data["alerts"] = alerts
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_layers_merge_field_by_field(tmp_path: Path) -> None:
    path = _with_alerts(tmp_path, {
        "defaults": {"no_data": {"for": "10m"}, "stuck": {"for": "5m"}},
        "quantities": {"co2": {"stuck": {"epsilon": 2}, "threshold": [{"above": 1400,
                                                                       "clear": 1200}]}},
        "sites": {"stuehlinger": {
            "quantities": {"co2": {"stuck": {"window": "3h"}}},
            "sensors": {"room_sitzungssaal_co2": {"threshold": [], "battery": {"enabled": False}}},
        }, "freiburg": {"no_data": {"severity": "critical"}}},
    })
    alerts = load_catalogue(path).alerts
    co2 = alerts.rules_for("stuehlinger", "room_buergerservice_co2", Quantity.CO2)
    assert co2.stuck is not None
    assert (co2.stuck.for_s, co2.stuck.epsilon, co2.stuck.window) == (300.0, 2.0, 10_800.0)
    assert co2.no_data is not None and co2.no_data.for_s == 600.0
    assert [t.rule_id for t in co2.threshold] == ["threshold:above_1400"]
    saal = alerts.rules_for("stuehlinger", "room_sitzungssaal_co2", Quantity.CO2)
    assert saal.threshold == [] and saal.battery is None and co2.battery is not None
    noise = alerts.rules_for("freiburg", "noise_bertoldsbrunnen", Quantity.NOISE)
    assert noise.no_data is not None
    assert (noise.no_data.severity, noise.no_data.for_s) == ("critical", 600.0)
    assert noise.threshold == [] and noise.stuck is not None and noise.stuck.window is None


def test_shipped_rules_are_few_lines_and_valid() -> None:
    alerts = load_catalogue(CATALOGUE).alerts
    assert {r.id for r in alerts.recipients} == {"facility", "it-ops"}
    rules = alerts.rules_for("stuehlinger", "room_buero_3og_co2", Quantity.CO2)
    assert rules.threshold[0].above == 1400 and rules.threshold[0].clear == 1200


def test_rule_mistakes_give_one_clear_line_each(tmp_path: Path) -> None:
    path = _with_alerts(tmp_path, {
        "defaults": {"no_data": {"for": "ten minutes"}},
        "quantities": {"co2": {"threshold": [{"above": 1000, "clear": 1100}]},
                       "temprature": {}},
        "recipients": [{"id": "x", "email": "a@b.org", "webhook": True}],
        "reminder": "4h",
        "sites": {"nowhere": {}},
    })
    result = subprocess.run([sys.executable, "-m", "stadtpuls.cli", "config", "check",
                             str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr
    assert len(lines) == 4, result.stderr
    text = "\n".join(lines)
    assert "alerts.defaults.no_data.for: " in text and "10m" in text
    assert "clear (1100) must not be above 'above' (1000)" in text
    assert "alerts.quantities.temprature" in text
    assert "recipient 'x' needs exactly one of 'email' or 'webhook: true'" in text


def test_unknown_site_in_rules_is_named(tmp_path: Path) -> None:
    path = _with_alerts(tmp_path, {"sites": {"nowhere": {}}})
    with pytest.raises(CatalogueError) as info:
        load_catalogue(path)
    assert "alerts.sites names unknown site 'nowhere'" in str(info.value)
