"""Index runs of a warm server, one at a time in a background thread, from `index` requests or the watcher.

    runs = IndexRuns(warm_index, watched=told)
    report = runs.run(paths=None, exclude=None, model=None, wait=30)  # waits for this run only
    runs.watch(stop)  # runs an update after each burst of note changes, until `stop` is set
    runs.last  # the last run that finished (a Run: who asked, when, its report or its error)

A search never waits for a run: runs write a new generation beside the
committed one, and searches answer from the committed one until the run
commits (WarmIndex then opens the new one). Runs never overlap: each waits
for the one before, in order.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from search.server import WarmIndex

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Run:
    """A finished index run: who asked for it, when it ended (epoch seconds), and its report
    (search.answers.report_data) or the error it raised."""

    by: Literal["request", "watch"]
    finished: float
    report: dict | None = None
    error: Exception | None = None


def _logged(run: Run) -> None:
    if run.error is not None:
        logger.warning("an update after note changes failed: %s", run.error)
    else:
        logger.info("an update after note changes committed generation %d", run.report["generation"])


class IndexRuns:
    """One background thread that runs the updates of a warm index in the order they were asked for.

    `watched(run)` hears of each run the watcher started (default: the log).
    """

    def __init__(self, notes: WarmIndex, watched: Callable[[Run], None] | None = None):
        self.notes = notes
        self.watched = watched or _logged
        self.running = False
        self.done = 0  # runs finished, failed ones included
        self.last: Run | None = None
        self._jobs: queue.Queue = queue.Queue()
        # A daemon: a run cut off when the server stops is crash-safe (its generation was never committed).
        self._thread = threading.Thread(target=self._work, name="index-runs", daemon=True)
        self._thread.start()

    def submit(self, paths: list | None, exclude: list | None, model: str | None, wait: float,
               by: Literal["request", "watch"] = "request") -> Future:
        """Queue one run (arguments as WarmIndex.update); its future holds {"report": report_data of the build}."""
        future: Future = Future()
        self._jobs.put((future, (paths, exclude, model, wait), by))
        return future

    def run(self, paths: list | None, exclude: list | None, model: str | None, wait: float,
            by: Literal["request", "watch"] = "request") -> dict:
        """Queue one run and wait for it: {"report": ...}, or its exception raised here."""
        return self.submit(paths, exclude, model, wait, by).result()

    def _work(self) -> None:
        while True:
            future, arguments, by = self._jobs.get()
            if not future.set_running_or_notify_cancel():
                continue
            self.running = True
            try:
                response = self.notes.update(*arguments)
            except BaseException as error:  # noqa: BLE001 (handed to the one who asked)
                self.last = Run(by, time.time(), error=error)
                future.set_exception(error)
            else:
                self.last = Run(by, time.time(), report=response["report"])
                future.set_result(response)
            finally:
                self.running = False
                self.done += 1

    def watch(self, stop: threading.Event, force_polling: bool | None = None) -> threading.Thread:
        """Watch the index's folders in a thread and run an update after each burst of note changes."""
        from indexer.watch import watch_notes

        def changed() -> None:
            try:
                report = self.run(None, None, None, wait=60.0, by="watch")["report"]
            except Exception as error:  # noqa: BLE001 (told; watching goes on)
                self.watched(Run("watch", time.time(), error=error))
                return
            self.watched(Run("watch", time.time(), report=report))

        thread = threading.Thread(target=watch_notes, args=(self.notes.directory, changed, stop),
                                  kwargs={"force_polling": force_polling}, name="watch", daemon=True)
        thread.start()
        return thread
