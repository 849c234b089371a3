"""Lobby screens in the catalogue: the Stühlinger screens are valid; mistakes are one line."""

from __future__ import annotations

import subprocess
import sys
from datetime import time
from pathlib import Path

import pytest

from stadtpuls.catalogue import load_catalogue
from stadtpuls.catalogue.display import SCENE_TYPES, Night

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "config" / "stuehlinger.yaml"


def _check(file: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "stadtpuls.cli", "config", "check", str(file)],
                          capture_output=True, text=True, timeout=60)


def test_stuehlinger_lobby_screens() -> None:
    cat = load_catalogue(CATALOGUE)
    lobby = cat.displays["lobby"]
    assert lobby.site == "stuehlinger" and lobby.language == "de"
    assert [s.type for s in lobby.scenes][:3] == ["pv_now", "energy", "co2_avoided"]
    assert {s.site for s in lobby.scenes if s.type in ("air_quality", "bikes")} == {"freiburg"}
    assert lobby.night is not None and lobby.night.mode == "clock"
    assert "2 displays" in _check(CATALOGUE).stdout


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("type: bikes,", "type: bicycles,",
     "displays.lobby.scenes[6].type: 'bicycles' is not allowed; valid: 'pv_now'"),
    ('rooms: ["Bürgerservicezentrum"]', 'rooms: ["Foyer"]',
     "displays: display 'lobby-portrait': unknown rooms ['Foyer'] at site 'stuehlinger'"),
    ("type: pv_now, seconds: 15}", "type: pv_now, secs: 15}",
     "displays.lobby.scenes[0].secs: unknown key (did you mean 'seconds'?)"),
    ("    site: stuehlinger\n    description: \"Foyer",
     "    site: rathaus\n    description: \"Foyer",
     "display 'lobby' names unknown site 'rathaus'"),
    ('night: {from: "20:00", to: "06:30", mode: clock}',
     'night: {from: "20:00", to: "6:30", mode: clock}', "displays.lobby.night.to:"),
    ("mode: clock}", "mode: scenes}", "mode 'scenes' needs a 'scenes' list"),
    ("{type: energy, seconds: 12}", "{type: energy, seconds: 12, rooms: [Sitzungssaal]}",
     "'rooms' applies to indoor_air scenes only"),
])
def test_display_mistakes_are_one_clear_line(tmp_path: Path, old: str, new: str,
                                             expected: str) -> None:
    text = CATALOGUE.read_text(encoding="utf-8")
    assert old in text
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace(old, new, 1), encoding="utf-8")
    result = _check(bad)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], result.stderr


def test_night_across_midnight() -> None:
    night = Night.model_validate({"from": "22:00", "to": "06:00"})
    assert night.covers(time(23, 0)) and night.covers(time(5, 59)) and night.covers(time(22))
    assert not night.covers(time(6, 0)) and not night.covers(time(12))
    day = Night.model_validate({"from": "12:00", "to": "13:00"})
    assert day.covers(time(12, 30)) and not day.covers(time(13, 0))


def test_scene_types_listed_once() -> None:
    assert len(SCENE_TYPES) == len(set(SCENE_TYPES)) and "clock" in SCENE_TYPES
