"""Ingest: MQTT in, decoded and validated `Reading`s out to the store, nothing lost.

Data flows one way: `mqtt.session` (paho) -> `inbound` queue -> `batching` (decode with
`decoding.MessageDecoder`, batch) -> `delivery` (store, else spool, else dead letters) -> the
acks go back to the session; `service` wires the threads. ARCHITECTURE.md §4 has the delivery
guarantees.
"""
