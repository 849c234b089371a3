"""Waiting for something that happens in another process or thread: one helper for all tests.

A wait is not a timing assertion: the timeout only bounds how long a broken run hangs, so it
is generous (the machines are shared and noisy).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any


def wait(condition: Callable[[], Any], timeout: float, what: str = "the condition",
         step: float = 0.25) -> Any:
    """`condition()`'s first truthy result; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(step)


# Threads a served app starts at its first request (stadtpuls.per_process): they read the
# store on their own time, so a test that counts store queries waits for them first.
FIRST_REQUEST_THREADS = ("dashboard-warm-up", "sta-first-times")


def settle_first_request_work(timeout: float = 60.0) -> None:
    """Join the app's first-request threads; fails the test if one is still running."""
    deadline = time.monotonic() + timeout
    for thread in threading.enumerate():
        if thread.name in FIRST_REQUEST_THREADS:
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                raise AssertionError(f"{thread.name} still running after {timeout:.0f} s")
