"""Durations such as `90m`, `2h`, `7d`, `1h30m` and instants such as `2025-06-01T10:00`."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_UNITS = {"s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")


def parse_duration(text: str) -> timedelta:
    """`30s`, `90m`, `2h`, `7d`, `2w` or a sum like `1h30m`; a ValueError says what is valid."""
    spec = text.strip().lower()
    pos = 0
    seconds = 0.0
    for match in _PART.finditer(spec):
        if match.start() != pos:
            break
        seconds += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if not spec or pos != len(spec):
        raise ValueError(
            f"{text!r} is not a duration; write a number and a unit (s, m, h, d, w), "
            "e.g. 90m, 2h, 7d or 1h30m"
        )
    if seconds <= 0:
        raise ValueError(f"duration {text!r} must be longer than zero")
    return timedelta(seconds=seconds)


def parse_instant(text: str) -> datetime:
    """An ISO 8601 date or date-time; without a zone it is taken as UTC."""
    spec = text.strip()
    try:
        when = datetime.fromisoformat(spec.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{text!r} is not a date or time; use ISO 8601 such as 2025-01-01 or "
            "2025-06-01T10:00 (UTC unless it carries an offset like +02:00)"
        ) from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def format_duration(delta: timedelta) -> str:
    """Shortest exact spelling: 7d, 2h, 90m, 45s."""
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
