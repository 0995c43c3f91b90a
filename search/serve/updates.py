"""Index runs of a warm server, one at a time in a background thread, from `index` requests or the watcher.

    runs = IndexRuns(warm_index, watched=told)
    job = runs.submit({"paths": None}, wait=30, progress=show)  # queued; show(stage, done, total) as it goes
    job.cancel()  # stops it: before it starts, or at its next step (nothing is committed)
    report = runs.run({}, wait=30)  # queue one and wait for it
    runs.watch(stop)  # runs an update now, then after each burst of note changes, until `stop` is set
    runs.last  # the last run that finished (a Run: who asked, when, its report or its error)

A search never waits for a run: runs write a new generation beside the
committed one, and searches answer from the committed one until the run
commits (WarmIndex then opens the new one). Runs never overlap: each waits
for the one before, in order. A run's `wait` counts from when it was asked
for: the time it waits behind other runs and for the index's writer lock.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from corpus.errors import Cancelled, IndexBusy

if TYPE_CHECKING:
    from indexer.passage_vectors import Progress
    from search.serve.warm import WarmIndex

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Run:
    """A finished index run: who asked for it, when it ended (epoch seconds), and its report
    (search.results.report_data) or the error it raised."""

    by: Literal["request", "watch"]
    finished: float
    report: dict | None = None
    error: Exception | None = None


@dataclass
class Job:
    """One index run asked for: WarmIndex.update's `arguments`, who asked, and how to follow or stop it.

    `future` holds {"report": ...} or the run's error; `started` is set when
    the run begins; `deadline` (time.monotonic) is when it must have begun and
    held the writer lock, else it fails with IndexBusy.
    """

    arguments: dict
    by: Literal["request", "watch"]
    wait: float
    progress: Progress | None = None
    future: Future = field(default_factory=Future)
    started: threading.Event = field(default_factory=threading.Event)
    stopping: threading.Event = field(default_factory=threading.Event)
    deadline: float = 0.0

    def __post_init__(self) -> None:
        self.deadline = time.monotonic() + self.wait

    def cancel(self) -> None:
        """Stop the run: a queued one never starts, a running one stops at its next step (nothing committed)."""
        self.stopping.set()
        self.future.cancel()

    def cancel_if_late(self) -> bool:
        """Cancel the run when it has not begun by its deadline; True when it was cancelled (the caller says it was
        busy)."""
        if self.started.is_set() or time.monotonic() < self.deadline or not self.future.cancel():
            return False
        self.stopping.set()
        return True


def _logged(run: Run) -> None:
    if run.error is not None:
        logger.warning("an update after note changes failed: %s", run.error)
    else:
        logger.info("an update after note changes committed generation %d", run.report["generation"])


class IndexRuns:
    """One background thread that runs the updates of a warm index in the order they were asked for.

    `watched(run)` hears of each run the watcher started (default: the log);
    `stepped(by, stage, done, total)` of each step of every run, and `ended(run)`
    of the end of every run (a served page follows them: search/serve/events.py).
    """

    def __init__(self, notes: WarmIndex, watched: Callable[[Run], None] | None = None,
                 stepped: Callable[[str, str, int, int], None] | None = None,
                 ended: Callable[[Run], None] | None = None):
        self.notes = notes
        self.watched = watched or _logged
        self.stepped = stepped
        self.ended = ended
        self.running = False
        self.done = 0  # runs finished, failed ones included
        self.last: Run | None = None
        self._jobs: queue.Queue = queue.Queue()
        # A daemon: a run cut off when the server stops is crash-safe (its generation was never committed).
        self._thread = threading.Thread(target=self._work, name="index-runs", daemon=True)
        self._thread.start()

    def submit(self, arguments: dict, wait: float, by: Literal["request", "watch"] = "request",
               progress: Progress | None = None) -> Job:
        """Queue one run (`arguments` of WarmIndex.update but `wait`); `progress(stage, done, total)` is told as it
        goes, from the run's thread."""
        job = Job(arguments, by, wait, progress)
        self._jobs.put(job)
        return job

    def run(self, arguments: dict, wait: float, by: Literal["request", "watch"] = "request") -> dict:
        """Queue one run and wait for it: {"report": ...}, or its exception raised here."""
        job = self.submit(arguments, wait, by)
        if not job.started.wait(wait) and job.cancel_if_late():
            raise IndexBusy(self.notes.directory, wait)
        return job.future.result()

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if not job.future.set_running_or_notify_cancel():
                continue
            job.started.set()
            self.running = True
            try:
                response = self.notes.update(**job.arguments, wait=max(0.0, job.deadline - time.monotonic()),
                                             progress=self._told(job))
            except BaseException as error:  # noqa: BLE001 (handed to the one who asked)
                self._finished(Run(job.by, time.time(), error=error))
                job.future.set_exception(error)
            else:
                self._finished(Run(job.by, time.time(), report=response["report"]))
                job.future.set_result(response)
            if self.ended is not None:
                try:
                    self.ended(self.last)
                except Exception:  # the runs go on
                    logger.exception("telling of the end of an index run failed")

    def _finished(self, run: Run) -> None:
        """Count `run` as done, before its asker hears of it: what they ask next (status, ping) sees it over."""
        self.last = run
        self.running = False
        self.done += 1

    def _told(self, job: Job) -> Progress:
        """The progress callback of a job's run: stops the run once the job is cancelled."""

        def told(stage: str, done: int, total: int) -> None:
            if job.stopping.is_set():
                raise Cancelled(self.notes.directory)
            if job.progress is not None:
                job.progress(stage, done, total)
            if self.stepped is not None:
                self.stepped(job.by, stage, done, total)

        return told

    def watch(self, stop: threading.Event, force_polling: bool | None = None) -> threading.Thread:
        """Watch the index's folders in a thread and run an update after each burst of note changes, and once at
        the start (a catch-up: notes may have changed while nothing watched)."""
        from search.serve.watch import watch_notes

        def changed() -> None:
            try:
                report = self.run({}, wait=60.0, by="watch")["report"]
            except Exception as error:  # noqa: BLE001 (told; watching goes on)
                self.watched(Run("watch", time.time(), error=error))
                return
            self.watched(Run("watch", time.time(), report=report))

        thread = threading.Thread(target=watch_notes, args=(self.notes.directory, changed, stop),
                                  kwargs={"force_polling": force_polling, "catch_up": True}, name="watch",
                                  daemon=True)
        thread.start()
        return thread
