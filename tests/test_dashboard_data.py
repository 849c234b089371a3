"""Dashboard data layer: status, history windows, pipeline, overview, cache, ids, texts
(energy: tests/test_dashboard_energy.py).

Pure functions are tested directly; everything that reads goes through a real store (SQLite,
and the session's InfluxDB where marked) filled by the simulators.
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from dashboard import i18n
from dashboard.data.cache import CachedStore, TTLCache, bucket_end
from dashboard.data.history import choose_window_s
from dashboard.data.overview import overview
from dashboard.data.pipeline import pipeline
from dashboard.data.source import DashboardSettings, DataSource
from dashboard.data.status import Status, sensor_states
from dashboard.i18n_text import TEXT
from dashboard.ui import parse_sensor_token, sensor_token
from stadtpuls.catalogue import Catalogue, load_catalogue
from stadtpuls.health import SILENT_FACTOR, Health, HealthLimits, assess, grace_s
from stadtpuls.pipeline import PIPELINE_SITE
from stadtpuls.reading import Reading
from stadtpuls.store.protocol import Store
from stadtpuls.store.sqlite import SQLiteStore
from stadtpuls.timebase import NS_PER_S, to_ns
from stadtpuls.units import Quantity
from testkit.counting_store import CountingStore
from testkit.devdata import simulate_into

# pvlib 0.16 asks pandas 3 for a deprecated attribute inside get_solarposition
pytestmark = pytest.mark.filterwarnings("ignore:DatetimeIndex.dayofyear is deprecated")

ROOT = Path(__file__).resolve().parents[1]
BERLIN = ZoneInfo("Europe/Berlin")
SITE = "stuehlinger"
JUNE_NOON = datetime(2025, 6, 11, 13, tzinfo=BERLIN)


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(ROOT / "config" / "stuehlinger.yaml")


def _source(store: Store, catalogue: Catalogue, at: datetime) -> DataSource:
    return DataSource.create(store, catalogue, clock=lambda: at.timestamp())


# --- status -----------------------------------------------------------------------------------


@pytest.mark.parametrize("interval", [5.0, 60.0, 300.0, 900.0])
def test_status_thresholds(interval: float, catalogue: Catalogue) -> None:
    sensor = next(s for _, s in catalogue.sensors()).model_copy(update={"interval_s": interval})

    def classify(age_s: float | None, interval_s: float, implausible: bool = False) -> Health:
        assert interval_s == sensor.interval_s
        return assess(sensor, age_s=age_s, implausible=implausible, stats=None,
                      completeness_value=None, battery=None, sun_down=False,
                      limits=HealthLimits())

    grace = grace_s(interval)
    assert classify(0.0, interval) is Status.OK
    assert classify(interval * 1.2, interval) is Status.OK
    assert classify(interval * 1.25 + grace + 0.1, interval) is Status.LATE
    assert classify(interval * 1.6 + grace + 0.1, interval) is Status.SILENT
    assert classify(None, interval) is Status.SILENT
    assert classify(interval * 0.5, interval, implausible=True) is Status.IMPLAUSIBLE
    assert classify(interval * 3, interval, implausible=True) is Status.SILENT
    # Silent within 2× the interval of the last reading, leaving room for one page refresh
    # (10 s) on minute sensors and more on slower ones.
    assert SILENT_FACTOR * interval + grace + min(10.0, 0.2 * interval) <= 2 * interval


# --- history ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("span", "interval", "window"), [
    (3_600, 60, 60), (86_400, 60, 60), (7 * 86_400, 60, 900), (30 * 86_400, 60, 3_600),
    (365 * 86_400, 60, 21_600), (3_600, 300, 300), (86_400, 900, 900),
])
def test_window_choice(span: int, interval: int, window: int) -> None:
    chosen = choose_window_s(span, interval)
    assert chosen == window
    assert span / chosen <= 1_500
    assert chosen >= interval


# --- sensors, pipeline, overview ----------------------------------------------------------


def test_sensor_states_silent_unregistered_and_completeness(catalogue: Catalogue,
                                                            tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "states.db")
    end = datetime(2025, 6, 12, 12, 0, tzinfo=UTC)
    simulate_into(store, catalogue, end - timedelta(days=1), end, sites=[SITE],
                  faults=f"silent:weather_wind_speed@{(end - timedelta(hours=1)).isoformat()}")
    hostile = "x' OR 1=1 --/~ü"
    store.write([Reading(SITE, hostile, Quantity.TEMPERATURE, to_ns(end) - 30 * NS_PER_S, 20.0,
                         unregistered=True),
                 Reading(PIPELINE_SITE, "ingest-1/messages_accepted", Quantity.COUNT,
                         to_ns(end) - 5 * NS_PER_S, 10.0)])
    states = {s.sensor_id: s for s in sensor_states(_source(store, catalogue, end))}
    assert states["weather_wind_speed"].status is Status.SILENT
    assert states["weather_wind_speed"].completeness == pytest.approx(23 / 24, abs=0.01)
    assert states["weather_irradiance"].status is Status.OK
    assert states["weather_irradiance"].completeness == pytest.approx(1.0, abs=0.01)
    assert states[hostile].status is Status.UNREGISTERED
    assert not any(s.site == PIPELINE_SITE for s in states.values())
    assert len([s for s in states.values() if s.sensor is not None]) == len(
        catalogue.sites[SITE].sensors) + len(catalogue.sites["freiburg"].sensors)
    store.close()


def test_a_reading_dated_in_the_future_is_not_the_current_value(catalogue: Catalogue,
                                                                  tmp_path: Path) -> None:
    # A dead sensor with one reading dated 2126 (stored before the ingest refused such
    # times): it must not look "ok" for a century, and its real last reading still shows.
    # (A day of data, so that completeness over 24 h does not mark the sensors incomplete.)
    store = SQLiteStore(tmp_path / "future.db")
    end = datetime(2025, 6, 12, 12, 0, tzinfo=UTC)
    simulate_into(store, catalogue, end - timedelta(hours=25), end, sites=[SITE],
                  faults=f"silent:weather_wind_speed@{(end - timedelta(hours=1)).isoformat()}")
    source = _source(store, catalogue, end)
    before = {s.sensor_id: s for s in sensor_states(source)}["weather_wind_speed"]
    assert before.status is Status.SILENT and before.last is not None
    sensor = catalogue.sensor(SITE, "weather_wind_speed")
    assert sensor is not None
    store.write([Reading(SITE, "weather_wind_speed", sensor.quantity,
                         to_ns(datetime(2126, 1, 1, tzinfo=UTC)), 3.0),
                 Reading(SITE, "weather_irradiance", Quantity.IRRADIANCE,
                         to_ns(end) + 60 * NS_PER_S, 500.0)])  # a minute ahead: a clock skew
    states = {s.sensor_id: s for s in sensor_states(_source(store, catalogue, end))}
    assert states["weather_wind_speed"].status is Status.SILENT
    assert states["weather_wind_speed"].last == before.last
    assert states["weather_irradiance"].status is Status.OK
    assert states["weather_irradiance"].last is not None
    assert states["weather_irradiance"].last.value == 500.0
    store.close()


def test_pipeline_rates_survive_an_ingest_restart(catalogue: Catalogue, tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "pipe.db")
    end = datetime(2025, 6, 12, 12, 0, tzinfo=UTC)
    readings = []
    count = 0.0
    for i in range(600):  # every 5 s for 50 min, restart (counter from 0) after 25 min
        t = to_ns(end) - (600 - i) * 5 * NS_PER_S
        count = 0.0 if i == 300 else count + 50.0  # 10 messages/s
        readings.append(Reading(PIPELINE_SITE, "ingest-a/messages_accepted", Quantity.COUNT,
                                t, count))
        readings.append(Reading(PIPELINE_SITE, "ingest-a/broker_connected", Quantity.COUNT,
                                t, 1.0))
    store.write(readings)
    view = pipeline(_source(store, catalogue, end))
    (client,) = view.clients
    assert client.label == "1"  # the client id is part of the broker login: never shown
    assert "ingest-a" not in repr(view.clients) and "ingest-a" not in view.rates.to_csv()
    assert client.reporting and client.broker_connected is True
    assert client.store_ok is True  # its figures arrive in the store
    assert client.rates["messages_accepted"] == pytest.approx(10.0, rel=0.02)
    rates = view.rates[view.rates["metric"] == "messages_accepted"]["per_s"]
    assert rates.min() >= 0 and rates.max() <= 10.5
    store.close()


def test_overview_has_headlines_and_counts(catalogue: Catalogue, tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "overview.db")
    at = JUNE_NOON
    simulate_into(store, catalogue, at - timedelta(days=1), at)
    summaries = overview(_source(store, catalogue, at + timedelta(seconds=20)))
    hall = summaries[0]
    assert hall.site_id == SITE
    heads = {h.key: h.value for h in hall.headlines}
    assert heads["pv_power"] is not None and heads["pv_power"] > 50
    assert heads["pv_today"] is not None and heads["pv_today"] > 100
    assert hall.counts[Status.OK] == len(catalogue.sites[SITE].sensors)
    assert hall.trend is not None and not hall.trend.frame.empty
    street = summaries[1]
    heads = {h.key: h.value for h in street.headlines}
    assert heads["bikes_today"] is not None and heads["bikes_today"] > 100
    assert street.trend is not None and street.trend.kind == "bars"
    store.close()


# --- cache ------------------------------------------------------------------------------------


def test_fifty_concurrent_identical_requests_cost_one_store_query(tmp_path: Path) -> None:
    store = CountingStore(SQLiteStore(tmp_path / "c.db"), delay_s=0.2)
    store.write([Reading(SITE, "s", Quantity.POWER, 10**18, 1.0)])
    reader = CachedStore(store, TTLCache())
    barrier = threading.Barrier(50)
    results: list[object] = []

    def viewer() -> None:
        barrier.wait()
        results.append(reader.latest(SITE, None, ttl_s=10.0))

    threads = [threading.Thread(target=viewer) for _ in range(50)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert store.queries == 1
    assert len(results) == 50 and all(r is results[0] for r in results)
    assert reader.cache.stats.misses == 1
    assert reader.cache.stats.hits + reader.cache.stats.waits == 49


def test_cache_expires_and_does_not_keep_failures() -> None:
    now = [0.0]
    cache = TTLCache(clock=lambda: now[0])
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert cache.get("k", compute, ttl_s=10) == 1
    assert cache.get("k", compute, ttl_s=10) == 1
    now[0] = 10.5
    assert cache.get("k", compute, ttl_s=10) == 2

    def boom() -> int:
        raise RuntimeError("store down")

    with pytest.raises(RuntimeError):
        cache.get("x", boom, ttl_s=10)
    assert cache.get("x", compute, ttl_s=10) == 3


def test_bucket_end_aligns_viewers() -> None:
    base = 1_750_000_000 * NS_PER_S
    ends = {bucket_end(base + i * NS_PER_S // 3, 5.0) for i in range(1, 15)}
    assert ends == {base + 5 * NS_PER_S}
    assert bucket_end(base, 5.0) == base


# --- ids, language ----------------------------------------------------------------------------


@pytest.mark.parametrize("sensor", ["weather_irradiance", "x' OR 1=1 --", "a~b/c?d#e", "日本 🚲",
                                    "100%", "ingest-1/messages_accepted"])
def test_sensor_tokens_round_trip(sensor: str) -> None:
    token = sensor_token("freiburg", sensor, "temperature")
    assert re.fullmatch(r"[A-Za-z0-9_.~%-]+", token)
    assert parse_sensor_token(token) == ("freiburg", sensor, "temperature")
    assert parse_sensor_token(sensor_token("s", sensor)) == ("s", sensor, None)


def test_number_and_time_formatting() -> None:
    assert i18n.fmt_number(1234.5, "de", 1) == "1.234,5"
    assert i18n.fmt_number(1234.5, "en", 1) == "1,234.5"
    assert i18n.fmt_number(-3.0, "de", 0) == "−3"
    assert i18n.fmt_value(21.44, "°C", "de", 1) == "21,4\u202f°C"
    assert i18n.fmt_percent(0.834, "de") == "83\u202f%"
    assert i18n.fmt_percent(0.834, "en") == "83%"
    assert i18n.fmt_energy(1_234_567, "de") == "1.235\u202fkWh"
    assert i18n.fmt_relative(180, "de") == "vor 3 Min."
    assert i18n.fmt_relative(180, "en") == "3 min ago"
    assert i18n.fmt_relative(None, "de") == "nie"
    summer = to_ns(datetime(2025, 6, 11, 10, 5, tzinfo=UTC))
    assert i18n.fmt_time(summer, BERLIN, "de") == "11.06.2025, 12:05"
    assert i18n.fmt_time(summer, BERLIN, "en") == "11 Jun 2025, 12:05"


def test_every_text_key_used_exists_in_both_languages() -> None:
    used: set[str] = set()
    for path in (ROOT / "dashboard").rglob("*.py"):
        used |= set(re.findall(r"""\bt\(\s*["']([a-z0-9_]+\.[A-Za-z0-9_.]+)["']""",
                               path.read_text()))
        used |= set(re.findall(r"""\b(?:nav_key|key)=["']([a-z_]+\.[a-z_]+)["']""",
                               path.read_text()))
    missing = sorted(k for k in used if k not in TEXT)
    assert not missing
    assert all(entry["de"] and entry["en"] for entry in TEXT.values())
    # every dynamically built key family is complete
    for prefix, values in (("status", [s.value for s in Status]),
                           ("quantity", [q.value for q in Quantity]),
                           ("compass", ["N", "NE", "E", "SE", "S", "SW", "W", "NW"])):
        assert all(f"{prefix}.{v}" in TEXT for v in values), prefix


