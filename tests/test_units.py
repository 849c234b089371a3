"""Units are converted once, at the boundary; an unknown unit is an error, not a guess."""

from __future__ import annotations

import pytest

from stadtpuls.units import CANONICAL_UNIT, Quantity, UnitError, known_units, to_canonical


@pytest.mark.parametrize(
    ("quantity", "value", "unit", "expected"),
    [
        (Quantity.POWER, 2.5, "kW", 2500.0),
        (Quantity.POWER, 1.0, "MW", 1e6),
        (Quantity.ENERGY, 1.5, "kWh", 1500.0),
        (Quantity.ENERGY, 3600.0, "J", 1.0),
        (Quantity.ENERGY, 3.6, "MJ", 1000.0),
        (Quantity.TEMPERATURE, 212.0, "°F", 100.0),
        (Quantity.TEMPERATURE, 32.0, "degF", 0.0),
        (Quantity.TEMPERATURE, 273.15, "K", 0.0),
        (Quantity.TEMPERATURE, 21.5, "Cel", 21.5),
        (Quantity.HUMIDITY, 0.45, "/", 45.0),
        (Quantity.PM2_5, 0.012, "mg/m3", 12.0),
        (Quantity.WIND_SPEED, 36.0, "km/h", 10.0),
        (Quantity.IRRADIANCE, 800.0, "W/m2", 800.0),
        (Quantity.POWER, 7.0, None, 7.0),
    ],
)
def test_conversions(quantity: Quantity, value: float, unit: str | None, expected: float) -> None:
    assert to_canonical(quantity, value, unit) == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_unknown_unit_names_the_valid_ones() -> None:
    with pytest.raises(UnitError) as info:
        to_canonical(Quantity.ENERGY, 1.0, "kwh")
    assert "unit 'kwh' is not known for quantity 'energy'" in str(info.value)
    assert "Wh, J, MJ, MWh, kJ, kWh" in str(info.value)


def test_every_quantity_accepts_its_canonical_unit() -> None:
    for quantity in Quantity:
        assert known_units(quantity)[0] == CANONICAL_UNIT[quantity]
        assert to_canonical(quantity, 1.25, CANONICAL_UNIT[quantity]) == 1.25


def test_every_quantity_has_its_unit_for_machines_and_people() -> None:
    from stadtpuls.units import CANONICAL_UNIT, UNIT_NAME, UNIT_UCUM

    assert set(UNIT_UCUM) == set(UNIT_NAME) == set(CANONICAL_UNIT) == set(Quantity)
    # UCUM writes the symbols plainly (ASCII); the canonical units keep their typography.
    assert all(code.isascii() and code for code in UNIT_UCUM.values())
    assert UNIT_UCUM[Quantity.TEMPERATURE] == "Cel" and UNIT_UCUM[Quantity.ENERGY] == "W.h"
