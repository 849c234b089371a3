"""Turn one MQTT message into `Reading`s, or reject it with a reason.

`MessageDecoder` picks the decoder for a topic, runs it and validates the samples against
the catalogue (`ingest.validate`). The decoder for a topic is the one a catalogue sensor on
that exact topic names; any other topic is decoded by its layout (ARCHITECTURE.md §7):

    stadtpuls/<site>/senml                  senml
    stadtpuls/<site>/<sensor>               json (also takes a bare number)
    v3/<app>@<tenant>/devices/<device>/up   ttn-v3

`decode` raises `Rejected` and nothing else, whatever the bytes: the ingest loop must survive
any payload, and the dead-letter store keeps the reason next to the message for a replay.
Before a decoder runs, the payload's size is checked, and after it every sample's time
(`ingest.limits`): both are integer comparisons, so they cost nothing next to decoding.
"""

from __future__ import annotations

import functools

from ingest.decoders import DecodeError, PayloadDecoder, Rejected, get_decoder, senml
from ingest.decoders.common import show
from ingest.decoders.json_decoder import share_identity
from ingest.limits import TIME_OUT_OF_RANGE, EdgeLimits, too_large_reason
from ingest.series_budget import SeriesBudget
from ingest.validate import ID_DECODERS, Validator
from stadtpuls.catalogue import Catalogue
from stadtpuls.reading import Reading
from stadtpuls.timebase import NS_PER_S, from_ns
from stadtpuls.topics import (
    DEFAULT_SUBSCRIPTIONS,
    parse_stadtpuls_topic,
    parse_ttn_topic,
    topic_matches,
)


class MessageDecoder:
    """Decoder registry + validation against the catalogue. Pure: no I/O, thread-safe.

    Raises ValueError at construction when the catalogue is inconsistent for decoding (two
    decoders on one topic, two sensors claiming one TTN field), so ingest fails at start-up.
    """

    def __init__(self, catalogue: Catalogue, limits: EdgeLimits | None = None) -> None:
        self.catalogue = catalogue
        self.limits = limits = limits or EdgeLimits()
        self._max_payload = limits.max_payload_bytes
        self._max_future_ns = limits.max_future_ns
        self._max_age_ns = limits.max_age_ns
        self.series_budget = SeriesBudget(limits.new_series_per_hour)
        self._validator = Validator(catalogue, self.series_budget)
        self._decoders = {"senml": functools.partial(senml.decode,
                                                     max_records=limits.max_pack_records)}
        self._by_topic: dict[str, tuple[str, PayloadDecoder]] = {}
        routes: dict[str, tuple[str, PayloadDecoder]] = {}  # one per decoder, shared by topics
        for site, sensor in catalogue.sensors():
            if sensor.decoder == "ttn-v3" and sensor.topic is None:
                continue  # TTN topics are found by layout, the device by its id
            topic = Catalogue.topic_of(site, sensor)
            if "+" in topic or "#" in topic:
                raise ValueError(f"sensor {site}/{sensor.id}: topic {topic!r} contains a "
                                 "wildcard; give the exact topic it publishes on")
            known = self._by_topic.get(topic)
            if known is not None and known[0] != sensor.decoder:
                raise ValueError(f"topic {topic!r} has sensors with decoders {known[0]!r} and "
                                 f"{sensor.decoder!r} (e.g. {site}/{sensor.id}); one topic "
                                 "carries one payload format")
            self._by_topic[topic] = routes.setdefault(sensor.decoder, (
                sensor.decoder, self._decoder(sensor.decoder)))
            if sensor.decoder in ID_DECODERS:
                share_identity(topic, site, sensor.id)

    def _decoder(self, name: str) -> PayloadDecoder:
        return self._decoders.get(name) or get_decoder(name)

    def subscriptions(self) -> list[str]:
        """MQTT topic filters that cover every topic this catalogue can receive."""
        filters = list(DEFAULT_SUBSCRIPTIONS)
        for topic in sorted(self._by_topic):
            if not any(topic_matches(f, topic) for f in filters):
                filters.append(topic)
        return filters

    def decode(self, topic: str, payload: bytes, received_at_ns: int) -> list[Reading]:
        """All readings of the message (canonical units, marks set) or raise Rejected."""
        name = "?"
        if len(payload) > self._max_payload:
            raise Rejected(too_large_reason(len(payload), self._max_payload))
        try:
            name, decoder = self._by_topic.get(topic) or self._by_layout(topic)
            samples = decoder(topic, payload, received_at_ns)
            earliest = received_at_ns - self._max_age_ns
            latest = received_at_ns + self._max_future_ns
            for sample in samples:
                if not earliest <= sample.time_ns <= latest:
                    raise Rejected(self._time_reason(sample.time_ns, received_at_ns))
            return self._validator.to_readings(samples, topic)
        except Rejected as exc:
            if "\n" in exc.reason or "\r" in exc.reason:  # the dead-letter store keeps one line
                raise Rejected(exc.reason.replace("\r", "\\r").replace("\n", "\\n")) from None
            raise
        except DecodeError as exc:
            raise Rejected(f"{name} payload: {exc.reason}") from None
        except Exception as exc:
            # A bug must cost one message (kept as a dead letter), not the ingest loop.
            raise Rejected(f"internal error in the {name} decoder ({type(exc).__name__}: "
                           f"{show(str(exc), 120)}); please report it with this "
                           "message") from exc

    def _time_reason(self, time_ns: int, received_at_ns: int) -> str:
        ahead_s = (time_ns - received_at_ns) / NS_PER_S
        when = f"{TIME_OUT_OF_RANGE}: {_iso(time_ns)} is"
        if ahead_s > 0:
            return (f"{when} {_duration(ahead_s)} ahead of reception; readings more than "
                    f"{self.limits.max_future_s} s in the future are refused (--max-future-s): "
                    "check the sensor's clock and the unit of its 'ts' (seconds or "
                    "milliseconds)")
        return (f"{when} {_duration(-ahead_s)} before reception, older than the retention of "
                f"{self.limits.retention_days} days (--retention-days): check the sensor's "
                "clock and the unit of its 'ts'")

    def _by_layout(self, topic: str) -> tuple[str, PayloadDecoder]:
        site_and_last = parse_stadtpuls_topic(topic)
        if site_and_last is not None:
            name = "senml" if site_and_last[1] == "senml" else "json"
        elif parse_ttn_topic(topic) is not None:
            name = "ttn-v3"
        else:
            raise Rejected(f"topic {show(topic, 120)} is neither a catalogue sensor's topic nor "
                           "a Stadtpuls layout (stadtpuls/<site>/<sensor>, "
                           "stadtpuls/<site>/senml, v3/<app>@<tenant>/devices/<device>/up): "
                           "publish there or add the sensor with its `topic` to the catalogue")
        return name, self._decoder(name)


def _iso(time_ns: int) -> str:
    try:
        return from_ns(time_ns).isoformat(timespec="seconds")
    except (ValueError, OverflowError, OSError):  # beyond datetime's years 1..9999
        return f"{time_ns} ns"


def _duration(seconds: float) -> str:
    if seconds < 2 * 3600:
        return f"{seconds:.0f} s"
    if seconds < 2 * 86_400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86_400 / 365.25:.1f} years" if seconds > 2 * 365 * 86_400 \
        else f"{seconds / 86_400:.0f} days"

