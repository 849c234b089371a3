"""The one error type of the SensorThings service, answered in the FROST error format."""

from __future__ import annotations


class StaError(Exception):
    """A request the service refuses: `status` (400, 404, 405) and a one-line message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def body(self) -> dict[str, object]:
        return {"code": self.status, "type": "error", "message": self.message}


def bad_request(message: str) -> StaError:
    return StaError(400, message)


def not_found(message: str) -> StaError:
    return StaError(404, message)
