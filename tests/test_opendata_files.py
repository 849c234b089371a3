"""Bulk CSV files (`/opendata/files/...`) against the real stores.

The files must say exactly what the store holds for the local day or month (row for row,
value for value), name unit and licence in their header, never serve a sensor that is not
public, refuse bad dates with a sentence, and carry caching headers that match whether the
period can still change. The InfluxDB runs use the session's real influxd.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st
from waiting import settle_first_request_work

import opendata.files
from dashboard.app import create_app
from dashboard.data.cache import TTLCache
from opendata.csv_files import iso_ns
from stadtpuls.catalogue import Catalogue, load_catalogue
from stadtpuls.reading import Reading, SeriesKey
from stadtpuls.store import Store, StoreReader
from stadtpuls.store.influx import InfluxStore
from stadtpuls.store.sqlite import SQLiteStore
from stadtpuls.timebase import MAX_NS, MIN_NS, to_ns
from stadtpuls.units import Quantity
from testkit.counting_store import CountingStore

ROOT = Path(__file__).resolve().parents[1]
BERLIN = ZoneInfo("Europe/Berlin")
SITE, SENSOR = "stuehlinger", "weather_air_temperature"
KEY = SeriesKey(SITE, SENSOR, Quantity.TEMPERATURE)
FILES = f"/opendata/files/{SITE}/{SENSOR}"
FIRST = datetime(2025, 3, 1, tzinfo=BERLIN)  # the first local day with data
NOW = datetime(2025, 4, 20, 12, 0, tzinfo=UTC)
NOT_PUBLIC = ["room_buergerservice_co2", "room_sitzungssaal_co2"]  # internal, personal


def _minute_data(start: datetime, end: datetime) -> list[Reading]:
    """1-minute readings with nanosecond offsets, awkward values and a few implausible."""
    out, t, k = [], to_ns(start), 0
    while t < to_ns(end):
        value = 12.5 + (k % 97) / 7 - 3e-9 * k
        implausible = k % 500 == 0
        out.append(Reading(SITE, SENSOR, Quantity.TEMPERATURE, t + k % 1000,
                           99.0 if implausible else value, implausible=implausible))
        t += 60 * 10**9
        k += 1
    return out


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(ROOT / "config" / "stuehlinger.yaml")


@pytest.fixture
def store(store: Store) -> Iterator[Store]:
    """Each store (conftest.py) with the open-data test's readings."""
    s = store
    s.write(_minute_data(FIRST, datetime(2025, 4, 3, tzinfo=BERLIN)))
    s.write([Reading(SITE, SENSOR, Quantity.TEMPERATURE, to_ns(NOW - timedelta(hours=1)), 8.0)])
    for sensor in NOT_PUBLIC:  # data the files must never show
        s.write([Reading(SITE, sensor, Quantity.CO2, to_ns(FIRST) + k * 60 * 10**9, 600.0)
                 for k in range(100)])
    yield s


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    s = SQLiteStore(tmp_path / "readings.db")
    s.write(_minute_data(FIRST, datetime(2025, 3, 3, tzinfo=BERLIN)))
    for sensor in NOT_PUBLIC:
        s.write([Reading(SITE, sensor, Quantity.CO2, to_ns(FIRST), 600.0)])
    yield s
    s.close()


def _client(store: StoreReader, catalogue: Catalogue, now: datetime = NOW,
            cache: TTLCache | None = None) -> FlaskClient:
    return create_app(store, catalogue, clock=lambda: now.timestamp(),
                      cache=cache).server.test_client()


def _parse(body: bytes) -> tuple[list[str], list[tuple[int, float, bool]]]:
    text = body.decode("utf-8")
    header = [line for line in text.splitlines() if line.startswith("#")]
    table = list(csv.reader(io.StringIO("".join(
        line + "\n" for line in text.splitlines() if not line.startswith("#")))))
    assert table[0] == ["time", "value", "implausible"]
    rows = [(_ns(t), float(v), {"true": True, "false": False}[i]) for t, v, i in table[1:]]
    return header, rows


def _ns(text: str) -> int:
    """RFC 3339 UTC with up to nine fraction digits, exactly."""
    whole, _, fraction = text.removesuffix("Z").partition(".")
    seconds = int(datetime.fromisoformat(whole).replace(tzinfo=UTC).timestamp())
    return seconds * 10**9 + int(fraction.ljust(9, "0") if fraction else 0)


def _stored(store: Store, start: datetime, end: datetime) -> list[tuple[int, float, bool]]:
    return [(r.time_ns, r.value, r.implausible)
            for r in store.readings(KEY, to_ns(start), to_ns(end), limit=1_000_000)]


