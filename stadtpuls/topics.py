"""Where readings travel on MQTT: the topic layouts and the SenML name scheme.

One home for the wire addresses that the simulators publish to, the catalogue defaults to,
and the ingest decodes by (ARCHITECTURE.md §7):

    stadtpuls/<site>/<sensor>               one sensor, JSON or a bare number
    stadtpuls/<site>/senml                  a SenML pack for the site
    v3/<app>@<tenant>/devices/<device>/up   The Things Stack v3 uplinks

SenML names `urn:dev:stadtpuls:<site>:<sensor>` name site and sensor.
"""

from __future__ import annotations

ROOT = "stadtpuls"
SENML_LEVEL = "senml"
SENML_URN_PREFIX = "urn:dev:stadtpuls:"

DEFAULT_SUBSCRIPTIONS = (f"{ROOT}/#", "v3/+/devices/+/up")
"""Topic filters that cover every layout above."""


def sensor_topic(site: str, sensor: str) -> str:
    return f"{ROOT}/{site}/{sensor}"


def senml_topic(site: str) -> str:
    return f"{ROOT}/{site}/{SENML_LEVEL}"


def senml_base_name(site: str) -> str:
    """SenML `bn` that makes each record's `n` the sensor id of `site`."""
    return f"{SENML_URN_PREFIX}{site}:"


def ttn_uplink_topic(application: str, tenant: str, device: str) -> str:
    return f"v3/{application}@{tenant}/devices/{device}/up"


def parse_stadtpuls_topic(topic: str) -> tuple[str, str] | None:
    """(site, last level) of `stadtpuls/<site>/<x>`, else None."""
    parts = topic.split("/")
    if len(parts) == 3 and parts[0] == ROOT and parts[1] and parts[2]:
        return parts[1], parts[2]
    return None


def parse_ttn_topic(topic: str) -> tuple[str, str] | None:
    """(application id, device id) of `v3/<app>@<tenant>/devices/<device>/up`, else None."""
    parts = topic.split("/")
    if (len(parts) == 5 and parts[0] == "v3" and parts[2] == "devices" and parts[4] == "up"
            and parts[1] and parts[3]):
        return parts[1].partition("@")[0], parts[3]
    return None


def topic_matches(topic_filter: str, topic: str) -> bool:
    """Whether an MQTT topic filter (with + and #) matches a topic (MQTT 5 §4.7)."""
    if topic.startswith("$") and topic_filter[:1] in ("+", "#"):
        return False
    levels = topic.split("/")
    for i, level in enumerate(topic_filter.split("/")):
        if level == "#":
            return True
        if i >= len(levels) or (level != "+" and level != levels[i]):
            return False
    return len(topic_filter.split("/")) == len(levels)
