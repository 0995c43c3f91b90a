"""Write corpus/bundled_vectors.npz: the bundled notes' vectors under the default model (indexer/bundled_vectors.py).

    .venv/bin/python scripts/bundled_vectors.py

Run it when the bundled notes, how a note is split into texts, or the default
model's packages change: tests/indexer/test_bundled_vectors.py fails until it
is. The file in place is set aside first, so that every text is embedded now,
by the model as installed; it is put back if the run fails.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from corpus import BUNDLED_NOTES
from indexer import bundled_vectors, vectors
from indexer.builder import build
from indexer.embedders import DEFAULT_MODEL
from indexer.generations import read_manifest
from indexer.manifest import generation_folder


def main() -> None:
    shipped = bundled_vectors.SHIPPED
    aside = shipped.with_suffix(".old")
    if shipped.exists():
        os.replace(shipped, aside)
    try:
        with tempfile.TemporaryDirectory(prefix="notesearch-bundled-") as directory:
            report = build(str(BUNDLED_NOTES), directory, model=DEFAULT_MODEL)
            folder = os.path.join(directory, generation_folder(read_manifest(directory).generation))
            index = vectors.load(folder)
            rows = {key: row for row, key in enumerate(index.keys) if key}
            bundled_vectors.write(shipped, index.fingerprint, list(rows), index.vectors[list(rows.values())])
    except BaseException:
        if aside.exists():
            os.replace(aside, shipped)
        raise
    aside.unlink(missing_ok=True)
    print(f"{shipped}: {len(rows)} texts of {report.passages} passages, {index.fingerprint}, "
          f"{shipped.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