@pytest.mark.integration
def test_a_day_file_holds_exactly_the_stored_readings_of_the_local_day(
        store: Store, catalogue: Catalogue) -> None:
    # 30 March 2025 is the change to summer time: a local day of 23 hours.
    response = _client(store, catalogue).get(f"{FILES}/2025-03-30.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8; header=present"
    header, rows = _parse(response.data)
    expected = _stored(store, datetime(2025, 3, 30, tzinfo=BERLIN),
                       datetime(2025, 3, 31, tzinfo=BERLIN))
    assert len(rows) == 23 * 60 and rows == expected
    assert any(implausible for _, _, implausible in rows)
    text = "\n".join(header)
    assert "unit: °C (UCUM: Cel)" in text
    assert ("licence: Datenlizenz Deutschland – Namensnennung – Version 2.0 (dl-de/by-2-0), "
            "https://www.govdata.de/dl-de/by-2-0") in text
    assert "attribution: Stadt Freiburg im Breisgau, Stadtpuls" in text
    assert f"dataset: {SITE}/{SENSOR}" in text and "Lufttemperatur" in text
    assert "2025-03-29T23:00:00Z … 2025-03-30T22:00:00Z" in text


@pytest.mark.integration
def test_a_month_file_streams_a_month_of_minute_data_and_is_then_cached(
        store: Store, catalogue: Catalogue) -> None:
    counting = CountingStore(store)
    client = _client(counting, catalogue)
    first = client.get(f"{FILES}/2025-03.csv")
    # Streamed page by page: no Content-Length, as the length is not known up front.
    assert first.status_code == 200 and "Content-Length" not in first.headers
    _, rows = _parse(first.data)
    expected = _stored(store, FIRST, datetime(2025, 4, 1, tzinfo=BERLIN))
    assert len(rows) == 31 * 24 * 60 - 60 and rows == expected
    settle_first_request_work()  # the app's warm-up reads the same store (flaked in CI once)
    queries = counting.queries
    again = client.get(f"{FILES}/2025-03.csv")
    assert again.status_code == 200 and again.headers["Content-Length"] == str(len(first.data))
    assert again.data == first.data and counting.queries == queries  # from the file cache
    assert again.headers["ETag"] == first.headers["ETag"]


@pytest.mark.integration
def test_sensors_that_are_not_public_are_not_found_like_unknown_ones(
        sqlite_store: Store, catalogue: Catalogue) -> None:
    client = _client(sqlite_store, catalogue)
    for sensor in [*NOT_PUBLIC, "no_such_sensor"]:
        for path in ("2025-03-01.csv", "2025-03.csv", ""):
            response = client.get(f"/opendata/files/{SITE}/{sensor}/{path}")
            assert response.status_code == 404, (sensor, path)
            assert response.data.decode() == (
                f"no public dataset {SITE}/{sensor}; the published ones are listed at "
                "/opendata and in /opendata/catalog.ttl\n")
            assert b"600" not in response.data


@pytest.mark.integration
@pytest.mark.parametrize(("name", "status", "says"), [
    ("2025-02-30.csv", 400, "'2025-02-30' is not a valid date"),
    ("2025-13.csv", 400, "'2025-13' is not a valid date"),
    ("yesterday.csv", 400, "'yesterday' is not a file name we serve; use YYYY-MM-DD.csv"),
    ("2025-3-1.csv", 400, "is not a file name we serve"),
    ("2025-03-01.json", 404, "is not a file we serve; files are YYYY-MM-DD.csv"),
    ("2025-04-21.csv", 404, "2025-04-21 lies in the future"),
    ("2026-01.csv", 404, "2026-01 lies in the future"),
    ("2025-02-28.csv", 404, "no readings before 2025-03-01, the first day of this dataset"),
    ("2024-12.csv", 404, "no readings before 2025-03-01"),
])
def test_bad_dates_are_refused_with_a_sentence(
        sqlite_store: Store, catalogue: Catalogue, name: str, status: int, says: str) -> None:
    response = _client(sqlite_store, catalogue).get(f"{FILES}/{name}")
    assert response.status_code == status
    assert says in response.data.decode()
    assert response.mimetype == "text/plain"


@pytest.mark.integration
def test_closed_periods_are_immutable_the_current_one_revalidates(
        sqlite_store: Store, catalogue: Catalogue) -> None:
    now = datetime(2025, 3, 2, 15, 0, tzinfo=BERLIN)
    ticks = [0.0]
    client = _client(sqlite_store, catalogue, now, TTLCache(clock=lambda: ticks[0]))
    closed = client.get(f"{FILES}/2025-03-01.csv")
    today = client.get(f"{FILES}/2025-03-02.csv")
    assert today.headers["Cache-Control"] == "public, max-age=60"
    # 1 March ended 15 hours ago: still open to late readings, so not yet immutable.
    assert closed.headers["Cache-Control"] == "public, max-age=60"
    later = _client(sqlite_store, catalogue, now + timedelta(days=3))
    final = later.get(f"{FILES}/2025-03-01.csv")
    assert final.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert final.headers["Access-Control-Allow-Origin"] == "*"
    etag = final.headers["ETag"]
    assert etag.startswith('W/"')
    not_modified = later.get(f"{FILES}/2025-03-01.csv", headers={"If-None-Match": etag})
    assert not_modified.status_code == 304 and not_modified.data == b""
    # A reading arriving today changes today's tag once its fingerprint expires (10 s).
    sqlite_store.write([Reading(SITE, SENSOR, Quantity.TEMPERATURE,
                                to_ns(now - timedelta(minutes=1)), 7.25)])
    ticks[0] += 11
    changed = client.get(f"{FILES}/2025-03-02.csv", headers={"If-None-Match": today.headers[
        "ETag"]})
    assert changed.status_code == 200 and changed.headers["ETag"] != today.headers["ETag"]
    assert b",7.25,false" in changed.data


@pytest.mark.integration
def test_a_file_above_the_size_limit_is_refused(
        sqlite_store: Store, catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(opendata.files, "MAX_ROWS", 1_000)
    client = _client(sqlite_store, catalogue)
    assert client.get(f"{FILES}/2025-03-01.csv").status_code == 413
    response = client.get(f"{FILES}/2025-03.csv")
    assert response.status_code == 413
    assert "more than the 1,000 one file may hold; download its days" in response.data.decode()


@pytest.mark.integration
def test_files_are_read_only_and_a_dead_store_says_so(
        sqlite_store: Store, catalogue: Catalogue) -> None:
    client = _client(sqlite_store, catalogue)
    for method in (client.post, client.put, client.delete):
        assert method(f"{FILES}/2025-03-01.csv").status_code == 405
    index = client.get(f"{FILES}/")
    assert index.status_code == 200 and b'href="/opendata/files/stuehlinger/' in index.data
    assert b"2025-03.csv" in index.data and b"2025-04.csv" in index.data
    dead = InfluxStore("http://127.0.0.1:9", "nothing", timeout_s=0.5)
    response = _client(dead, catalogue).get(f"{FILES}/2025-03-01.csv")
    assert response.status_code == 503 and response.headers["Retry-After"] == "60"
    assert "try again in a minute" in response.data.decode()


@pytest.mark.integration
def test_the_file_list_speaks_german_or_english(sqlite_store: Store,
                                               catalogue: Catalogue) -> None:
    client = _client(sqlite_store, catalogue)
    german = client.get(f"{FILES}/").data.decode()  # no preference: German, as the sites
    assert '<html lang="de">' in german and "<h2>Monate</h2>" in german
    assert "Lufttemperatur" in german and 'href="?lang=en"' in german
    english = client.get(f"{FILES}/", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert english.headers["Vary"] == "Accept-Language, Cookie"
    text = english.data.decode()
    assert '<html lang="en">' in text and "<h2>Months</h2>" in text
    assert "Air temperature" in text and 'href="?lang=de"' in text
    asked = client.get(f"{FILES}/?lang=de", headers={"Accept-Language": "en"}).data.decode()
    assert '<html lang="de">' in asked
    odd = client.get(f"{FILES}/?lang=<script>", headers={"Accept-Language": "fr"})
    assert '<html lang="de">' in odd.data.decode() and b"<script>" not in odd.data
    client.set_cookie("stadtpuls_lang", "en")  # the dashboard's language switch
    assert '<html lang="en">' in client.get(f"{FILES}/").data.decode()


@given(st.integers(min_value=MIN_NS, max_value=MAX_NS - 1))
def test_file_times_are_exact_rfc3339(time_ns: int) -> None:
    text = iso_ns(time_ns)
    assert text.endswith("Z") and _ns(text) == time_ns
    seconds = time_ns // 10**9
    if seconds >= 0:  # datetime.fromtimestamp: the platform's range
        assert text.startswith(datetime.fromtimestamp(seconds, UTC).isoformat()[:19])


@pytest.mark.integration
def test_echoed_names_are_bounded(sqlite_store: Store, catalogue: Catalogue) -> None:
    client = _client(sqlite_store, catalogue)
    long = "x" * 5_000
    for path in (f"/opendata/files/{long}/{long}/2025-03-01.csv", f"{FILES}/{long}.csv",
                 f"{FILES}/{long}"):
        response = client.get(path)
        assert response.status_code in (400, 404) and len(response.data) < 400, path
