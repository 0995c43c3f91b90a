"""What happens to a served index, told to every page that listens: `GET /api/events`, server-sent events.

    events = Events()
    events.tell("progress", {"by": "watch", "stage": "embed", "done": 64, "total": 128})   # from any thread
    async for chunk in events.stream(first): ...                                          # one listener

The events are
- `state`, first: {"generation", "watching", "updating"};
- `progress`, a step of an index run: {"by": "request" or "watch", "stage", "done", "total"};
- `run`, an index run ended: {"by", "finished" (ISO 8601), "report" (what `index --json` prints) or null,
  "error" ({"kind", "message"}) or null}; after a committed run, searches answer from its generation.
A listener that falls behind loses progress steps, never a `run`. A comment line
every KEEP_ALIVE seconds lets a listener that went away be noticed.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import threading
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from search.serve.updates import Run

KEEP_ALIVE = 15.0  # seconds between comment lines to an idle listener
BACKLOG = 256  # events kept for a listener that falls behind


def sse(event: str, data: dict) -> bytes:
    """One server-sent event."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def run_event(run: Run) -> dict:
    """The data of a `run` event: who asked for the run, when it ended, and its report or its error."""
    finished = datetime.datetime.fromtimestamp(run.finished).astimezone().isoformat(timespec="seconds")
    error = None if run.error is None else {"kind": type(run.error).__name__, "message": str(run.error)}
    return {"by": run.by, "finished": finished, "report": run.report, "error": error}


class Events:
    """The listeners of one server and what they are told; `tell` may be called from any thread."""

    def __init__(self) -> None:
        self._listeners: set[tuple[asyncio.AbstractEventLoop, asyncio.Queue]] = set()
        self._lock = threading.Lock()

    def tell(self, event: str, data: dict) -> None:
        """Tell every listener of `event` with `data`."""
        with self._lock:
            listeners = list(self._listeners)
        for loop, queue in listeners:
            try:
                loop.call_soon_threadsafe(_put, queue, event, data)
            except RuntimeError:  # its loop has closed: the server is stopping
                pass

    def close(self) -> None:
        """End every listener's stream (the server is stopping)."""
        self.tell("", {})

    def told_run(self, run: Run) -> None:
        """Tell every listener that an index run ended."""
        self.tell("run", run_event(run))

    async def stream(self, first: dict) -> AsyncIterator[bytes]:
        """The events of one listener, from a `state` event with `first`, until it goes away."""
        queue: asyncio.Queue = asyncio.Queue(BACKLOG)
        member = (asyncio.get_running_loop(), queue)
        with self._lock:
            self._listeners.add(member)
        try:
            yield sse("state", first)
            while True:
                try:
                    event, data = await asyncio.wait_for(queue.get(), KEEP_ALIVE)
                except asyncio.TimeoutError:
                    yield b": still here\n\n"
                    continue
                if not event:
                    return
                yield sse(event, data)
        finally:
            with self._lock:
                self._listeners.discard(member)


def _put(queue: asyncio.Queue, event: str, data: dict) -> None:
    if queue.full():
        if event == "progress":  # an empty event (the end) always gets in
            return  # a step more or less: the next one says where the run is
        queue.get_nowait()  # make room for the end of a run
    queue.put_nowait((event, data))
