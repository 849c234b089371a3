"""Shared pytest fixtures.

The integration fixtures run the real servers: Debian's Mosquitto and InfluxDB 1.6.7. The
latter predates ``/api/v2/write``, so ``influx.url`` points at a small route adapter
(:mod:`testkit.influx_adapter`) that maps that one route to ``/write`` as
InfluxDB 1.8 does natively; parsing, storage and InfluxQL are the real server's.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn, TypeVar

import pytest

from stadtpuls.store.influx import InfluxStore
from stadtpuls.store.sqlite import SQLiteStore
from testkit.servers import BinaryNotFoundError, InfluxServer, MosquittoServer

ServerT = TypeVar("ServerT", MosquittoServer, InfluxServer)


def _missing(exc: BinaryNotFoundError) -> NoReturn:
    # CI must never go green by skipping the integration tests: there a missing server is
    # a broken setup, on a developer's machine merely an optional install.
    if os.environ.get("CI") == "true":
        pytest.fail(
            f"{exc.binary} is missing in CI: apt-get install {exc.apt_package}", pytrace=False
        )
    pytest.skip(f"{exc.binary} not installed: apt-get install {exc.apt_package}")


# --- servers -------------------------------------------------------------------------------


def _start(server: ServerT) -> ServerT:
    try:
        server.start()
    except BinaryNotFoundError as exc:
        _missing(exc)
    return server


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MosquittoServer]:
    """One Mosquitto per test session on a free port (persistence on, no queue limits)."""
    server = _start(MosquittoServer(tmp_path_factory.mktemp("mosquitto")))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def influx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxServer]:
    """One influxd per test session; ``.url`` is the v2-write adapter, ``.direct_url`` influxd."""
    server = _start(InfluxServer(tmp_path_factory.mktemp("influxd")))
    yield server
    server.stop()


def _private_servers(
    tmp_path: Path, kind: Callable[[Path], ServerT], name: str
) -> Iterator[Callable[[], ServerT]]:
    servers: list[ServerT] = []

    def make() -> ServerT:
        server = kind(tmp_path / f"{name}-{len(servers)}")
        servers.append(server)
        return _start(server)

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def make_mosquitto(tmp_path: Path) -> Iterator[Callable[[], MosquittoServer]]:
    """Start private brokers for tests that stop or restart them; stopped at teardown."""
    yield from _private_servers(tmp_path, MosquittoServer, "mosquitto")


@pytest.fixture
def make_influx(tmp_path: Path) -> Iterator[Callable[[], InfluxServer]]:
    """Start private influxd instances for tests that stop them; stopped at teardown."""
    yield from _private_servers(tmp_path, InfluxServer, "influxd")


# --- per-test isolation on the session servers ---------------------------------------------


@pytest.fixture
def influx_db(influx: InfluxServer) -> Iterator[str]:
    """A fresh database on the session influxd, dropped after the test."""
    name = f"test_{uuid.uuid4().hex[:16]}"
    influx.create_database(name)
    yield name
    if influx.running:
        influx.drop_database(name)


@pytest.fixture(params=["sqlite", "influx"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SQLiteStore | InfluxStore]:
    """Each store in turn, empty: a test that takes it is a contract both must keep
    (SQLite in the test's directory, a fresh database on the session's influxd)."""
    s: SQLiteStore | InfluxStore
    if request.param == "sqlite":
        s = SQLiteStore(tmp_path / "readings.db")
    else:
        db = request.getfixturevalue("influx_db")
        server: InfluxServer = request.getfixturevalue("influx")
        s = InfluxStore(server.url, f"{db}/autogen", timeout_s=30)
    yield s
    s.close()


@pytest.fixture
def mqtt_topic_prefix() -> str:
    """A topic prefix no other test uses (``test/<uuid hex>``); add ``/...`` levels to it."""
    return f"test/{uuid.uuid4().hex}"


# --- browser tests (dashboard) -------------------------------------------------------------

# The machine has no network: without these flags Chromium keeps trying to reach Google
# (component updates, sync, field trials) and its sandbox needs privileges CI lacks.
CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1920,1080",
)


def pytest_setup_options() -> object:
    """Chromium options for dash[testing]'s `dash_duo` (a hook dash's pytest plugin calls)."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    return options


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of chromedriver; skips (fails in CI) when Chromium or its driver is missing."""
    import shutil

    driver = shutil.which("chromedriver")
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if driver is None or browser is None:
        message = "chromium/chromedriver not installed: apt-get install chromium chromium-driver"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return driver
