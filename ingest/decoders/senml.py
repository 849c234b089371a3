"""`senml`: RFC 8428 SenML packs in JSON on `stadtpuls/<site>/senml`.

Resolution follows RFC 8428 §4: base fields (bn, bt, bu, bv, bs, bver) apply to their record
and every later one until a record sets the same base field again; the name is bn + n; the
time is bt + t, and a resolved time below 2**28 is relative to "now", which is the message's
reception time; the value is bv + v, the sum bs + s; the unit is u, else bu. Labels ending in
'_' that we do not know make the whole pack invalid (must-understand, §4.4); other unknown
labels are ignored. A version (bver) above 10 is refused, and all records must share one.

Stadtpuls' choices where RFC 8428 leaves room:

- Names: ``urn:dev:stadtpuls:<site>:<sensor>`` gives site and sensor; any other resolved name
  is the sensor id, and the site comes from the topic. A pack writes only into its own site:
  on `stadtpuls/<site>/senml` a name of another site rejects the pack (the broker's ACL gives
  each site its own topic prefix, and the payload must not step around it).
- Size: a pack of more than `max_records` records (default 10,000) is rejected before any
  record is resolved.
- Sums: a record with a sum and no value field is read as a cumulative counter: the sample's
  value is bs + s, in the record's unit as written (meters send "Wh" or "count"). RFC 8428
  defines the sum's unit as unit × seconds; a compliant "W" sum therefore fails unit
  conversion for an energy sensor instead of being stored as a wrong number. When a record
  has both, the value wins: one sensor has one quantity, so both would be the same series.
- String, boolean and data values (vs, vb, vd) are skipped: Stadtpuls stores numbers, and
  packs routinely mix a status string with measurements (RFC 8428 §5.1.5). A pack with no
  numeric value at all is rejected, so nothing disappears without a reason.
- A record with no name, value or sum only sets base fields (RFC 8428 §5.1.7) and is skipped.
"""

from __future__ import annotations

import functools
import math
import re
from typing import Any

from ingest.decoders.common import (
    check_ns,
    kind,
    load_json,
    number,
    seconds_to_ns,
    show,
)
from ingest.decoders.contract import DecodeError, Sample
from ingest.limits import MAX_PACK_RECORDS
from stadtpuls.topics import SENML_URN_PREFIX, parse_stadtpuls_topic

_BASE = frozenset({"bn", "bt", "bu", "bv", "bs", "bver"})
# Records with only these labels take the fast path: a numeric value, nothing to skip.
_PLAIN = _BASE | {"n", "u", "v", "t", "ut"}
_OTHER_VALUES = ("vs", "vb", "vd")
_KNOWN = _PLAIN | {"s", *_OTHER_VALUES}
_SUPPORTED_VERSION = 10
_RELATIVE_BELOW = 2**28
# RFC 8428 §4.5.1: the characters a resolved name may use, and how it must start.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9:./_-]*")


def decode(topic: str, payload: bytes, received_at_ns: int, *,
           max_records: int = MAX_PACK_RECORDS) -> list[Sample]:
    pack = load_json(payload)
    if type(pack) is not list:
        raise DecodeError(f"a SenML pack is a JSON array of records, got {kind(pack)}; "
                          "wrap the record in [ ]")
    if not pack:
        raise DecodeError("the SenML pack is empty")
    if len(pack) > max_records:
        raise DecodeError(f"the pack has {len(pack)} records, more than the limit of "
                          f"{max_records} (--max-pack-records); send smaller packs")
    parsed = parse_stadtpuls_topic(topic)
    topic_site = parsed[0] if parsed is not None else None
    try:
        samples = _resolve(pack, topic_site, received_at_ns)
    except _RecordError as exc:
        raise DecodeError(f"record {exc.index}: {exc.reason}") from None
    if not samples:
        raise DecodeError("the pack holds no numeric value ('v' or 's'); string, boolean and "
                          "data values are not stored")
    return samples


class _RecordError(Exception):
    def __init__(self, index: int, reason: str) -> None:
        super().__init__(reason)
        self.index = index
        self.reason = reason


