"""The pipeline's own figures: the names the ingest writes and the dashboard reads.

Each ingest client writes readings of site `_pipeline`, sensor `<client-id>/<figure>`, every
few seconds, through the normal write path (so they are spooled, not lost, while the store
is down). Counters are cumulative since the ingest started; gauges are values as they are.
"""

from __future__ import annotations

from enum import StrEnum

PIPELINE_SITE = "_pipeline"
"""Reserved site id (the catalogue forbids ids starting with `_`)."""


class PipelineFigure(StrEnum):
    MESSAGES_ACCEPTED = "messages_accepted"
    MESSAGES_REJECTED = "messages_rejected"
    READINGS_WRITTEN = "readings_written"
    READINGS_UNREGISTERED = "readings_unregistered"
    READINGS_IMPLAUSIBLE = "readings_implausible"
    READINGS_SPOOLED = "readings_spooled"
    SPOOL_DEPTH = "spool_depth"
    BROKER_CONNECTED = "broker_connected"
    STORE_OK = "store_ok"
    NEWEST_READING_AGE = "newest_reading_age"


COUNTERS = (PipelineFigure.MESSAGES_ACCEPTED, PipelineFigure.MESSAGES_REJECTED,
            PipelineFigure.READINGS_WRITTEN, PipelineFigure.READINGS_UNREGISTERED,
            PipelineFigure.READINGS_IMPLAUSIBLE)
"""Counters the pipeline page shows as rates."""
GAUGES = (PipelineFigure.SPOOL_DEPTH, PipelineFigure.BROKER_CONNECTED, PipelineFigure.STORE_OK)


def pipeline_sensor(client_id: str, figure: PipelineFigure) -> str:
    return f"{client_id}/{figure}"


def split_pipeline_sensor(sensor: str) -> tuple[str, str] | None:
    """(client id, figure name) of a pipeline sensor id, else None."""
    client, sep, figure = sensor.rpartition("/")
    return (client, figure) if sep and client else None
