"""Lobby screens without a browser: rotation by the clock, skipping, freshness, night,
the heartbeat registry's bounds, and what 100 screens cost the store."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dashboard.app import create_app
from dashboard.data.source import DashboardSettings, DataSource
from dashboard.data.status import SensorState, Status
from dashboard.kiosk.model import Freshness, SceneContext, SceneView, figure, freshness
from dashboard.kiosk.registry import ScreenRegistry
from dashboard.kiosk.scenes import builders
from dashboard.kiosk.screen import frame, pick, programme, views
from stadtpuls.catalogue import Catalogue, Scene, Sensor, load_catalogue
from stadtpuls.catalogue.display import SCENE_TYPES
from stadtpuls.reading import Reading
from stadtpuls.store.sqlite import SQLiteStore
from stadtpuls.timebase import NS_PER_S
from stadtpuls.units import Quantity
from testkit.counting_store import CountingStore
from testkit.devdata import simulate_into
from testkit.kiosk import with_screen

ROOT = Path(__file__).resolve().parents[1]
BERLIN_NOON = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)  # 12:00 in Freiburg
DAY_SCENES = [{"type": "pv_now", "seconds": 5}, {"type": "bikes", "seconds": 7},
              {"type": "energy", "seconds": 3}, {"type": "indoor_air", "seconds": 4}]


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    base = load_catalogue(ROOT / "config" / "stuehlinger.yaml")
    # bikes stays at the screen's site, which has no bike counter: an empty scene
    return with_screen(base, "test", "stuehlinger", DAY_SCENES,
                       night={"from": "22:00", "to": "06:00", "mode": "clock"})


@pytest.fixture(scope="module")
def store(catalogue: Catalogue, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[SQLiteStore]:
    db = SQLiteStore(tmp_path_factory.mktemp("kiosk") / "k.db")
    simulate_into(db, catalogue, BERLIN_NOON - timedelta(hours=3), BERLIN_NOON,
                  sites=["stuehlinger"])
    yield db
    db.close()


def _source(store: object, catalogue: Catalogue, at: datetime) -> DataSource:
    return DataSource.create(store, catalogue,  # type: ignore[arg-type]
                             DashboardSettings(), clock=lambda: at.timestamp())


def test_pick_is_a_function_of_the_clock() -> None:
    assert pick([5, 10, 5], 0) == (0, 5)
    assert pick([5, 10, 5], 7) == (1, 8)
    assert pick([5, 10, 5], 19.5) == (2, 0.5)
    assert pick([5, 10, 5], 20) == (0, 5)
    assert pick([5, 10, 5], 20 * 1000 + 6) == (1, 9)


def test_rotation_runs_in_catalogue_order_and_skips_the_empty_scene(
        catalogue: Catalogue, store: SQLiteStore) -> None:
    display = catalogue.displays["test"]
    seen: list[str] = []
    start = BERLIN_NOON.timestamp() // 12 * 12  # the cycle without bikes is 12 s
    for step in range(0, 24 * 2):  # two cycles, every half second
        source = _source(store, catalogue, datetime.fromtimestamp(start + step / 2, UTC))
        shown = frame(source, "test", display, "de")
        assert shown.count == 3
        if not seen or seen[-1] != shown.scene.type:
            seen.append(shown.scene.type)
    assert seen == ["pv_now", "energy", "indoor_air"] * 2


def test_the_stuehlinger_lobby_by_day(catalogue: Catalogue, store: SQLiteStore) -> None:
    source = _source(store, catalogue, BERLIN_NOON)
    shown = frame(source, "lobby", catalogue.displays["lobby"], "de")
    # the store has no street data: air quality and bikes are left out
    assert shown.count == 5 and not shown.night
    indoor = next(v for v in frame_views(source, catalogue, "lobby") if v and
              v.type == "indoor_air")
    assert [tile.label for tile in indoor.tiles] == ["Bürgerservicezentrum", "Sitzungssaal"]


def frame_views(source: DataSource, catalogue: Catalogue, name: str) -> list[SceneView | None]:
    display = catalogue.displays[name]
    return views(source, display, display.scenes, "de")


def test_night_clock_and_night_scenes(catalogue: Catalogue, store: SQLiteStore) -> None:
    night = datetime(2026, 6, 10, 21, 30, tzinfo=UTC)  # 23:30 local
    shown = frame(_source(store, catalogue, night), "test", catalogue.displays["test"], "en")
    assert (shown.scene.type, shown.night, shown.dim, shown.count) == ("clock", True, True, 1)
    portrait = catalogue.displays["lobby-portrait"]
    plan = programme(portrait, night.astimezone(_source(store, catalogue, night).zone(
        "stuehlinger")))
    assert [s.type for s in plan.scenes] == ["energy", "clock"] and plan.dim
    day = programme(portrait, BERLIN_NOON.astimezone(_source(store, catalogue, night).zone(
        "stuehlinger")))
    assert [s.type for s in day.scenes] == ["pv_now", "everyday", "indoor_air"] and not day.dim
    dim = with_screen(catalogue, "dim", "stuehlinger", DAY_SCENES,
                      night={"from": "23:00", "to": "01:00", "mode": "dim"}).displays["dim"]
    zone = _source(store, catalogue, night).zone("stuehlinger")
    at_night = programme(dim, night.astimezone(zone))
    assert at_night.dim and at_night.night and at_night.scenes == tuple(dim.scenes)
    assert not programme(dim, (night + timedelta(hours=2)).astimezone(zone)).dim  # 01:30


def _state(interval_s: float, age_s: float | None, now_ns: int, value: float = 1.0,
           implausible: bool = False, status: Status = Status.OK) -> SensorState:
    sensor = Sensor.model_validate({
        "id": "s", "name": {"de": "S", "en": "S"}, "quantity": "power",
        "position": {"lat": 0, "lon": 0}, "interval_s": interval_s,
        "plausible": {"min": 0, "max": 10}})
    last = None if age_s is None else Reading("x", "s", Quantity.POWER,
                                              now_ns - int(age_s * NS_PER_S), value,
                                              implausible=implausible)
    return SensorState("x", "s", Quantity.POWER, sensor, last, age_s, status, None)


def test_freshness_turns_delayed_where_the_sensor_status_turns_late() -> None:
    now = 10**18
    # I = 60 s: grace 5 s, late beyond 1.25 * 60 + 5 = 80 s
    assert freshness([_state(60, 80, now)], now) == Freshness(now - 80 * NS_PER_S, False)
    assert freshness([_state(60, 81, now)], now) == Freshness(now - 81 * NS_PER_S, True)
    # on time: the oldest reading is the stamp; delayed: the newest is
    both = [_state(60, 10, now), _state(60, 30, now)]
    assert freshness(both, now) == Freshness(now - 30 * NS_PER_S, False)
    late = [_state(60, 10, now), _state(60, 300, now)]
    assert freshness(late, now) == Freshness(now - 10 * NS_PER_S, True)
    assert freshness([_state(60, None, now)], now) is None
    assert freshness([_state(60, 5, now, implausible=True)], now) is None


def test_a_silent_sensor_is_left_out_of_a_live_figure_unless_all_are() -> None:
    now = 10**18
    live, dead = _state(60, 10, now, 2.0), _state(60, 600, now, 5.0, status=Status.SILENT)
    found = figure([live, dead], now)
    assert found is not None and found.values == (2.0,) and not found.fresh.delayed
    only_dead = figure([dead], now)
    assert only_dead is not None and only_dead.values == (5.0,) and only_dead.fresh.delayed


def test_tiles_say_as_of_or_delayed_in_both_languages(catalogue: Catalogue,
                                                      store: SQLiteStore) -> None:
    source = _source(store, catalogue, BERLIN_NOON)
    now = source.now_ns()
    for lang, fresh_text, late_text in (("de", "Stand 11:55", "Daten verzögert · letzter "
                                         "Wert 11:40"),
                                        ("en", "as of 11:55", "Data delayed · last value 11:40")):
        ctx = SceneContext(source, Scene(type="clock"), "stuehlinger", lang, now, ())
        assert ctx.stamp(Freshness(now - 5 * 60 * NS_PER_S, False)) == fresh_text
        tile = ctx.tile("L", "1", Freshness(now - 20 * 60 * NS_PER_S, True))
        assert tile.stamp == late_text and tile.delayed


def test_every_scene_type_has_one_module() -> None:
    assert sorted(builders()) == sorted(SCENE_TYPES)


def test_registry_takes_only_catalogue_screens_and_stays_bounded() -> None:
    registry = ScreenRegistry(["a", "b", "c"], max_screens=2)
    assert registry.record("a", "1.0", "pv_now", 1)
    assert not registry.record("stranger", "1.0", "pv_now", 2)
    assert registry.record("b", "v" * 10_000, "s" * 10_000, 3)
    assert not registry.record("c", "1.0", "clock", 4)  # cap reached
    assert registry.record("a", "1.1", "energy", 5)  # known screens still update
    contacts = registry.contacts()
    assert [c.screen if c else None for c in contacts] == ["a", "b", None]
    assert contacts[0] is not None and (contacts[0].version, contacts[0].last_ns) == ("1.1", 5)
    assert contacts[1] is not None and len(contacts[1].version) <= 64
    assert len(registry) == 2


def test_api_answers_known_screens_records_them_and_refuses_strangers(
        catalogue: Catalogue, store: SQLiteStore) -> None:
    app = create_app(store, catalogue, clock=lambda: BERLIN_NOON.timestamp())
    client = app.server.test_client()
    answer = client.get("/kiosk/api/test?lang=en&v=old&scene=energy")
    assert answer.status_code == 200 and answer.json is not None
    assert answer.json["scene"]["type"] in ("pv_now", "energy", "indoor_air")
    assert answer.json["version"].startswith("0.") and answer.json["next_in_s"] > 0
    assert client.get("/kiosk/api/stranger").status_code == 404
    assert client.get("/kiosk/stranger").status_code == 404
    page = client.get("/kiosk/test?lang=en").get_data(as_text=True)
    assert 'lang="en"' in page and "kiosk.js" in page and "Reconnecting" in page
    assert "kiosk.js" not in client.get("/").get_data(as_text=True)  # Dash pages: no kiosk
    with app.server.app_context():
        from dashboard.kiosk.routes import registry
        contacts = [c for c in registry().contacts() if c is not None]
    assert [(c.screen, c.version, c.scene) for c in contacts] == [("test", "old", "energy")]


def test_a_hundred_screens_cost_the_store_no_more_than_twice_one(
        catalogue: Catalogue, store: SQLiteStore) -> None:
    scenes = [{"type": t, "seconds": 5} for t in SCENE_TYPES if t not in ("bikes",
                                                                           "air_quality")]
    many = catalogue
    for i in range(100):
        many = with_screen(many, f"s{i}", "stuehlinger", scenes)

    def cost(screens: int) -> int:
        counting = CountingStore(store)
        source = _source(counting, many, BERLIN_NOON)
        threads = [threading.Thread(target=frame, args=(source, f"s{i}",
                                                         many.displays[f"s{i}"], "de"))
                   for i in range(screens)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        return counting.queries

    one = cost(1)
    assert one > 0
    assert cost(100) <= 2 * one
