"""What the HTTP API of a served index works on: the warm index, its queue of index runs, the events a page
listens to, and the counts. search/serve/app.py answers from it; search/serve/server.py puts it on a port.

    served = ServedIndex(directory)          # opens the index (NoIndex when there is none)
    served.notes.search(...)                 # WarmIndex: any thread
    job = served.runs.submit(arguments, 30)  # IndexRuns: one run at a time, in the background
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from search.serve.events import Events
from search.serve.warm import WarmIndex

if TYPE_CHECKING:
    from indexer.embedders import Embedder
    from search.serve.guard import Access
    from search.serve.updates import Job, Run


class ServedIndex:
    """One index kept open for the API: searches share its WarmIndex, runs wait in its IndexRuns, and every run's
    steps and end are told to the page's listeners (Events). `access` holds the server's tokens (set by the
    server once it has a port)."""

    access: Access

    def __init__(self, directory: str, embedder: Embedder | None = None, watch: bool = False,
                 watched: Callable[[Run], None] | None = None):
        """Opens the index now (raising NoIndex). With `watch`, notes changed under its folders are indexed as
        they change; `watched(run)` hears of each such run."""
        import indexer.builder  # noqa: F401 (loaded now, so the first index run does not wait for it)
        from search.serve.updates import IndexRuns

        self.notes = WarmIndex(directory, embedder)
        self.directory = self.notes.directory
        self.answered = 0  # searches answered
        self.updates = 0  # index runs asked for and done
        self._count = threading.Lock()
        self.events = Events()
        self.runs = IndexRuns(self.notes, watched, stepped=self._stepped, ended=self.events.told_run)
        self.runs_followed: dict[int, Job] = {}  # runs asked for over HTTP and not yet answered, by number
        self._run_numbers = itertools.count(1)
        self.stop_watching = threading.Event()
        self.watching = watch

    def start_watching(self) -> None:
        """Follow the notes' changes (with `watch`), until `close`."""
        if self.watching:
            self.runs.watch(self.stop_watching)

    def ping(self) -> dict:
        """Whether this server answers, and the generation it answers from (the one open now: a ping does no
        work, so that it is answered at once however busy the searches are)."""
        index = self.notes.index
        return {"pid": os.getpid(), "index": self.directory,
                "generation": None if index is None else index.manifest.generation, "answered": self.answered}

    def state_event(self) -> dict:
        """The first event a page listening to /api/events hears: the generation, and whether it is updating."""
        index = self.notes.refresh()
        return {"generation": index.manifest.generation, "watching": self.watching, "updating": self.runs.running}

    def _stepped(self, by: str, stage: str, done: int, total: int) -> None:
        self.events.tell("progress", {"by": by, "stage": stage, "done": done, "total": total})

    def count_answer(self) -> None:
        with self._count:
            self.answered += 1

    def count_update(self) -> None:
        with self._count:
            self.updates += 1

    def follow_run(self, job: Job) -> int:
        """A number for a run asked for over HTTP, by which it can be stopped (DELETE /api/index/NUMBER)."""
        number = next(self._run_numbers)
        self.runs_followed[number] = job
        return number

    def forget_run(self, number: int) -> None:
        self.runs_followed.pop(number, None)

    def close(self) -> None:
        """Stop watching, end the listeners' streams, close the index."""
        self.stop_watching.set()
        self.events.close()
        self.notes.close()
