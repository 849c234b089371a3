"""Turn one MQTT message into `Reading`s, or reject it with a reason.

`MessageDecoder` picks the decoder for a topic, runs it and validates the samples against
the catalogue (`ingest.validate`). The decoder for a topic is the one a catalogue sensor on
that exact topic names; any other topic is decoded by its layout (ARCHITECTURE.md §7):

    stadtpuls/<site>/senml                  senml
    stadtpuls/<site>/<sensor>               json (also takes a bare number)
    v3/<app>@<tenant>/devices/<device>/up   ttn-v3

`decode` raises `Rejected` and nothing else, whatever the bytes: the ingest loop must survive
any payload, and the dead-letter store keeps the reason next to the message for a replay.
"""

from __future__ import annotations

from ingest.decoders import DecodeError, PayloadDecoder, Rejected, get_decoder
from ingest.decoders.common import show
from ingest.validate import Validator
from stadtpuls.catalogue import Catalogue
from stadtpuls.reading import Reading
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

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self._validator = Validator(catalogue)
        self._by_topic: dict[str, tuple[str, PayloadDecoder]] = {}
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
            self._by_topic[topic] = (sensor.decoder, get_decoder(sensor.decoder))

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
        try:
            name, decoder = self._by_topic.get(topic) or _by_layout(topic)
            samples = decoder(topic, payload, received_at_ns)
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


def _by_layout(topic: str) -> tuple[str, PayloadDecoder]:
    site_and_last = parse_stadtpuls_topic(topic)
    if site_and_last is not None:
        name = "senml" if site_and_last[1] == "senml" else "json"
    elif parse_ttn_topic(topic) is not None:
        name = "ttn-v3"
    else:
        raise Rejected(f"topic {show(topic, 120)} is neither a catalogue sensor's topic nor a "
                       "Stadtpuls layout (stadtpuls/<site>/<sensor>, stadtpuls/<site>/senml, "
                       "v3/<app>@<tenant>/devices/<device>/up): publish there or add the "
                       "sensor with its `topic` to the catalogue")
    return name, get_decoder(name)

