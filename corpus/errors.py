"""Every error the library raises, in one place: each carries the data a caller needs, and says what happened.

They live in the first stage so that every later stage (indexer, search) and
every caller (cli.py, a program) imports them from here, and so that catching
one loads nothing: this module is standard library only (with `whole_number`,
the check of a count that the library calls make). `indexer` exports the
ones `build` raises and `search` exports them all.

What a user should do about one (which command to run, which option to give)
is for the caller to say: cli.py turns these into one line with a hint.
"""

from __future__ import annotations

import operator
import reprlib

_SHORT = reprlib.Repr()
_SHORT.maxstring, _SHORT.maxother, _SHORT.maxlist = 60, 60, 4
# How much of a caller's input an error message quotes: a hostile location or query may be 600 KB.
ECHO_CHARS = 80


def echo(text: str, limit: int = ECHO_CHARS) -> str:
    """`text` as a message may quote it: whole when short, else its start and how long it was."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


class NotesearchError(Exception):
    """A problem the caller can fix (as opposed to a bug)."""


class BadArgument(NotesearchError, ValueError):
    """A library call was given `value` for its argument `name`, which must be `wanted`: refused, nothing was done.

    Also a ValueError. The message is one line (a long value is shortened).
    """

    def __init__(self, name: str, value: object, wanted: str):
        self.name, self.value, self.wanted = name, value, wanted
        super().__init__(f"{name} must be {wanted}, not {_SHORT.repr(value)}")


def whole_number(name: str, value: object, least: int = 1, most: int | None = None) -> int:
    """`value` as an int when it is a whole number (an int, or a numpy integer) from `least` (to `most`); else
    BadArgument."""
    try:
        number = operator.index(value)
    except TypeError:
        number = None
    if number is None or isinstance(value, bool) or number < least or (most is not None and number > most):
        raise BadArgument(name, value, f"a whole number from {least}" + (f" to {most}" if most is not None else ""))
    return number


class NoIndex(NotesearchError):
    """No usable committed index in `directory`; `problems` says what was wrong with what was found."""

    def __init__(self, directory: str, problems: tuple[str, ...] = ()):
        self.directory = directory
        self.problems = tuple(problems)
        detail = f"no usable index at {directory} ({'; '.join(problems)})" if problems else f"no index at {directory}"
        super().__init__(detail)


class OutdatedIndex(NotesearchError):
    """The index in `directory` was built by another version in index format `found`; it must be built again."""

    def __init__(self, directory: str, found: str, wanted: str):
        self.directory, self.found, self.wanted = directory, found, wanted
        super().__init__(f"the index at {directory} was built by another version of notesearch "
                         f"(index format {found or '1'}; this version reads format {wanted})")


class UntrustedIndex(NotesearchError):
    """The index folder `directory` is refused before anything in it is read or written: `reason` says why
    (another user's, writable by others, a lock that is a link), and what to do."""

    def __init__(self, directory: str, reason: str):
        self.directory, self.reason = directory, reason
        super().__init__(f"refusing the index at {directory}: {reason}")


class IndexBusy(NotesearchError):
    """Another indexer held the index in `directory` for all of `waited` seconds."""

    def __init__(self, directory: str, waited: float):
        self.directory, self.waited = directory, waited
        super().__init__(f"the index at {directory} is busy: another indexer holds it")


class MissingFolder(NotesearchError):
    """A file or folder to index does not exist (nothing was indexed).

    `recorded` says it is one the index was built from: indexing the rest would
    remove every note of it.
    """

    def __init__(self, path: str, recorded: bool = False):
        self.path, self.recorded = path, recorded
        super().__init__(f"{path}, which this index was built from, is gone (nothing was indexed)" if recorded
                         else f"no such file or folder: {path} (nothing was indexed)")


class NoNotes(NotesearchError):
    """No files or folders were given to index into `directory`, and it has none recorded (a new index, or `lost`:
    one whose every manifest is damaged or gone); or removing the folders `removed` would leave it none (nothing
    was changed)."""

    def __init__(self, directory: str, removed: tuple[str, ...] = (), lost: bool = False):
        self.directory, self.removed, self.lost = directory, tuple(removed), lost
        if removed:
            message = f"removing {', '.join(removed)} would leave the index at {directory} no folder (nothing was changed)"
        elif lost:
            message = (f"the index at {directory} has no readable manifest left to say which folders it was built from "
                       "(nothing was changed)")
        else:
            message = f"no notes to index into {directory}: no files or folders were given"
        super().__init__(message)


class UnknownFolder(NotesearchError):
    """`path`, given to remove, is not one of the folders `roots` of the index (nothing was changed)."""

    def __init__(self, path: str, roots: tuple[str, ...]):
        self.path, self.roots = path, tuple(roots)
        folders = ", ".join(roots) or "none"
        super().__init__(f"{path} is not a folder of this index (its folders: {folders}; nothing was changed)")


class Cancelled(NotesearchError):
    """An index run on `directory` that a warm server ran was stopped before it committed: the index is as it was.

    The vectors it embedded are kept, and the next run goes on from them.
    """

    def __init__(self, directory: str):
        self.directory = directory
        super().__init__(f"the index run was stopped before it committed: the index at {directory} is as it was")


class ModelMismatch(NotesearchError):
    """The vectors of an index were made by the model `built_with` (a fingerprint), not by `given`.

    `model` names the model to build the index with again.
    """

    def __init__(self, directory: str, built_with: str, given: str, model: str):
        self.directory, self.built_with, self.given, self.model = directory, built_with, given, model
        super().__init__(f"the index at {directory} was built with {built_with}, not {given}")


class VectorIndexError(NotesearchError):
    """The vectors in `directory` are damaged or unreadable (`reason` says how)."""

    def __init__(self, directory: str, reason: str):
        self.directory, self.reason = directory, reason
        super().__init__(f"the vectors in {directory} are damaged: {reason}")


class KeywordIndexError(NotesearchError):
    """The keyword index in `directory` cannot be opened (`reason` says why); indexer/keyword raises it, so a
    reader of generations need not know the keyword index's own errors."""

    def __init__(self, directory: str, reason: str):
        self.directory, self.reason = directory, reason
        super().__init__(f"the keyword index in {directory} cannot be opened: {reason}")


class EmbedderError(NotesearchError):
    """The model `model` cannot be loaded; the message says why and what it needs."""

    def __init__(self, model: str, reason: str):
        self.model, self.reason = model, reason
        super().__init__(reason)


class IndexWriteError(NotesearchError, OSError):
    """The index in `directory` could not be written: a full disk, a read-only or unwritable folder, a file
    where the folder should be.

    Also an OSError, with the errno of the failure. `intact` says whether a
    committed index is there, unchanged (a run that fails removes what it had
    half written).
    """

    def __init__(self, directory: str, error: OSError, intact: bool):
        OSError.__init__(self, error.errno, error.strerror or str(error), error.filename)
        self.directory = directory
        self.intact = intact

    def __str__(self) -> str:
        after = "; the index is as it was" if self.intact else ""
        return f"cannot write the index at {self.directory}: {self.strerror}{after}"


class StateFileError(NotesearchError, OSError):
    """A warm server could not write its state file `name` into the index folder `directory` (so no search
    would find it): it stops. Also an OSError, with the errno of the failure."""

    def __init__(self, directory: str, name: str, error: OSError):
        OSError.__init__(self, error.errno, error.strerror or str(error), directory)
        self.directory, self.name = directory, name

    def __str__(self) -> str:
        return f"cannot write {self.name} into {self.directory}: {self.strerror}"


class OutsideIndex(NotesearchError):
    """`path` (as the caller gave it) lies outside every folder of the index: refused, nothing was read."""

    def __init__(self, path: str):
        self.path = path
        super().__init__(f"{echo(path)} is not in the indexed folders")


class OutsideFolders(NotesearchError, ValueError):
    """A note file opened to be read lies outside the folders it may be read from (a link out, swapped in since it
    was found or checked): nothing of it was read. Also a ValueError, as a file that cannot be read."""


class NoPassage(NotesearchError):
    """No indexed passage can be shown at `line` of `path` (as the caller gave it).

    `line` is None when `path` is no note of the index (excluded, skipped, or
    new since it was indexed), or when a whole `region` (a PDF's page) was asked
    for; `unreadable` says why, when the note could not be read from disk.
    """

    def __init__(self, path: str, line: int | None = None, unreadable: str = "", region: str = ""):
        self.path, self.line, self.unreadable, self.region = path, line, unreadable, region
        shown = echo(path)
        if unreadable:
            message = f"cannot read {shown}: {unreadable}"
        elif line is None and not region:
            message = f"{shown} is not a note of the index (excluded, skipped, or new since it was indexed)"
        else:
            where = ":".join(str(part) for part in (shown, region, line) if part)
            message = f"no passage of the index holds {where} (a blank line, a heading or front matter?)"
        super().__init__(message)
