"""Stable `@iot.id`s: the same entity keeps its id across restarts and catalogue edits.

Catalogue entities get a number derived from what identifies them in the catalogue — the
entity type plus (site id, sensor id), or the quantity for an ObservedProperty — through
BLAKE2b, truncated to 53 bits so that every JSON client (JavaScript's doubles included) reads
it exactly. Renaming, moving or re-describing a sensor keeps its ids; only a new site or
sensor id makes new ones (it is then another sensor to the store as well). Ids are unique per
entity set; `check_unique` refuses to start on a collision (about 1 in 10^11 for 1,000
sensors) rather than serve two entities under one id.

Observations are not in the catalogue: their id is the string `<datastream id>t<time in
epoch ns>`. A series holds at most one reading per time (a second write overwrites), so the
pair is unique and stable; it is a string because 53 + 64 bits do not fit one exact JSON
number.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

MAX_ID = 2**53 - 1
_OBSERVATION_ID = re.compile(r"^([1-9][0-9]{0,15})t(-?[0-9]{1,19})$")


def stable_id(entity_type: str, *parts: str) -> int:
    """A number in [1, 2^53) for an entity of `entity_type` identified by `parts`."""
    text = "\x1f".join((entity_type, *parts)).encode()
    digest = hashlib.blake2b(text, digest_size=8, person=b"stadtpuls-sta").digest()
    return (int.from_bytes(digest, "big") >> 11) or 1


def check_unique(entity_type: str, named: Iterable[tuple[int, str]]) -> None:
    """Raise RuntimeError naming both entities if two of `entity_type` share an id."""
    seen: dict[int, str] = {}
    for iot_id, name in named:
        if iot_id in seen and seen[iot_id] != name:
            raise RuntimeError(
                f"SensorThings {entity_type} ids collide: {seen[iot_id]!r} and {name!r} both "
                f"hash to {iot_id}; rename one of the sensors' ids")
        seen[iot_id] = name


def observation_id(datastream_id: int, time_ns: int) -> str:
    return f"{datastream_id}t{time_ns}"


def parse_observation_id(text: str) -> tuple[int, int] | None:
    """(datastream id, time ns) of an observation id, or None if it is not one."""
    match = _OBSERVATION_ID.match(text)
    if match is None:
        return None
    return int(match[1]), int(match[2])
