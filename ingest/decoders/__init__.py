"""Payload decoders by name; the names are the catalogue's `decoder` values.

Each decoder is a pure function `(topic, payload, received_at_ns) -> list[Sample]` that
raises `DecodeError` for malformed input (see `ingest.decoders.contract`). To add a format,
write a module with such a function, register it here and add its name to the catalogue's
`DecoderName`; a test keeps the two in step.
"""

from __future__ import annotations

from ingest.decoders import json_decoder, raw, senml, ttn_v3
from ingest.decoders.contract import (
    DecodeError,
    PayloadDecoder,
    ReadingDecoder,
    Rejected,
    Sample,
)

DECODERS: dict[str, PayloadDecoder] = {
    "json": json_decoder.decode,
    "raw": raw.decode,
    "senml": senml.decode,
    "ttn-v3": ttn_v3.decode,
}


def get_decoder(name: str) -> PayloadDecoder:
    """The decoder registered as `name`, or a ValueError listing the known names."""
    try:
        return DECODERS[name]
    except KeyError:
        known = ", ".join(sorted(DECODERS))
        raise ValueError(f"unknown decoder {name!r}; known decoders: {known}") from None


__all__ = ["DECODERS", "DecodeError", "PayloadDecoder", "ReadingDecoder", "Rejected", "Sample",
           "get_decoder"]
