"""Ingest: MQTT in, decoded and validated `Reading`s out to the store, nothing lost.

Data flow inside: paho client -> `decoding.MessageDecoder` (decoder registry + validation)
-> batcher -> store write or on-disk spool -> MQTT ack. Rejected messages go to the dead-letter
store. ARCHITECTURE.md §4 has the delivery guarantees.
"""
