"""Finished bulk files of closed periods, in memory, bounded in bytes.

A closed day or month does not change (opendata/periods.py), so its bytes are kept and sent
again without a store query; the ETag in the key retires an entry whose data did change.
The cache holds at most `max_bytes`, a single file at most `max_file_bytes` (larger ones are
streamed from the store every time), and evicts the least recently used first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_FILE_BYTES = 8 * 1024 * 1024


class FileCache:
    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES,
                 max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> None:
        self.max_bytes = max_bytes
        self.max_file_bytes = min(max_file_bytes, max_bytes)
        self._files: OrderedDict[Hashable, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> bytes | None:
        with self._lock:
            body = self._files.get(key)
            if body is not None:
                self._files.move_to_end(key)
            return body

    def put(self, key: Hashable, body: bytes) -> bool:
        """Keep `body` unless it is too large for the cache; True if kept."""
        if len(body) > self.max_file_bytes:
            return False
        with self._lock:
            old = self._files.pop(key, None)
            self._size -= len(old) if old is not None else 0
            self._files[key] = body
            self._size += len(body)
            while self._size > self.max_bytes:
                _, evicted = self._files.popitem(last=False)
                self._size -= len(evicted)
        return True

    @property
    def size(self) -> int:
        return self._size

    def __len__(self) -> int:
        return len(self._files)
