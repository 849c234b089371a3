"""Helpers the decoders share: strict JSON, numbers, timestamps, topic layouts."""

from __future__ import annotations

import json
import json.scanner
import math
from datetime import datetime, timedelta
from typing import Any, NoReturn

from ingest.decoders.contract import DecodeError
from ingest.limits import STORABLE_RANGE
from stadtpuls.timebase import EPOCH, MAX_NS, MIN_NS, NS_PER_S
from stadtpuls.units import Quantity

QUANTITY_NAMES: frozenset[str] = frozenset(q.value for q in Quantity)

# Checking in seconds first keeps a huge float from overflowing on the way to ns.
_MAX_S = MAX_NS / NS_PER_S

# Epoch numbers in JSON `ts`: below 1e11 they are seconds (1e11 s is the year 5138), below
# 1e14 milliseconds (1e11 ms is 1973-03-03, 1e14 ms the year 5138 again). Anything larger
# would be micro- or nanoseconds, which we refuse rather than guess.
EPOCH_MS_FROM = 1e11
EPOCH_MS_UNTIL = 1e14

_MICROSECOND = timedelta(microseconds=1)


def _reject_constant(name: str) -> NoReturn:
    # Python's json accepts NaN and Infinity, which are not JSON and not storable.
    raise DecodeError(f"{name} is not a JSON number; send a finite number")


_JSON = json.JSONDecoder(parse_constant=_reject_constant)
# The C scanner alone is a third of JSONDecoder.decode's cost on a small message; the full
# decoder runs only to word an error (and for leading whitespace, which the scanner refuses).
# (typeshed types the scanner's context as a scanner; a JSONDecoder is what it reads.)
_SCAN = json.scanner.make_scanner(_JSON)  # type: ignore[arg-type]
_JSON_SPACE = " \t\n\r"


def load_json(payload: bytes) -> Any:
    """Parse UTF-8 JSON, rejecting NaN/Infinity; every failure is a DecodeError."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DecodeError(f"payload is not UTF-8 text (byte {exc.start}); send UTF-8 "
                          "JSON") from None
    try:
        value, end = _SCAN(text, 0)
        if end == len(text) or not text[end:].strip(_JSON_SPACE):
            return value
    except (StopIteration, ValueError, RecursionError):
        pass
    try:
        return _JSON.decode(text)
    except json.JSONDecodeError as exc:
        if not text.strip():
            raise DecodeError("payload is empty; send a JSON value") from None
        raise DecodeError(f"not valid JSON: {exc.msg} at line {exc.lineno} column "
                          f"{exc.colno}") from None
    except RecursionError:
        raise DecodeError("JSON is nested too deeply") from None
    except ValueError as exc:  # e.g. integers longer than 4300 digits
        raise DecodeError(f"not usable JSON: {exc}") from None


def show(value: object, limit: int = 40) -> str:
    """A short, single-line repr of untrusted input for messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def kind(value: object) -> str:
    """How a JSON value reads in a message: 'a string ('abc')', 'null', 'an object'."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, str):
        return f"a string ({show(value)})"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return show(value)


def number(value: object, what: str) -> float:
    """A finite JSON number as float; bools, strings, null and the rest are DecodeErrors."""
    if type(value) is float:
        if math.isfinite(value):
            return value
    elif type(value) is int:
        try:
            return float(value)
        except OverflowError:
            pass
    else:
        raise DecodeError(f"{what} is {kind(value)}, not a number")
    raise DecodeError(f"{what} {show(value)} is out of range; send a finite number")


def optional_str(container: dict[str, Any], key: str, where: str) -> str | None:
    """`container[key]` if it is a string, None if absent or null, else a DecodeError."""
    value = container.get(key)
    if value is None or type(value) is str:
        return value
    raise DecodeError(f"{where}{key!r} is {kind(value)}, not a string")


def seconds_to_ns(seconds: float, what: str) -> int:
    """Epoch (or relative) seconds to integer ns: ints exactly, floats to the microsecond.

    A float near 1.7e9 s carries about 0.2 µs of precision, so the microsecond is the
    finest honest resolution; rounding there also makes the result reproducible.
    """
    if not -_MAX_S < seconds < _MAX_S:  # also catches NaN
        raise DecodeError(f"{what} {show(seconds)} s is {STORABLE_RANGE} (1677..2262)")
    if type(seconds) is int:
        return seconds * NS_PER_S
    return round(seconds * 1e6) * 1000


def check_ns(time_ns: int, what: str) -> int:
    if not MIN_NS <= time_ns < MAX_NS:
        raise DecodeError(f"{what} is {STORABLE_RANGE} (1677..2262)")
    return time_ns


def iso_to_ns(text: str, what: str) -> int:
    """ISO 8601 with an offset ('Z' or '+02:00') to ns; naive times are refused."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise DecodeError(f"{what} {show(text)} is not an ISO 8601 time; send e.g. "
                          "'2025-06-01T12:00:00Z' or epoch seconds") from None
    if when.utcoffset() is None:
        raise DecodeError(f"{what} {show(text)} has no UTC offset; append 'Z' or '+02:00'")
    # Same result as stadtpuls.reading.to_ns, in one timedelta division (a hot path).
    return check_ns((when - EPOCH) // _MICROSECOND * 1000, what)


def json_ts_to_ns(ts: object, what: str = "'ts'") -> int:
    """A JSON `ts`: ISO 8601 string, or epoch seconds / milliseconds told apart by size."""
    if type(ts) is str:
        return iso_to_ns(ts, what)
    if type(ts) is int or type(ts) is float:
        size = abs(ts)
        if size < EPOCH_MS_FROM:
            return seconds_to_ns(ts, what)
        if size < EPOCH_MS_UNTIL:
            # 1e14 ms is beyond int64 nanoseconds (year 2262): check, or a store overflows.
            return check_ns(ts * 1_000_000 if type(ts) is int else round(ts * 1e3) * 1000,
                            what)
        raise DecodeError(f"{what} {show(ts)} is too large for epoch seconds or "
                          "milliseconds; send one of those or ISO 8601")
    raise DecodeError(f"{what} is {kind(ts)}; send ISO 8601 or epoch seconds/milliseconds")

