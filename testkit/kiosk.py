"""Lobby-screen helpers for tests, the soak and the screenshots: a fast-rotating screen,
a dashboard served from a thread, and a store kept live with simulated readings."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from werkzeug.serving import make_server

from stadtpuls.catalogue import Catalogue, Display, Scene
from stadtpuls.store.protocol import StoreWriter
from testkit.devdata import simulate_into


def with_screen(catalogue: Catalogue, name: str, site: str, scenes: Sequence[dict[str, Any]],
                night: dict[str, Any] | None = None) -> Catalogue:
    """`catalogue` plus (or with a replaced) screen `name` showing `scenes`."""
    display = Display(site=site, scenes=[Scene.model_validate(s) for s in scenes],
                      night=night)
    checked = Catalogue.model_validate({
        **catalogue.model_dump(by_alias=True),
        "displays": {**{k: v.model_dump(by_alias=True) for k, v in
                        catalogue.displays.items()},
                     name: display.model_dump(by_alias=True, exclude_none=True)}})
    return checked


class Served:
    """A WSGI app on 127.0.0.1 in a daemon thread; `stop()` closes the socket."""

    def __init__(self, app: Any, port: int = 0) -> None:
        self._server = make_server("127.0.0.1", port, app, threaded=True)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)


class LiveFill:
    """Keeps `store` live: every `period_s` simulates the readings since the last fill."""

    def __init__(self, store: StoreWriter, catalogue: Catalogue, since: datetime,
                 period_s: float = 20.0) -> None:
        self._store, self._catalogue, self._last = store, catalogue, since
        self._period = period_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._period):
            now = datetime.now(UTC).replace(microsecond=0)
            if now - self._last >= timedelta(minutes=1):
                simulate_into(self._store, self._catalogue, self._last, now)
                self._last = now

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)


def wait_until(condition: Any, timeout_s: float, what: str, step_s: float = 0.25) -> Any:
    """Poll `condition` until it returns something true; AssertionError after the deadline."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(step_s)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
