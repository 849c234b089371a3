"""`ttn-v3`: The Things Stack (v3) uplink messages on `v3/<app>@<tenant>/devices/<device>/up`.

Only uplinks are subscribed; other message types (join accepts, downlink events) travel on
other topics. Stadtpuls reads what The Things Stack's payload formatter produced:

- each numeric key of ``uplink_message.decoded_payload`` becomes a sample with ``device``
  and ``field`` set; the catalogue maps (device, field) to a sensor. Keys whose value is not
  a number (strings, objects, lists, null) are skipped: formatters commonly add status text
  or nested GPS objects next to the measurements.
- ``decoded_payload.battery`` (percent) and the RSSI and SNR of the best gateway (highest
  RSSI, falling back to channel RSSI) become health samples of the device, quantities
  ``battery``, ``rssi``, ``snr``. The Things Stack omits zero-valued fields, so an SNR of
  exactly 0 dB is simply absent.
- time: ``uplink_message.received_at`` (network server reception, identical when the same
  uplink is delivered twice), else the top-level ``received_at``, else reception here.

`site` of each sample is the application id: the validator uses it only for devices the
catalogue does not know (a known device's sensors name their site).
"""

from __future__ import annotations

from typing import Any

from ingest.decoders.common import (
    iso_to_ns,
    kind,
    load_json,
    number,
    show,
)
from ingest.decoders.contract import DecodeError, Sample
from stadtpuls.topics import parse_ttn_topic

NO_DECODED_PAYLOAD = ("no decoded_payload: configure a payload formatter in The Things "
                      "Stack")


def decode(topic: str, payload: bytes, received_at_ns: int) -> list[Sample]:
    message = load_json(payload)
    if type(message) is not dict:
        raise DecodeError(f"a TTN v3 message is a JSON object, got {kind(message)}")
    device, app = _ids(message, topic)
    uplink = message.get("uplink_message")
    if type(uplink) is not dict:
        raise DecodeError("not an uplink message (no 'uplink_message' object); subscribe to "
                          "v3/+/devices/+/up only")
    decoded = uplink.get("decoded_payload")
    if decoded is None:
        raise DecodeError(NO_DECODED_PAYLOAD)
    if type(decoded) is not dict:
        raise DecodeError(f"'decoded_payload' is {kind(decoded)}, not an object; make the "
                          "payload formatter return an object")
    time_ns = _time(message, uplink, received_at_ns)

    samples: list[Sample] = []
    for key, value in decoded.items():
        if type(value) is not int and type(value) is not float:
            continue  # text, objects, null, booleans: see the module docstring
        number_ = number(value, f"decoded_payload.{show(key)}")
        if key == "battery":
            samples.append(Sample(app, device, time_ns, number_, "battery", "%", key, device,
                                  True))
        else:
            samples.append(Sample(app, device, time_ns, number_, None, None, key, device))
    samples.extend(_radio(uplink, app, device, time_ns))
    if not samples:
        raise DecodeError("the uplink has no numeric decoded_payload field and no gateway "
                          "metadata; check the payload formatter's output")
    return samples


def _ids(message: dict[str, Any], topic: str) -> tuple[str, str]:
    """(device id, application id) from end_device_ids, checked against the topic."""
    ids = message.get("end_device_ids")
    if type(ids) is not dict:
        raise DecodeError("no 'end_device_ids' object; is this a The Things Stack v3 message?")
    device = ids.get("device_id")
    if type(device) is not str or not device:
        raise DecodeError(f"'end_device_ids.device_id' is {kind(device)}, not a device id")
    app_ids = ids.get("application_ids")
    app = app_ids.get("application_id") if type(app_ids) is dict else None
    from_topic = parse_ttn_topic(topic)
    if from_topic is not None:
        topic_app, topic_device = from_topic
        if topic_device != device:
            raise DecodeError(f"the topic names device {show(topic_device)} but the message "
                              f"{show(device)}")
        app = app if type(app) is str and app else topic_app
    if type(app) is not str or not app:
        raise DecodeError("'end_device_ids.application_ids.application_id' is missing")
    return device, app


def _time(message: dict[str, Any], uplink: dict[str, Any], received_at_ns: int) -> int:
    for where, container in (("uplink_message.received_at", uplink),
                             ("received_at", message)):
        value = container.get("received_at")
        if value is not None:
            if type(value) is not str:
                raise DecodeError(f"'{where}' is {kind(value)}, not an ISO 8601 time")
            return iso_to_ns(value, f"'{where}'")
    return received_at_ns


def _radio(uplink: dict[str, Any], app: str, device: str, time_ns: int) -> list[Sample]:
    """RSSI and SNR of the gateway that heard the uplink best."""
    gateways = uplink.get("rx_metadata")
    if type(gateways) is not list:
        return []
    best: tuple[float, dict[str, Any]] | None = None
    for gateway in gateways:
        if type(gateway) is not dict:
            continue
        rssi = gateway.get("rssi", gateway.get("channel_rssi"))
        if type(rssi) is not int and type(rssi) is not float:
            continue
        rssi = number(rssi, "rx_metadata[].rssi")
        if best is None or rssi > best[0]:
            best = (rssi, gateway)
    if best is None:
        return []
    rssi, gateway = best
    out = [Sample(app, device, time_ns, rssi, "rssi", "dBm", "rssi", device, True)]
    snr = gateway.get("snr")
    if type(snr) is int or type(snr) is float:
        out.append(Sample(app, device, time_ns, number(snr, "rx_metadata[].snr"), "snr", "dB",
                          "snr", device, True))
    return out
