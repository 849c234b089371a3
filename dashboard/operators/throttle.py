"""Failed logins, counted per client address and per operator name, in bounded memory."""

from __future__ import annotations

import threading
from collections import OrderedDict, deque

from stadtpuls.timebase import NS_PER_S

MAX_FAILURES = 5
WINDOW_S = 900.0
MAX_KEYS = 10_000


class FailedLogins:
    """At most `max_failures` failures per key within `window_s`; then every attempt for
    that key is refused (without checking the password) until the oldest failure ages out.

    Keys are "addr:<ip>" and "name:<operator>": an address cannot try many names, and many
    addresses cannot try one name. At most `max_keys` keys are kept (the least recently
    failed are forgotten first), so a flood of addresses costs bounded memory.
    """

    def __init__(self, max_failures: int = MAX_FAILURES, window_s: float = WINDOW_S,
                 max_keys: int = MAX_KEYS) -> None:
        self.max_failures = max_failures
        self.window_ns = int(window_s * NS_PER_S)
        self.max_keys = max_keys
        self._failures: OrderedDict[str, deque[int]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, key: str, now_ns: int) -> deque[int] | None:
        times = self._failures.get(key)
        if times is not None:
            while times and times[0] <= now_ns - self.window_ns:
                times.popleft()
            if not times:
                del self._failures[key]
                return None
        return times

    def blocked(self, keys: list[str], now_ns: int) -> bool:
        with self._lock:
            return any(len(self._recent(k, now_ns) or ()) >= self.max_failures for k in keys)

    def failed(self, keys: list[str], now_ns: int) -> None:
        with self._lock:
            for key in keys:
                times = self._recent(key, now_ns) or deque(maxlen=self.max_failures)
                times.append(now_ns)
                self._failures[key] = times
                self._failures.move_to_end(key)
            while len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)

    def __len__(self) -> int:
        return len(self._failures)
