"""InfluxDB line protocol for `Reading`s, written by hand because it is the hot path.

influxdb-client's `Point` costs several microseconds per reading; a batch of SenML packs at
100,000 readings/s leaves about ten. Escaping follows the line-protocol reference: in
measurements commas and spaces, in tag keys and values also equals signs.
"""

from __future__ import annotations

from collections.abc import Sequence

from stadtpuls.reading import Reading

_TAG_ESCAPES = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ "})
_MEASUREMENT_ESCAPES = str.maketrans({",": r"\,", " ": r"\ "})
_BOOL = ("false", "true")


def escape_tag(value: str) -> str:
    return value.translate(_TAG_ESCAPES)


def encode_lines(readings: Sequence[Reading]) -> str:
    """One line per reading; tags in key order (sensor, site) as InfluxDB prefers."""
    tag_cache: dict[tuple[str, str, str], str] = {}
    lines = []
    for r in readings:
        ident = (r.quantity.value, r.sensor, r.site)
        prefix = tag_cache.get(ident)
        if prefix is None:
            prefix = (f"{r.quantity.value.translate(_MEASUREMENT_ESCAPES)},"
                      f"sensor={escape_tag(r.sensor)},site={escape_tag(r.site)} value=")
            tag_cache[ident] = prefix
        lines.append(f"{prefix}{r.value!r},implausible={_BOOL[r.implausible]},"
                     f"unregistered={_BOOL[r.unregistered]} {r.time_ns}")
    return "\n".join(lines)


def quote_ident(name: str) -> str:
    """An InfluxQL double-quoted identifier (for names that cannot be bound parameters)."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
