"""The two ways a store write can fail, as seen by the caller.

Client libraries raise dozens of exception types; the store boundary reduces them to the one
question the ingest has to answer: try again later (keep the readings, spool them), or never
(the data itself is refused: dead-letter it).
"""

from __future__ import annotations


class StoreError(Exception):
    """Base of store failures. The message is one line: cause and what to do."""


class StoreUnavailable(StoreError):
    """The store cannot take the write now (down, overloaded, auth); retry later."""


class StoreRejected(StoreError):
    """The store refused the data itself (HTTP 400-style); retrying will not help."""
