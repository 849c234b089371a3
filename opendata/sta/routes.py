"""`/sta/v1.1/...` on the dashboard's Flask server: GET answers, every write 405.

Installed by `dashboard/app.py` with one call, like the kiosk's routes. Request-level bounds
live here: the URL (path and query) at most `MAX_URL_CHARS`; every refusal is a JSON body in
the FROST error format with a one-line message naming the problem.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Flask, Response, current_app, request

from opendata.sta.errors import StaError
from opendata.sta.service import Service
from stadtpuls.catalogue import Catalogue
from stadtpuls.per_process import OncePerProcess
from stadtpuls.store.errors import StoreError
from stadtpuls.store.protocol import StoreReader

PREFIX = "/sta/v1.1"
MAX_URL_CHARS = 8192
ALLOW = "GET, HEAD, OPTIONS"
_SERVICE_KEY = "STADTPULS_STA_SERVICE"
_WRITES = ["POST", "PUT", "PATCH", "DELETE"]
_log = logging.getLogger(__name__)


def install(server: Flask, store: StoreReader, catalogue: Catalogue) -> None:
    """Serve the SensorThings API of `catalogue`'s public sensors from `store`."""
    service = Service(store, catalogue)
    # Ready before the first Datastream is asked for, but started in the serving process
    # (stadtpuls.per_process: never before gunicorn's fork).
    server.before_request(OncePerProcess(service.first_times.start))
    server.config[_SERVICE_KEY] = service
    methods = ["GET", "HEAD", *_WRITES]
    server.add_url_rule(PREFIX, "sta_root", _handle, methods=methods, defaults={"path": ""})
    server.add_url_rule(f"{PREFIX}/", "sta_root_slash", _handle, methods=methods,
                        defaults={"path": ""})
    server.add_url_rule(f"{PREFIX}/<path:path>", "sta_path", _handle, methods=methods)


def _handle(path: str) -> Response:
    if request.method in _WRITES:
        response = _json(405, {"code": 405, "type": "error", "message": (
            f"{request.method} is not allowed: this SensorThings service is read-only")})
        response.headers["Allow"] = ALLOW
        return response
    if len(request.full_path) > MAX_URL_CHARS:
        return _json(400, StaError(400, f"the URL is longer than {MAX_URL_CHARS} characters; "
                                        "shorten $filter or $expand").body())
    service = current_app.config[_SERVICE_KEY]
    assert isinstance(service, Service)  # install() put it there
    base = request.url_root.rstrip("/") + PREFIX
    try:
        answer = service.answer(path, dict(request.args.items()), base)
    except StaError as exc:
        return _json(exc.status, exc.body())
    except StoreError as exc:
        _log.warning("SensorThings request failed on the store: %s", exc)
        return _json(503, {"code": 503, "type": "error", "message": (
            "the data store is not available; try again later")})
    if answer.content_type == "text/plain":
        return Response(str(answer.body), mimetype="text/plain")
    return _json(200, answer.body)


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body, ensure_ascii=False, separators=(",", ":")),
                    status=status, mimetype="application/json")
