"""JSON and URL forms: ids in paths, times, absolute links, ordering, next links."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

from opendata.sta.errors import bad_request
from opendata.sta.expression import resolve
from opendata.sta.graph import Entity
from opendata.sta.instant import Instant
from opendata.sta.query import Order


def plain_observation(e: Entity, base: str) -> dict[str, Any]:
    """What `Service._render` makes of an Observation without $select or $expand, in a third
    of the time: pages of 1,000 observations are the bulk of the service's work."""
    link = f"{base}/Observations('{e.id}')"
    p = e.props
    return {"@iot.id": e.id, "@iot.selfLink": link,
            "phenomenonTime": p["phenomenonTime"].iso(), "resultTime": p["resultTime"].iso(),
            "result": p["result"], "resultQuality": p["resultQuality"],
            "Datastream@iot.navigationLink": f"{link}/Datastream",
            "FeatureOfInterest@iot.navigationLink": f"{link}/FeatureOfInterest"}


def parse_id(text: str) -> int | str:
    if text.isdigit() and len(text) <= 16:
        return int(text)
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    raise bad_request(f"id {text[:40]!r} is neither a number nor a quoted string")


def lit(iot_id: int | str) -> str:
    return str(iot_id) if isinstance(iot_id, int) else "'" + iot_id.replace("'", "''") + "'"


def absolute(key: str, value: Any, base: str) -> Any:
    """A Sensor's metadata is a dashboard path (graph.py); clients get the absolute URL."""
    if key == "metadata" and isinstance(value, str) and value.startswith("/"):
        return base.rsplit("/sta/", 1)[0] + value
    return value


def to_json(value: Any) -> Any:
    return value.iso() if isinstance(value, Instant) else value


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def sorted_by(items: list[Entity], orderby: list[Order],
              navigate: Callable[[Entity, str], Entity | None]) -> list[Entity]:
    out = sorted(items, key=lambda e: sortable(e.id))
    for order in reversed(orderby):  # stable sorts, least significant key first
        keys = {id(e): sortable(resolve(e, order.path, navigate)) for e in out}
        out.sort(key=lambda e: keys[id(e)], reverse=order.descending)
    return out


def sortable(value: Any) -> tuple[int, Any]:
    if value is None or isinstance(value, (dict, list)) or type(value) is object:
        return (0, 0)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (1, value)
    return (2, str(value))


def next_link(url: str, raw: dict[str, str], changes: dict[str, str], drop: str = "") -> str:
    params = {k: v for k, v in raw.items() if k not in (drop, *changes)}
    params.update(changes)
    return url + "?" + urlencode(params, quote_via=quote, safe="$'(),/:@")
