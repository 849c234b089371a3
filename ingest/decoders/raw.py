"""`raw`: the payload is one decimal number in ASCII (``21.5``, ``-3``, ``1.2e3``).

Timed at reception; site and sensor come from `stadtpuls/<site>/<sensor>`. The grammar is
JSON's number plus an optional sign and surrounding whitespace; Python's float() would also
take ``nan``, ``inf`` and ``1_000``, none of which a sensor means.

A JSON object on a raw sensor's topic is decoded as `json` instead of rejected: devices get
re-flashed to richer firmware (and `stadtpuls simulate --format json` sends objects for every
sensor), and an object is never ambiguous with a plain number.
"""

from __future__ import annotations

import re

from ingest.decoders import json_decoder
from ingest.decoders.common import number, show
from ingest.decoders.contract import DecodeError, Sample
from ingest.decoders.json_decoder import topic_identity

# Every character can be matched by one part of the pattern only (no repeated group, no two
# adjacent quantifiers over the same characters), so a failing match takes linear time: the
# old `\d+\.?\d*` could split a run of digits in n ways and took 6.5 s for 16 KB of them.
NUMBER = re.compile(rb"\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*")
# No sensor sends a number longer than this; a longer payload is refused before the regex.
MAX_NUMBER_BYTES = 256


def decode(topic: str, payload: bytes, received_at_ns: int) -> list[Sample]:
    if len(payload) > MAX_NUMBER_BYTES or NUMBER.fullmatch(payload) is None:
        if payload.lstrip().startswith(b"{"):
            return json_decoder.decode(topic, payload, received_at_ns)
        if not payload.strip():
            raise DecodeError("payload is empty; send one number such as 21.5")
        raise DecodeError(f"payload {show(payload)} is not a plain number; send e.g. 21.5 "
                          "(or use the json decoder for objects)")
    site, sensor = topic_identity(topic)
    return [Sample(site, sensor, received_at_ns, number(float(payload), "the value"))]