def test_a_count_of_one_reads_in_the_singular_where_a_text_has_one() -> None:
    from dashboard.i18n import t

    assert t("sensors.count", "de", n="1") == "1 Sensor"
    assert t("sensors.count", "en", n=1) == "1 sensor"
    assert t("sensors.count", "de", n="1.000") == "1.000 Sensoren"
    assert t("alerts.count", "de", n=1) == "1 Alarm" and t("alerts.count", "en", n=0) == "0 alerts"
    assert t("detail.raw", "en", n="1") == "1 point · individual reading"
    assert t("detail.window", "de", n="2", window="1 Std.").startswith("2 Punkte")
    assert t("nav.alerts", "de", n=1) == "Alarme"  # no singular text: the plural one
    # every singular text has its plural next to it
    assert all(key.removesuffix("_one") in TEXT for key in TEXT if key.endswith("_one"))


def test_settings_default_grid_factor_is_documented() -> None:
    settings = DashboardSettings()
    assert settings.grid_co2_g_per_kwh == 363.0
    assert "363" in (ROOT / "dashboard" / "data" / "source.py").read_text()
    assert math.isclose(replace(settings, grid_co2_g_per_kwh=400).grid_co2_g_per_kwh, 400)


# --- figures and CLI ----------------------------------------------------------------------


