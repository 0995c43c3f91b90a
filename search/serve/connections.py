"""Deadlines and a cap for connections that have not yet sent a whole request: uvicorn's HTTP/1.1 protocol
(h11) with a clock on each new connection.

    protocol = guarded_protocol(deadline=2.0, most_waiting=32)   # uvicorn.Config(http=protocol)

A new connection has `deadline` seconds to send its first request whole
(headers and body); one that sends nothing, or a byte at a time, is closed
then. At most `most_waiting` connections may be in that state at once: a new one
past the cap closes the oldest of them. A client of ours sends its request
right after connecting, so it is hardly ever among them; a stranger opening
hundreds of slow connections only closes its own. After a first request the
gate (search/serve/guard.py) has either refused it, and closed the
connection, or found the token: a connection kept open for more requests
belongs to a token holder, and uvicorn's keep-alive timeout ends it when it idles.
"""

from __future__ import annotations

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol


def guarded_protocol(deadline: float, most_waiting: int) -> type[H11Protocol]:
    """An H11Protocol class whose connections have `deadline` seconds to send a first request, at most
    `most_waiting` of them at once (one server's: each call makes its own)."""
    waiting: dict[H11Protocol, asyncio.TimerHandle] = {}  # oldest first

    class GuardedProtocol(H11Protocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            while len(waiting) >= most_waiting:
                next(iter(waiting)).drop()
            waiting[self] = self.loop.call_later(deadline, self.drop)

        def drop(self) -> None:
            """Close this connection: its time to send a request is up, or newer ones need its place."""
            self.received()
            self.transport.close()

        def received(self) -> None:
            handle = waiting.pop(self, None)
            if handle is not None:
                handle.cancel()

        def handle_events(self) -> None:
            super().handle_events()
            if self in waiting and self.conn.their_state in (h11.DONE, h11.MUST_CLOSE):
                self.received()

        def connection_lost(self, exc: Exception | None) -> None:
            self.received()
            super().connection_lost(exc)

    return GuardedProtocol
