"""What an index run finds damaged in an index folder, and how it makes it good: one line for each case.

Under the writer lock, before anything is read for the build:

- a damaged or lost manifest.json, a generation whose files do not match
  their checksums, a damaged copy of a manifest: the run builds a new
  generation on the newest intact one (or the whole index again, when none is
  intact) and commits it, even when no note changed;
- the folders, model and exclusions are those of the newest manifest that can
  still be read, intact generation or not: a lost manifest never makes the
  index forget its folders (nor take in the bundled notes); with no manifest
  left at all, the run needs the folders given;
- jieba's caches that do not match what the manifest recorded (or that no
  manifest vouches for) are removed, and written again from jieba's own
  dictionary, and the new generation records them;
- parts of the checkpoint (vectors a stopped run embedded) that are damaged,
  of the wrong width, or hold a NaN or a zero vector are removed by
  indexer/checkpoint.py, which says so the same way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from indexer.checksums import CACHES, file_stamp
from indexer.files import file_sha256
from indexer.generations import open_newest, remove_generations
from indexer.manifest import Manifest


@dataclass
class Found:
    """An index folder as a run finds it.

    `base` is the newest intact generation (what the run builds on), `recorded`
    the newest manifest that can be read (what the index was built from: its
    folders, model and exclusions), `warnings` one line per damaged thing found
    and what the run does about it, `repair` whether a new generation must be
    committed whatever the notes, and `caches` jieba's caches found intact,
    with their checksum and stamp (so the commit need not hash them again).
    """

    base: Manifest | None = None
    recorded: Manifest | None = None
    warnings: list[str] = field(default_factory=list)
    repair: bool = False
    caches: dict[str, tuple[str, tuple]] = field(default_factory=dict)


def inspect(directory: str) -> Found:
    """What is intact in the index folder `directory` and what must be repaired (under the writer lock).

    Folders of runs that never committed are removed here, when a manifest says which did.
    """
    survey = open_newest(directory)
    base = survey.opened.manifest if survey.opened else None
    if survey.opened:
        survey.opened.close()
    done = f"building a new generation on generation {base.generation}" if base else "rebuilding the index"
    found = Found(base, base or (survey.candidates[0] if survey.candidates else None),
                  [f"{problem}: {done}" for problem in survey.problems], bool(survey.problems))
    # Keep what a reader may open: the committed generation and the one before it (or the intact
    # one we build on). A run killed after its commit may have left an older one behind. (With no
    # manifest left, nothing is removed before the run knows its folders: its commit removes them.)
    if survey.candidates:
        keep = {m.generation for m in survey.candidates[:2]} | ({base.generation} if base else set())
        remove_generations(directory, keep)
    return found


def check_caches(directory: str, found: Found) -> None:
    """Keep jieba's caches that match what the newest manifest recorded; remove the others (written again later),
    adding to `found` what was damaged."""
    recorded = found.recorded.caches if found.recorded else {}
    for name in CACHES:
        path = os.path.join(directory, name)
        try:
            stamp = file_stamp(path)
            actual = file_sha256(path)
        except OSError:
            continue  # none: written when the dictionary is next loaded
        if recorded.get(name) == actual:
            found.caches[name] = (actual, stamp)
            continue
        os.unlink(path)
        if name in recorded:
            found.warnings.append(f"jieba's dictionary cache {path} is damaged (it does not match its checksum): "
                                  "writing it again")
        found.repair = True
