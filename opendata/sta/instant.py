"""Times in the SensorThings API: epoch ns inside, ISO 8601 UTC outside, exact both ways."""

from __future__ import annotations

import re
from datetime import datetime

from stadtpuls.timebase import NS_PER_S, from_ns, to_ns

# datetime.fromisoformat drops digits below the microsecond; readings keep nanoseconds, and a
# time copied from an observation must select exactly that observation.
_ISO = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d)?)(?:\.(\d{1,9}))?(Z|[+-]\d\d:?\d\d)$")


class Instant(int):
    """Epoch nanoseconds that render as ISO 8601; compares as the int it is."""

    def iso(self) -> str:
        seconds, frac = divmod(int(self), NS_PER_S)
        text = from_ns(seconds * NS_PER_S).strftime("%Y-%m-%dT%H:%M:%S")
        if frac:
            text += "." + f"{frac:09d}".rstrip("0")
        return text + "Z"


def parse_instant(text: str) -> Instant:
    """An ISO 8601 time with a zone, to the nanosecond; ValueError if it is not one."""
    match = _ISO.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not an ISO 8601 time with a zone")
    zone = "+00:00" if match[3] == "Z" else match[3]
    whole = to_ns(datetime.fromisoformat(match[1] + zone))
    return Instant(whole + int((match[2] or "").ljust(9, "0")))