def _resolve(pack: list[Any], topic_site: str | None, now_ns: int) -> list[Sample]:
    bn = ""
    bt: float = 0
    bu: str | None = None
    bv = 0.0
    bs = 0.0
    version = _SUPPORTED_VERSION
    base_time_ns: int | None = None  # time of records without 't', until bt changes
    samples: list[Sample] = []
    append = samples.append
    index = 0
    try:
        for index, record in enumerate(pack):  # the handler below reports `index`
            if type(record) is not dict:
                raise DecodeError(f"is {kind(record)}, not an object")
            keys = record.keys()
            if not keys.isdisjoint(_BASE):
                bn, bt, bu, bv, bs, version = _bases(record, index, bn, bt, bu, bv, bs, version)
                base_time_ns = None

            v = record.get("v")
            if v is not None and keys <= _PLAIN:
                if type(v) is float:
                    value = v + bv if bv else v
                elif type(v) is int:
                    value = number(v, "'v'") + bv
                else:
                    raise DecodeError(f"'v' is {kind(v)}, not a number")
                if not math.isfinite(value):
                    raise DecodeError(f"value {show(v)} is out of range")
            else:
                if not keys <= _KNOWN:
                    _check_labels(keys)
                resolved = _unusual_value(record, v, bv, bs)
                if resolved is None:
                    continue
                value = resolved

            n = record.get("n")
            if n is None:
                name = bn
            elif type(n) is str:
                name = bn + n
            else:
                raise DecodeError(f"'n' is {kind(n)}, not a string")
            site, sensor = _identity(name)
            if site is None:
                site = topic_site
            elif site != topic_site and topic_site is not None:
                raise DecodeError(f"name {show(name)} belongs to site {show(site)}, but the "
                                  f"pack came on site {show(topic_site)}'s topic; a pack "
                                  f"writes only into its own site: publish on "
                                  f"stadtpuls/{site}/senml")

            u = record.get("u")
            if u is None:
                unit = bu
            elif type(u) is str:
                unit = u
            else:
                raise DecodeError(f"'u' is {kind(u)}, not a string")

            t = record.get("t")
            if t is None:
                if base_time_ns is None:
                    base_time_ns = _time_ns(bt, now_ns)
                time_ns = base_time_ns
            elif type(t) is int or type(t) is float:
                time_ns = _time_ns(bt + t, now_ns)
            else:
                raise DecodeError(f"'t' is {kind(t)}, not a number")

            append(Sample(site, sensor, time_ns, value, None, unit))
    except DecodeError as exc:
        raise _RecordError(index, exc.reason) from None
    return samples


def _bases(record: dict[str, Any], index: int, bn: str, bt: float, bu: str | None,
           bv: float, bs: float, version: int
           ) -> tuple[str, float, str | None, float, float, int]:
    if "bver" in record:
        bver = record["bver"]
        if type(bver) is not int or bver < 1:
            raise DecodeError(f"'bver' is {kind(bver)}, not a positive integer")
        if bver > _SUPPORTED_VERSION:
            raise DecodeError(f"SenML version {bver} is newer than the version this decoder "
                              f"understands ({_SUPPORTED_VERSION}); send bver {_SUPPORTED_VERSION}"
                              " or less")
        if index > 0 and bver != version:
            raise DecodeError(f"'bver' {bver} differs from the pack's version {version}; all "
                              "records of a pack must share one version (RFC 8428 §4.4)")
        version = bver
    if "bn" in record:
        bn = record["bn"]
        if type(bn) is not str:
            raise DecodeError(f"'bn' is {kind(bn)}, not a string")
    if "bt" in record:
        bt = record["bt"]
        if type(bt) is not int:
            bt = number(bt, "'bt'")
    if "bu" in record:
        bu = record["bu"]
        if type(bu) is not str:
            raise DecodeError(f"'bu' is {kind(bu)}, not a string")
    if "bv" in record:
        bv = number(record["bv"], "'bv'")
    if "bs" in record:
        bs = number(record["bs"], "'bs'")
    return bn, bt, bu, bv, bs, version


def _check_labels(keys: Any) -> None:
    for key in keys:
        if key not in _KNOWN and key.endswith("_"):
            raise DecodeError(f"label {show(key)} ends in '_', so it must be understood (RFC "
                              "8428 §4.4), and Stadtpuls does not know it; drop it from the "
                              "pack")


def _unusual_value(record: dict[str, Any], v: object, bv: float, bs: float) -> float | None:
    """Value of a record off the fast path, or None when the record is skipped."""
    present = [label for label in ("v", *_OTHER_VALUES) if label in record]
    if len(present) > 1:
        raise DecodeError(f"has {' and '.join(present)}; a record carries exactly one value "
                          "field (RFC 8428 §4.2)")
    if present == ["v"]:
        if v is None:
            raise DecodeError("'v' is null, not a number")
        value = number(v, "'v'") + bv
    elif present:
        return None  # vs, vb, vd: not numbers, see the module docstring
    elif "s" in record:
        value = number(record["s"], "'s'") + bs
    elif "n" not in record:
        return None  # only base fields (RFC 8428 §5.1.7)
    else:
        raise DecodeError("has a name but no value ('v', 'vs', 'vb', 'vd') and no sum ('s')")
    if not math.isfinite(value):
        raise DecodeError("value is out of range")
    return value


@functools.lru_cache(maxsize=4096)
def _identity(name: str) -> tuple[str | None, str]:
    """(site or None, sensor) of a resolved name; cached because packs repeat names."""
    if not name:
        raise DecodeError("has no name: give 'n' or a base name 'bn'")
    if _NAME.fullmatch(name) is None:
        raise DecodeError(f"name {show(name)} uses characters RFC 8428 §4.5.1 does not allow "
                          "(A-Z a-z 0-9 - : . / _, starting with a letter or digit)")
    if name.startswith(SENML_URN_PREFIX):
        site, _, sensor = name[len(SENML_URN_PREFIX):].partition(":")
        if not site or not sensor or ":" in sensor:
            raise DecodeError(f"name {show(name)} is not {SENML_URN_PREFIX}<site>:<sensor>")
        return site, sensor
    return None, name


def _time_ns(seconds: float, now_ns: int) -> int:
    if seconds < _RELATIVE_BELOW:  # relative to "now" (RFC 8428 §4.5.3)
        return check_ns(now_ns + seconds_to_ns(seconds, "time"), "time")
    return seconds_to_ns(seconds, "time")
