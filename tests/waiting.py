"""Waiting for something that happens in another process or thread: one helper for all tests.

A wait is not a timing assertion: the timeout only bounds how long a broken run hangs, so it
is generous (the machines are shared and noisy).
"""

from __future__ import annotations

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
