"""The MQTT session: the only part of the ingest that imports paho (an import contract checks
it). `session` owns the connection, `fast_client` every use of paho's private API."""