def test_map_without_tiles_is_a_plain_scatter_and_with_tiles_a_maplibre_map() -> None:
    from dashboard.figures.map import MapPoint, sensor_map

    points = [MapPoint(48.0, 7.83, Status.OK, ["a: OK"], "Dach", "a"),
              MapPoint(48.001, 7.832, Status.SILENT, ["b: stumm"], "Keller", "b")]
    plain = sensor_map(points, "de")
    assert {trace.type for trace in plain.data} == {"scatter"}
    assert plain.layout.xaxis.scaleanchor == "y"
    assert plain.layout.xaxis.scaleratio == pytest.approx(math.cos(math.radians(48.0005)),
                                                          rel=1e-3)
    # only the point that needs attention is labelled
    silent = next(tr for tr in plain.data if tr.name == "stumm")
    assert list(silent.text) == ["b"]
    tiled = sensor_map(points, "en", tiles="https://tiles.example/{z}/{x}/{y}.png")
    assert {trace.type for trace in tiled.data} == {"scattermap"}
    assert tiled.layout.map.style == "white-bg"  # the points stay on white without tiles
    assert tiled.layout.map.layers[0].source == ("https://tiles.example/{z}/{x}/{y}.png",)


def test_cli_help_and_bad_settings(capsys: pytest.CaptureFixture[str]) -> None:
    from stadtpuls import cli

    with pytest.raises(SystemExit) as exit_info:
        cli.main(["dashboard", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for flag in ("--host", "--port", "--debug", "--grid-co2-g-per-kwh", "--map-tiles",
                 "--store", "--catalogue"):
        assert flag in out
    assert "363" in out and "Umweltbundesamt" in out
    assert cli.main(["dashboard", "--store", "nosuchstore"]) == 2
    assert "nosuchstore" in capsys.readouterr().err
