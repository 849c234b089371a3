"""The one-command demo: embedded broker and store, simulators, ingest and dashboard."""
