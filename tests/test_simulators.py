"""Simulators: determinism, calendar, catalogue-driven roles, value faults and the CLI."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from simulators.calendar import bw_holidays, easter_sunday
from simulators.faults import (
    METER_ROLES,
    FaultKind,
    FaultPlan,
    FaultPlanError,
)
from simulators.generate import Carry, SimulationError, SiteSimulation, generate
from simulators.noise import Streams
from simulators.timespec import parse_duration, parse_instant
from stadtpuls import cli
from stadtpuls.catalogue import Catalogue, load_catalogue
from stadtpuls.catalogue.models import Role, Sensor
from stadtpuls.units import Quantity

CATALOGUE = Path(__file__).resolve().parents[1] / "config" / "stuehlinger.yaml"
DAY = datetime(2025, 6, 3, tzinfo=UTC)  # a Tuesday
MINUTE = timedelta(minutes=1)


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(CATALOGUE)


def _day(catalogue: Catalogue, site: str = "stuehlinger", seed: int = 0,
         faults: str | None = None, start: datetime = DAY,
         length: timedelta = timedelta(days=1)) -> SiteSimulation:
    plan = FaultPlan.parse(faults) if faults else None
    return generate(catalogue, site, start, start + length, MINUTE, seed, plan)


def _same(a: SiteSimulation, b: SiteSimulation) -> bool:
    return a.series.keys() == b.series.keys() and all(
        np.array_equal(a.series[k].times_ns, b.series[k].times_ns)
        and np.array_equal(a.series[k].values, b.series[k].values)
        for k in a.series
    )


# --- determinism ------------------------------------------------------------------------------


@pytest.mark.parametrize("site", ["stuehlinger", "freiburg"])
def test_same_seed_same_data_other_seed_other_data(catalogue: Catalogue, site: str) -> None:
    first, again = _day(catalogue, site, 5), _day(catalogue, site, 5)
    other = _day(catalogue, site, 6)
    assert _same(first, again)
    assert list(first.readings()) == list(again.readings())
    assert not _same(first, other)


def test_a_window_equals_that_part_of_a_longer_run(catalogue: Catalogue) -> None:
    """Randomness is addressed by absolute time: a backfill and a live run join seamlessly."""
    week = _day(catalogue, seed=3, start=datetime(2025, 6, 1, tzinfo=UTC),
                length=timedelta(days=7))
    day = _day(catalogue, seed=3)
    for sensor_id, series in day.series.items():
        if series.sensor.role in METER_ROLES:
            continue  # meters start from a plausible reading unless carried over
        longer = week.series[sensor_id]
        inside = np.isin(longer.times_ns, series.times_ns)
        # Indoor climate starts from equilibrium a day earlier: equal within a resolution step.
        tolerance = 0.11 if series.sensor.role in (Role.ROOM_TEMPERATURE, Role.ROOM_HUMIDITY,
                                                   Role.ROOM_CO2) else 0.0
        assert np.allclose(longer.values[inside], series.values, atol=tolerance, rtol=0), sensor_id


def test_readings_are_sorted_by_time_and_in_canonical_units(catalogue: Catalogue) -> None:
    sim = _day(catalogue, start=DAY + timedelta(hours=10), length=timedelta(hours=2))
    readings = list(sim.readings())
    assert len(readings) == sim.reading_count()
    assert [r.time_ns for r in readings] == sorted(r.time_ns for r in readings)
    by_sensor = {r.sensor: r for r in readings}
    # The roof arrays' catalogue unit is kW; readings are in W.
    assert by_sensor["pv_roof_south_a_power"].quantity is Quantity.POWER
    assert sim.series["pv_roof_south_a_power"].values.max() > 1_000
    assert by_sensor["building_energy"].value > 1e9  # Wh, not kWh


def test_each_sensor_reports_at_its_interval_on_epoch_aligned_times(catalogue: Catalogue) -> None:
    sim = _day(catalogue)
    for series in sim.series.values():
        interval = int(series.sensor.interval_s)
        assert series.times_ns.size == 86_400 // interval, series.sensor.id
        assert (series.times_ns % (interval * 1_000_000_000) == 0).all()


def test_the_step_rounds_intervals_up_to_whole_steps(catalogue: Catalogue) -> None:
    sim = generate(catalogue, "freiburg", DAY, DAY + timedelta(days=1), timedelta(minutes=15), 0)
    assert sim.series["noise_bertoldsbrunnen"].period_s == 900  # 60 s at 15-min steps
    assert sim.series["air_schwarzwald_no2"].period_s == 900  # 600 s rounded up


def test_streams_are_addressed_by_absolute_index() -> None:
    s = Streams(11)
    whole = s.normal("x", 100, 50)
    assert np.array_equal(whole[20:30], s.normal("x", 120, 10))
    assert not np.array_equal(whole, s.normal("y", 100, 50))
    smooth = s.smooth("z", np.arange(0, 86_400 * 10, 900, dtype=np.int64), 86_400, stratify=5)
    assert abs(smooth.mean()) < 0.5 and 0.5 < smooth.std() < 1.5


# --- the models behave like the city ------------------------------------------------------------


def test_easter_and_the_holidays_of_baden_wuerttemberg() -> None:
    assert easter_sunday(2024) == date(2024, 3, 31)
    assert easter_sunday(2025) == date(2025, 4, 20)
    assert easter_sunday(2026) == date(2026, 4, 5)
    h = bw_holidays(2025)
    assert h[date(2025, 4, 18)] == "Karfreitag"
    assert h[date(2025, 5, 29)] == "Christi Himmelfahrt"
    assert h[date(2025, 6, 19)] == "Fronleichnam"
    assert h[date(2025, 1, 6)] == "Heilige Drei Könige"
    assert len(h) == 12


def test_co2_rises_with_occupancy_and_bikes_peak_at_commuting_time(catalogue: Catalogue) -> None:
    sim = _day(catalogue)
    co2 = sim.series["room_buero_3og_co2"]
    hour = (co2.times_ns // 3_600_000_000_000) % 24  # UTC; local is UTC+2 in June
    assert co2.values[hour == 9].mean() > co2.values[hour == 1].mean() + 150
    street = _day(catalogue, "freiburg")
    bikes = street.series["bike_wiwili"]
    hour = (bikes.times_ns // 3_600_000_000_000) % 24
    morning_peak = bikes.values[hour == 5].sum() + bikes.values[hour == 6].sum()  # 7-9 local
    night = bikes.values[hour == 1].sum() + bikes.values[hour == 2].sum()
    assert morning_peak > 10 * night
    assert 3_000 < bikes.values.sum() < 25_000


def test_a_new_sensor_in_the_catalogue_needs_no_code(catalogue: Catalogue) -> None:
    site = catalogue.sites["stuehlinger"]
    template = next(s for s in site.sensors if s.id == "room_sitzungssaal_co2")
    new = template.model_copy(update={"id": "room_kantine_co2", "room": "Kantine"})
    bikes = catalogue.sites["freiburg"].sensors[0]
    bike2 = bikes.model_copy(update={"id": "bike_dreisam"})
    changed = catalogue.model_copy(update={"sites": {
        "stuehlinger": site.model_copy(update={"sensors": [*site.sensors, new]}),
        "freiburg": catalogue.sites["freiburg"].model_copy(
            update={"sensors": [*catalogue.sites["freiburg"].sensors, bike2]}),
    }})
    sim = generate(changed, "stuehlinger", DAY, DAY + timedelta(hours=12), MINUTE, 0)
    assert sim.series["room_kantine_co2"].values.size == 144
    assert not np.array_equal(sim.series["room_kantine_co2"].values,
                              sim.series["room_sitzungssaal_co2"].values)
    street = generate(changed, "freiburg", DAY, DAY + timedelta(hours=12), MINUTE, 0)
    assert street.series["bike_dreisam"].values.sum() > 0


def _without_role(catalogue: Catalogue, sensor_id: str) -> Catalogue:
    site = catalogue.sites["freiburg"]
    sensors = [s.model_copy(update={"role": None}) if s.id == sensor_id else s
               for s in site.sensors]
    return catalogue.model_copy(update={"sites": {
        **catalogue.sites, "freiburg": site.model_copy(update={"sensors": sensors})}})


def test_a_sensor_without_a_role_gets_an_error_naming_it(catalogue: Catalogue) -> None:
    broken = _without_role(catalogue, "noise_bertoldsbrunnen")
    with pytest.raises(SimulationError, match="freiburg/noise_bertoldsbrunnen has no role"):
        generate(broken, "freiburg", DAY, DAY + timedelta(hours=1), MINUTE, 0)


def test_an_unknown_site_is_named(catalogue: Catalogue) -> None:
    with pytest.raises(SimulationError, match=r"no site 'mars'.*stuehlinger, freiburg"):
        generate(catalogue, "mars", DAY, DAY + timedelta(hours=1), MINUTE, 0)


# --- meters across windows ----------------------------------------------------------------------


def test_carry_continues_meters_from_one_window_to_the_next(catalogue: Catalogue) -> None:
    carry = Carry()
    first = generate(catalogue, "stuehlinger", DAY, DAY + timedelta(hours=6), MINUTE, 0,
                     carry=carry)
    second = generate(catalogue, "stuehlinger", DAY + timedelta(hours=6),
                      DAY + timedelta(hours=12), MINUTE, 0, carry=carry)
    whole = generate(catalogue, "stuehlinger", DAY, DAY + timedelta(hours=12), MINUTE, 0)
    for sensor_id in ("building_energy", "pv_roof_centre_energy", "grid_import_energy"):
        joined = np.concatenate([first.series[sensor_id].values,
                                 second.series[sensor_id].values])
        assert np.allclose(joined, whole.series[sensor_id].values, atol=1.0), sensor_id


# --- value faults -------------------------------------------------------------------------------

FAULTY = {
    FaultKind.SILENT: "silent:pv_facade_ne_power@2025-06-03T10:00/2h",
    FaultKind.STUCK: "stuck:room_sitzungssaal_co2@+6h/3h",
    FaultKind.SPIKES: "spikes:weather_air_temperature~0.05",
    FaultKind.IMPLAUSIBLE: "implausible:building_power",
    FaultKind.METER_RESET: "meter_reset:grid_import_energy@2025-06-03T12:00",
}


@pytest.fixture(scope="module")
def clean(catalogue: Catalogue) -> SiteSimulation:
    return _day(catalogue)


@pytest.mark.parametrize("kind", list(FAULTY))
def test_each_value_fault_appears_when_enabled(
    catalogue: Catalogue, clean: SiteSimulation, kind: FaultKind
) -> None:
    spec = FAULTY[kind]
    sensor_id = spec.split(":")[1].split("@")[0].split("~")[0]
    sim = _day(catalogue, faults=spec)
    faults = [f for f in sim.faults if f.kind is kind]
    assert faults and {f.sensor for f in faults} == {sensor_id}
    assert {f.kind for f in sim.faults} == {kind}
    hit, before = sim.series[sensor_id], clean.series[sensor_id]
    for other in sim.series:
        if other != sensor_id:
            assert np.array_equal(sim.series[other].values, clean.series[other].values), other
    if kind is FaultKind.SILENT:
        gap = (before.times_ns >= _ns("2025-06-03T10:00")) & (before.times_ns < _ns(
            "2025-06-03T12:00"))
        assert hit.times_ns.size == before.times_ns.size - gap.sum() == 1440 - 120
        assert not np.isin(before.times_ns[gap], hit.times_ns).any()
    elif kind is FaultKind.STUCK:
        window = (hit.times_ns >= _ns("2025-06-03T06:00")) & (hit.times_ns < _ns(
            "2025-06-03T09:00"))
        assert np.unique(hit.values[window]).size == 1
        assert np.unique(before.values[window]).size > 5
    elif kind is FaultKind.SPIKES:
        changed = hit.values != before.values
        assert changed.sum() == len(faults) > 20
        assert (np.abs(hit.values[changed] - before.values[changed]) > 10).all()
    elif kind is FaultKind.IMPLAUSIBLE:
        outside = ~np.vectorize(hit.sensor.is_plausible)(hit.values)
        assert outside.sum() == 1 == len(faults)
        assert hit.times_ns[outside][0] == faults[0].time_ns == _ns("2025-06-03T12:00")
    else:
        drops = np.flatnonzero(np.diff(hit.values) < 0)
        assert drops.size == 1 and len(faults) == 1
        assert hit.values[drops[0] + 1] == 0
        assert hit.times_ns[drops[0] + 1] == faults[0].time_ns == _ns("2025-06-03T12:00")


def test_no_fault_appears_when_none_is_enabled(catalogue: Catalogue, clean: SiteSimulation) -> None:
    assert clean.faults == ()
    empty = _day(catalogue, faults="")
    assert empty.faults == () and _same(empty, clean)
    for series in clean.series.values():
        assert all(map(series.sensor.is_plausible, series.values)), series.sensor.id
        if series.sensor.role in METER_ROLES:
            assert (np.diff(series.values) >= 0).all()


def test_wildcard_faults_leave_meters_counting_up(catalogue: Catalogue) -> None:
    sim = _day(catalogue, faults="spikes:*~0.05,implausible:*~0.01,stuck:*@+3h/1h")
    assert {f.kind for f in sim.faults} == {FaultKind.SPIKES, FaultKind.IMPLAUSIBLE,
                                            FaultKind.STUCK}
    for series in sim.series.values():
        if series.sensor.role in METER_ROLES:
            assert (np.diff(series.values) >= 0).all(), series.sensor.id


def test_fault_plan_syntax() -> None:
    plan = FaultPlan.parse(
        "silent:pv_facade_ne_power@2025-06-01T10:00/2h,stuck:room_sitzungssaal_co2,"
        "spikes:weather_air_temperature~0.05,implausible:building_power,"
        "meter_reset:grid_import_energy,duplicates:*,out_of_order:*,malformed:0.01"
    )
    kinds = [s.kind for s in plan.specs]
    assert kinds == list(FaultKind)
    silent = plan.specs[0]
    assert silent.sensor == "pv_facade_ne_power"
    assert silent.start == datetime(2025, 6, 1, 10, tzinfo=UTC)
    assert silent.duration == timedelta(hours=2)
    assert plan.specs[2].rate == 0.05
    assert plan.specs[5].sensor is None
    assert plan.specs[7].sensor is None and plan.specs[7].rate == 0.01
    assert FaultPlan.parse("stuck:x@+90m").specs[0].start == timedelta(minutes=90)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("silence:x", "unknown fault 'silence'.*did you mean 'silent'"),
        ("spikes:x~2", "rate must be above 0 and at most 1"),
        ("silent:x~0.1", "silent takes no rate"),
        ("silent:x@yesterday", "not a date or time"),
        ("silent:x@2025-06-01/forever", "not a duration"),
        ("meter_reset:grid_import_energy@2025-06-01/1h", "happens once"),
    ],
)
def test_fault_plan_errors_say_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(FaultPlanError, match=message):
        FaultPlan.parse(spec)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("silent:pv_facade_ne_powr", "no sensor 'pv_facade_ne_powr'.*did you mean "
                                     "'pv_facade_ne_power'"),
        ("meter_reset:building_power", "only cumulative meters"),
        ("spikes:building_energy", "run backwards"),
    ],
)
def test_fault_plan_checks_sensors_against_the_catalogue(
    catalogue: Catalogue, spec: str, message: str
) -> None:
    with pytest.raises(FaultPlanError, match=message):
        FaultPlan.parse(spec).check(catalogue, ["stuehlinger", "freiburg"])


def test_durations_and_instants() -> None:
    assert parse_duration("365d") == timedelta(days=365)
    assert parse_duration("1h30m") == timedelta(minutes=90)
    assert parse_instant("2025-01-01") == datetime(2025, 1, 1, tzinfo=UTC)
    assert parse_instant("2025-06-01T12:00+02:00") == datetime(2025, 6, 1, 10, tzinfo=UTC)
    with pytest.raises(ValueError, match=r"e\.g\. 90m"):
        parse_duration("soon")


def _ns(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()) * 1_000_000_000


# --- CLI ----------------------------------------------------------------------------------------


def test_summary_json_without_a_broker(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["simulate", "--catalogue", str(CATALOGUE), "--summary", "--start",
                     "2025-06-01", "--duration", "7d", "--json"])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    (site,) = data["sites"]  # freiburg has no PV arrays
    assert site["site"] == "stuehlinger" and len(site["arrays"]) == 10
    assert site["pv_kwh"] == pytest.approx(sum(a["kwh"] for a in site["arrays"]))
    assert 0 < site["self_consumption_share"] <= 1


def test_summary_table(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["simulate", "--catalogue", str(CATALOGUE), "--summary", "--site",
                     "stuehlinger", "--start", "2025-06-01", "--duration", "2d"])
    assert code == 0
    out = capsys.readouterr().out
    for text in ("facade_ne", "roof_centre", "kWh/kWp", "self-consumption", "total"):
        assert text in out


def test_unreachable_broker_is_one_line_without_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from testkit.servers import free_port

    url = f"mqtt://127.0.0.1:{free_port()}"
    code = cli.main(["simulate", "--catalogue", str(CATALOGUE), "--mqtt-url", url,
                     "--duration", "1h"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1 and url in err and "--mqtt-url" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--faults", "stuck:nope"], "no sensor 'nope'"),
        (["--backfill", "7d", "--start", "2025-01-01"], "exclude each other"),
        (["--duration", "soon"], "--duration"),
        (["--site", "mars"], "no site 'mars'"),
        (["--speed", "0"], "--speed"),
    ],
)
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str],
                             message: str) -> None:
    assert cli.main(["simulate", "--catalogue", str(CATALOGUE), *argv]) == 2
    assert message in capsys.readouterr().err


def test_sensor_model_fields_used_by_the_simulators_exist() -> None:
    # The simulators read these catalogue fields; a rename there must fail here first.
    for name in ("role", "array", "room", "unit", "interval_s", "decoder", "device", "field",
                 "topic", "plausible"):
        assert name in Sensor.model_fields
    assert {r for r in Role} >= METER_ROLES
