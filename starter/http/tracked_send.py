"""An ASGI `send` that remembers whether the response has started.

A middleware can answer in the application's place (413, 503) only until then; after that, the
client already has a status line and the failure can only propagate.
"""

from __future__ import annotations

from starlette.types import Message, Send


class TrackedSend:
    """Passes every message on to `send`, noting when `http.response.start` goes out."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.response_started = False

    async def __call__(self, message: Message) -> None:
        self.response_started = self.response_started or message["type"] == "http.response.start"
        await self._send(message)
