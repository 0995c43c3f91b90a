"""An index opened for searching: its newest intact generation, analyzer, glossary and scorer.

    with open_index("~/notes-index") as index:
        ...

The embedder loads on first semantic use, so a keyword search never pays for it.
The keyword index is read through indexer/keyword/reading.py's KeywordIndex:
nothing here, or in what a NoteIndex hands out, is a Whoosh object.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from corpus.errors import ModelMismatch, NoIndex, OutdatedIndex
from corpus.model import Paper, Passage
from corpus.paths import display_path, source_path
from corpus.text import HAN_CHAR, HAN_RUN
from indexer import paper_graph, vectors
from indexer.analysis import Analyzer
from indexer.caches import ForgetfulCache
from indexer.generations import INDEX_FORMAT, open_newest
from indexer.manifest import Manifest
from search.query.glossary import Glossary
from search.query.plan import QueryPlan, plan_query
from search.query.spelling import Vocabulary
from search.rank.scorer import ArrayScorer

if TYPE_CHECKING:
    from indexer.embedders import Embedder

# The fields whose Chinese words pinyin reads (search/query/spelling.py).
SPELLED_FIELDS = ("title", "authors", "section", "body")
# The fields a query word searches: a word any of them holds is never respelled (a link's words, a tag), and a
# typo is respelled to their words (`dupervised` → `supervised`, which the bundled notes write only in a link).
HELD_FIELDS = (*SPELLED_FIELDS, "tags", "links")
# Passages an open index keeps after reading them (about 1 KB each).
PASSAGE_CACHE = 20_000


class NoteIndex:
    """A committed index generation opened for searching; a context manager (`close()` on exit).

    Raises NoIndex when the folder holds no intact generation, OutdatedIndex
    when its newest intact one was built by another version.
    """

    def __init__(self, directory: str, embedder: Embedder | None = None):
        self.directory = os.path.abspath(os.path.expanduser(directory))
        survey = open_newest(self.directory)
        generation = survey.opened
        if generation is None:
            raise NoIndex(self.directory, survey.problems)
        if not generation.current:
            generation.close()
            raise OutdatedIndex(self.directory, generation.manifest.format, INDEX_FORMAT)
        self._warnings: list[str] = []
        if survey.problems:  # one line: what is wrong, and what is done about it
            fallback = f"answering from generation {generation.manifest.generation}; " \
                if generation.manifest is not survey.newest else ""
            self._warnings.append(f"{'; '.join(survey.problems)}: {fallback}the next index run repairs it")
        self._manifest = generation.manifest
        self._keyword = generation.keyword
        self._vectors = generation.vectors
        self.analyzer = Analyzer(self._manifest.words, self.directory, by_char=True, caches=self._manifest.caches)
        self.glossary = Glossary(self._manifest.glossary)
        self.vocabulary = Vocabulary(self._held_terms, self._han_terms, self._commonness,
                                     lambda: self._keyword.lexicon("authors"),
                                     pair=lambda bigram: self._commonness(bigram, "grams"),
                                     name_keys=lambda: self._keyword.lexicon("names"))
        self._scorer = ArrayScorer(self._keyword)
        self._embedder = embedder
        self._embedder_checked = False
        self._passages: ForgetfulCache[str, Passage | None] = ForgetfulCache(PASSAGE_CACHE)
        self._stored: ForgetfulCache[int, Passage] = ForgetfulCache(PASSAGE_CACHE)
        self._by_real_path: dict[str, str] | None = None
        self._papers: int | None = None
        self._paper_graph: paper_graph.StoredGraph | None = None
        self._paper_notes: dict[str, Paper] | None = None

    @property
    def manifest(self) -> Manifest:
        """What the opened generation holds: its number, model, folders, note files and counts (a frozen value)."""
        return self._manifest

    @property
    def warnings(self) -> list[str]:
        """What is wrong with the index, one line each: a damaged generation answered past, a damaged cache of
        jieba's dictionary read past (found when a query first needs it)."""
        return [*self._warnings, *self.analyzer.problems]

    @property
    def scorer(self) -> ArrayScorer:
        """The keyword scorer of the opened generation (the engine scores keyword queries with it; it keeps the
        postings it reads for the next query)."""
        return self._scorer

    @property
    def folder(self) -> str:
        """The folder of the opened generation."""
        return os.path.join(self.directory, self._manifest.folder)

    def vector_index(self) -> vectors.VectorIndex:
        """The vectors of the opened generation (memory-mapped, checked when the index opened)."""
        return self._vectors

    def paper_graph(self) -> paper_graph.StoredGraph:
        """The paper graph of the opened generation (read on first use); raises OSError or ValueError when it
        cannot be read."""
        if self._paper_graph is None:
            self._paper_graph = paper_graph.load(self.folder)
        return self._paper_graph

    def paper_of(self, passage: Passage) -> Paper | None:
        """The paper a passage belongs to: its own record's, or the paper its note is about; None for neither."""
        if passage.paper is not None:
            return passage.paper
        if self._paper_notes is None:
            try:
                self._paper_notes = paper_graph.load_paper_notes(self.folder)
            except (OSError, ValueError, KeyError, TypeError):
                self._paper_notes = {}
        return self._paper_notes.get(passage.path)

    def embedder(self) -> Embedder:
        """The index's embedder, checked once against the fingerprint its vectors were made with.

        Raises ModelMismatch when the model now installed is not the one that made them.
        """
        if not self._embedder_checked:
            from indexer.embedders import load_embedder  # a keyword search never loads the embedder's module

            embedder = self._embedder or load_embedder(self._manifest.model)
            fingerprint = embedder.fingerprint()
            if fingerprint != self._manifest.fingerprint:
                raise ModelMismatch(self.directory, self._manifest.fingerprint, fingerprint, self._manifest.model)
            self._embedder, self._embedder_checked = embedder, True
        return self._embedder

    def passage(self, passage_id: str) -> Passage | None:
        """The stored passage with this id, or None (remembered: a warm index answers from memory)."""
        if passage_id not in self._passages:
            return self._passages.keep(passage_id, self._keyword.passage_by_id(passage_id))
        return self._passages[passage_id]

    def stored_passage(self, number: int) -> Passage:
        """The passage stored under a document number of the keyword index (as the scorer numbers them);
        remembered, as `passage` is (reading one unpacks its stored record: a tenth of a keyword search)."""
        found = self._stored.get(number)
        return found if found is not None else self._stored.keep(number, self._keyword.passage(number))

    def passage_id(self, number: int) -> str:
        """The id of the passage stored under a document number of the keyword index."""
        return self._keyword.passage_id(number)

    def passages_of(self, path: str) -> list[Passage]:
        """The passages of the note file `path` (as the index stores it), in the keyword index's order."""
        found = (self.passage(self._keyword.passage_id(number)) for number in self._keyword.numbers_of(path))
        return [passage for passage in found if passage is not None]

    def notes_by_real_path(self) -> dict[str, str]:
        """Each note file of the index by its real path (symbolic links resolved, as display_path writes it): how
        a path given through a link finds the note the index names otherwise. Resolved once per opened index."""
        if self._by_real_path is None:
            self._by_real_path = {display_path(os.path.realpath(source_path(stored))): stored
                                  for stored in self._manifest.files}
        return self._by_real_path

    def plan(self, query: str) -> QueryPlan:
        """`query` parsed and analysed once, with this index's learned words and glossary."""
        return plan_query(query, self.analyzer, self.glossary, self.vocabulary)

    def _held_terms(self) -> list[str]:
        return [term for name in HELD_FIELDS for term in self._keyword.lexicon(name) if not HAN_CHAR.match(term)]

    def _han_terms(self) -> list[str]:
        return [term for name in SPELLED_FIELDS for term in self._keyword.lexicon(name) if HAN_RUN.fullmatch(term)]

    def _commonness(self, term: str, field: str = "body") -> float:
        """How many passages hold `term` in a field, as Whoosh's idf tells it (higher: more of them)."""
        stored = self._keyword.term_bytes(field, term)
        return -self._keyword.idf(field, stored) if stored is not None else float("-inf")

    def passages(self) -> list[Passage]:
        """Every passage of the index."""
        return self._keyword.passages()

    def paper_count(self) -> int:
        """How many passages are paper records (counted once: an opened generation does not change)."""
        if self._papers is None:
            self._papers = sum(1 for passage in self.passages() if passage.paper)
        return self._papers

    def close(self) -> None:
        """Close the keyword index (the vectors are a memory map, freed with the object)."""
        self._keyword.close()

    def __enter__(self) -> NoteIndex:  # noqa: PYI034 (Python 3.10 has no typing.Self)
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_index(directory: str, embedder: Embedder | None = None) -> NoteIndex:
    """The committed index in `directory`, opened for searching; raises NoIndex or OutdatedIndex.

    `embedder` is the model to embed queries with (default: the one the index
    names, loaded on first semantic search).
    """
    return NoteIndex(directory, embedder)
