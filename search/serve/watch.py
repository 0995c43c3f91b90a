"""Watch the folders of an index and ask for an update after each burst of note changes.

    watch_notes(index_dir, changed=run_an_update, stop=threading.Event())

The folders and exclusions are the index's own (its manifest). Only changes
that an `index` run would see count: a note file of a kind it reads (corpus/kinds.py: Markdown, text,
notebooks, Org files, PDFs) added,
changed, moved or deleted, a folder of notes moved in or deleted; not editor
temp files (`.x.swp`, `x~`, `.#x`, `4913`), hidden folders, excluded files, or
the index folder itself when it lies among the notes. A burst of changes makes
one call: `changed()` runs once the folders have been quiet for `quiet`
seconds, or `longest` seconds after the first change. Changes made while it
runs are kept and make the next call.

The watching is watchfiles' (Rust, inotify/FSEvents/ReadDirectoryChanges), which
falls back to polling by itself where the platform gives no events; `force_polling`
(or WATCHFILES_FORCE_POLLING) polls always. Idle, it wakes a few times a second
to check `stop` and costs no measurable CPU.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

from corpus.paths import inside
from corpus.reading import EDITOR_TEMP, NOTE_SUFFIXES, excluded
from indexer.generations import newest_manifest
from indexer.manifest import Manifest

logger = logging.getLogger(__name__)

ADDED = 1  # watchfiles.Change.added
QUIET = 0.5  # seconds without changes that end a burst
LONGEST = 5.0  # seconds after its first change that a burst is cut off anyway
RECHECK = 10.0  # seconds between looks at the manifest for other folders (an `index PATH` elsewhere)
REAPPEAR = 1.0  # seconds between looks for the index's folders when none of them exists
STEP = 100  # milliseconds: how often watchfiles looks at what it has gathered (and at `stop`)


class NoteChanges:
    """The watch filter: True for a change an `index` run of the index would see."""

    def __init__(self, manifest: Manifest, directory: str):
        self.directory = os.path.abspath(directory)
        self.update(manifest)

    def update(self, manifest: Manifest) -> None:
        """Follow a newly committed generation (its folders, exclusions and files)."""
        self.roots = tuple(os.path.abspath(root) for root in manifest.roots)
        self.exclude = manifest.exclude
        self.files = frozenset(manifest.files)

    def __call__(self, change: object, path: str) -> bool:
        path = os.path.abspath(path)
        if inside(path, self.directory):
            return False
        root = next((r for r in self.roots if inside(path, r)), None)
        if root is None:
            return False
        rel = os.path.relpath(path, root if os.path.isdir(root) else os.path.dirname(root)).replace(os.sep, "/")
        parts = rel.split("/")
        name = parts[-1]
        if any(part.startswith(".") for part in parts[:-1]) or EDITOR_TEMP.search(name):
            return False
        if excluded(rel, self.exclude):
            return False
        if name.lower().endswith(NOTE_SUFFIXES):
            return True
        if os.path.isdir(path):  # a folder of notes moved in (a folder merely touched is not a change)
            return change == ADDED and not name.startswith(".") and _holds_notes(path)
        prefix = path + os.sep  # gone: a folder of indexed notes deleted or moved out
        return any(file.startswith(prefix) for file in self.files)


def _holds_notes(folder: str) -> bool:
    for _folder, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        if any(name.lower().endswith(NOTE_SUFFIXES) for name in files):
            return True
    return False


def _identities(roots: tuple[str, ...]) -> dict[str, tuple[int, int] | None]:
    """Which file or folder each root is now (device and inode), or None when it does not exist."""
    found = {}
    for root in roots:
        try:
            info = os.stat(root)
            found[root] = (info.st_dev, info.st_ino)
        except OSError:
            found[root] = None
    return found


def watch_notes(directory: str, changed: Callable[[], None], stop: threading.Event, *, quiet: float = QUIET,
                longest: float = LONGEST, force_polling: bool | None = None, catch_up: bool = False) -> None:
    """Call `changed()` after each burst of note changes under the folders of the index in `directory`,
    until `stop` is set.

    Waits for the index when there is none yet. `changed()` runs in this
    thread; an exception from it is logged and watching goes on. With
    `catch_up`, `changed()` runs once as soon as the folders are watched, for
    what changed while nothing watched. A folder that is deleted and made
    again (or replaced: another inode), or that appears after watching began,
    is watched again, and `changed()` runs for it.
    """
    from watchfiles import watch

    pending = catch_up
    while not stop.is_set():
        manifest = newest_manifest(directory)  # a damaged manifest.json is no reason to stop watching
        if manifest is None:
            stop.wait(RECHECK)
            continue
        identities = _identities(manifest.roots)
        roots = [root for root, identity in identities.items() if identity is not None]
        if not roots:
            logger.warning("none of the folders of %s exists: waiting for them", directory)
            stop.wait(REAPPEAR)
            pending = True  # whatever comes back is looked at as soon as it is watched
            continue
        notes = NoteChanges(manifest, directory)
        watched = (manifest.roots, manifest.exclude)
        # When the pending burst began and when it last grew (0: none pending). A catch-up is a burst that is
        # already over: it runs at the watcher's first look.
        first = last = time.monotonic() - quiet if pending else 0.0
        pending = False
        checked = time.monotonic()
        try:
            # watchfiles yields a batch once its set of changes stops growing for `step`; a note saved
            # again and again is one member of that set, so the quiet period is timed here instead.
            for changes in watch(*roots, watch_filter=notes, debounce=int(longest * 1000), step=STEP,
                                 stop_event=stop, rust_timeout=int(quiet * 1000), yield_on_timeout=True,
                                 debug=False, raise_interrupt=False, force_polling=force_polling,
                                 ignore_permission_denied=True):
                now = time.monotonic()
                if changes:
                    first, last = first or now, now
                    logger.info("%d note changes under %s", len(changes), ", ".join(roots))
                if _identities(manifest.roots) != identities:
                    pending = True  # a folder deleted, made again or replaced: watched again, then looked at
                    break
                if first and (now - last >= quiet or now - first >= longest):
                    first = last = 0.0
                    try:
                        changed()
                    except Exception:
                        logger.exception("an update after note changes failed")
                elif first or now - checked < RECHECK:
                    continue
                checked = time.monotonic()
                manifest = newest_manifest(directory)
                if manifest is None:
                    break
                if (manifest.roots, manifest.exclude) != watched:
                    break  # watch the index's new folders
                notes.update(manifest)
        except (OSError, RuntimeError) as error:  # a watched folder vanished, or the watcher could not start
            logger.warning("watching %s stopped (%s); starting again", ", ".join(roots), error)
            pending = True
            stop.wait(1.0)
