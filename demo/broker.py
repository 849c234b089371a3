"""An MQTT broker inside the demo process (amqtt), so the demo needs nothing installed.

amqtt speaks MQTT 3.1.1 only and manages about 3,000 QoS-1 messages/s (ARCHITECTURE.md §8):
plenty for a live demo, not for production, where Mosquitto runs instead. Clients that want a
persistent session must connect with a user name, because amqtt drops anonymous sessions about
a second after they disconnect.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import Future
from typing import Any

from demo.ports import free_port


class EmbeddedBroker:
    """amqtt on 127.0.0.1 in a background thread with its own event loop."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port or free_port(host)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="amqtt",
                                        daemon=True)
        self._broker: Any = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def start(self, timeout_s: float = 15.0) -> None:
        # amqtt logs every packet at INFO; the demo's console is for people.
        for name in ("amqtt", "transitions"):
            logging.getLogger(name).setLevel(logging.WARNING)
        self._thread.start()
        fut: Future[None] = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        fut.result(timeout=timeout_s)

    async def _start(self) -> None:
        from amqtt.broker import Broker

        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}",
                                      "max_connections": 100}},
            "session_expiry_interval": 3600,
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True},
            },
        }
        self._broker = Broker(config)
        await self._broker.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        if self._broker is not None:
            fut = asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop)
            try:
                fut.result(timeout=timeout_s)
            except Exception as exc:  # shutdown at exit is best effort: report, go on
                logging.getLogger(__name__).warning("embedded broker did not stop cleanly: %s",
                                                    exc)
            self._broker = None
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout_s)
