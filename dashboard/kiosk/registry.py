"""Screens' last contact, kept in memory and bounded, for the pipeline page.

Each poll of `/kiosk/api/<screen>` is the screen's heartbeat. Only screens the catalogue
names are recorded (a stranger cannot fill the registry with made-up names), at most
`MAX_SCREENS`, and every stored string is cut short, so its memory has a fixed ceiling.
Several browsers showing one screen share its entry: the newest contact wins.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

MAX_SCREENS = 256
_MAX_TEXT = 64


@dataclass(frozen=True)
class Contact:
    screen: str
    last_ns: int
    version: str
    """The app version the screen's page was loaded with."""
    scene: str
    """The scene type the screen says it shows."""


class ScreenRegistry:
    def __init__(self, known: Iterable[str], max_screens: int = MAX_SCREENS) -> None:
        self.known = tuple(known)
        self._max = max_screens
        self._contacts: dict[str, Contact] = {}
        self._lock = threading.Lock()
        self.listener: Callable[[], None] | None = None
        """Called after each recorded contact (the alert state's heartbeat writer)."""

    def record(self, screen: str, version: str, scene: str, now_ns: int) -> bool:
        """Note a contact; False (and nothing stored) for a screen not in the catalogue."""
        if screen not in self.known:
            return False
        contact = Contact(screen, now_ns, version[:_MAX_TEXT], scene[:_MAX_TEXT])
        with self._lock:
            if screen not in self._contacts and len(self._contacts) >= self._max:
                return False
            self._contacts[screen] = contact
        if self.listener is not None:
            self.listener()
        return True

    def contacts(self) -> list[Contact | None]:
        """Every catalogue screen in catalogue order: its last contact, or None (never)."""
        with self._lock:
            return [self._contacts.get(screen) for screen in self.known]

    def __len__(self) -> int:
        return len(self._contacts)
