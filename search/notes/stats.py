"""What an opened index holds, as one plain value: what `stats` prints and the MCP `status` tool answers.

    with open_index("~/notes-index") as index:
        held = stats(index)
        held.passages, held.papers, [folder.path for folder in held.folders]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from indexer.manifest import Folder
from indexer.paper_graph import Counts

if TYPE_CHECKING:
    from search.notes.index import NoteIndex


@dataclass(frozen=True)
class IndexStats:
    """The opened generation of an index: where it is (`directory`), its number, model and model fingerprint, its
    folders (each with its note files and passages), --exclude globs, counts (`kinds`: its files by kind;
    `not_indexed`: files of other kinds beside them, by suffix; `papers`: passages that are paper records;
    `paper_counts`: the papers of its paper graph and where they are kept), the files it skipped (path →
    reason), when it was committed (`created`, seconds since the epoch) and what was wrong with newer
    generations (`warnings`)."""

    directory: str
    generation: int
    model: str
    fingerprint: str
    folders: tuple[Folder, ...]
    exclude: tuple[str, ...]
    files: int
    kinds: dict[str, int]
    not_indexed: dict[str, int]
    passages: int
    papers: int
    paper_counts: Counts
    words: int
    skipped: tuple[tuple[str, str], ...]
    created: float
    warnings: tuple[str, ...]


def stats(index: NoteIndex) -> IndexStats:
    """What the opened index holds: its folders and counts of files, passages, paper records and learned words.

    Counting the paper records reads every passage once; an index kept open
    (a warm server) keeps the count after its first call.
    """
    m = index.manifest
    return IndexStats(
        directory=index.directory, generation=m.generation, model=m.model, fingerprint=m.fingerprint,
        folders=m.folders(), exclude=tuple(m.exclude), files=len(m.files), kinds=m.kinds(),
        not_indexed=dict(m.others), passages=m.passages, papers=index.paper_count(),
        paper_counts=index.paper_graph().counts, words=len(m.words), skipped=tuple(sorted(m.skipped.items())),
        created=m.created, warnings=tuple(index.warnings))
