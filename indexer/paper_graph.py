"""The paper graph of a generation: papers (one per paper, whatever places it appears in), topic notes, and the
links between them, built at index time from each file's material (indexer/paper_material.py).

Files in a generation folder:

    paper_files.json   each file's material, carried over for unchanged files (an update redoes only the
                       changed files' material, then the joins below, which take time linear in the material)
    papers.json        the nodes (their paper, places, authors, tags), the names they go by, and the edges
    papers.npz         each node's vector (the mean of its passages' vectors) and its terms' tf-idf weights
    paper_notes.json   each note that is a paper's whole (its own note, a note in its folder) → the paper, so
                       that a search hit in it says whose it is without reading the graph

Building joins: records naming one paper (by DOI, arXiv id or folded title: corpus/paper_ids.py) become one
node with all its places; a topic note in a paper's folder (when the paper is the folder's README) or named
like the paper's note (`OBS.ipynb` beside `OBS.md`) is part of that paper. Each capitalised name goes with
the node whose text uses it most (its title counts twice; ties: the earliest paper), and a node that
mentions another's name or its first author's surname names it; a link from one note to another (a markdown
link or a `[[wikilink]]`) links their nodes; a paragraph of a topic note or of a list of papers that names
two papers names them together.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

import numpy as np

from corpus.model import RECORD_SOURCES, Paper
from corpus.paper_ids import paper_keys
from corpus.paper_notes import note_name
from corpus.text import fold
from indexer.analysis import Analyzer
from indexer.files import atomic_write
from indexer.paper_material import shown, specificity
from indexer.vectors import VectorIndex

MATERIAL = "paper_files.json"
GRAPH = "papers.json"
ARRAYS = "papers.npz"
NOTES = "paper_notes.json"
FILES = (MATERIAL, GRAPH, ARRAYS, NOTES)
# A surname shorter than this names no one (`Le`, `Wu`).
MIN_SURNAME = 3
# A term a reason shows is at least this specific (indexer/paper_material.py): 架构 or 注意力, not 产生 or 方式.
MIN_SHOWN_SPECIFICITY = 0.5
# A paragraph naming more papers than this is a list, not a pairing of two: its first ones are paired.
MAX_NAMED_TOGETHER = 20
# Where a paper's hit points when it has several places: its own note, else a table row, else a BibTeX entry.
_PLACE_ORDER = {"note": 0, "row": 1, "bib": 2, "pdf": 3}
_STEMS_OF_FOLDER_NOTES = {"readme", "index", "_index"}
_LETTERS = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class Counts:
    """How many papers the graph holds; of them how many have a note of their own, a row in a table of papers, a
    BibTeX entry (a paper may have several places); and how many topic notes it holds."""

    papers: int = 0
    notes: int = 0
    rows: int = 0
    entries: int = 0
    topics: int = 0


def read_material(folder: str | None) -> dict[str, dict] | None:
    """The per-file material of the generation in `folder`, or None when it has none that can be read."""
    if not folder:
        return None
    try:
        with open(os.path.join(folder, MATERIAL), encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write(folder: str, material: Mapping[str, dict], vectors: VectorIndex, analyzer: Analyzer) -> Counts:
    """Build the paper graph of `material` ({file: its material}) and write it, with the material, into `folder`."""
    nodes = _merged_nodes(material)
    names, owners = _name_table(nodes)
    edges = _edges(nodes, material, names, owners)
    vocabulary, shown_terms, term_rows = _term_weights(nodes, analyzer)
    matrix = _node_vectors(nodes, vectors)
    papers = [node for node in nodes if node["kind"] == "paper"]

    def having(source: str) -> int:
        return sum(1 for node in papers if any(place["source"] == source for place in node["places"]))

    counts = Counts(len(papers), having("note"), having("row"), having("bib"), len(nodes) - len(papers))
    graph = {
        "counts": vars(counts),
        "nodes": [{key: node[key] for key in ("kind", "record", "path", "lines", "title", "paper", "places", "files",
                                               "tags")} | {"authors": _author_keys(node)} for node in nodes],
        "names": names, "edges": edges, "vocabulary": vocabulary,
    }
    indptr = np.cumsum([0] + [len(row) for row in term_rows]).astype(np.int64)
    terms = np.array([t for row in term_rows for t, _w in row], dtype=np.int32)
    weights = np.array([w for row in term_rows for _t, w in row], dtype=np.float32)
    notes = {place["path"]: node["paper"] for node in nodes if node["kind"] == "paper"
             for place in node["places"] if place["source"] not in RECORD_SOURCES}
    atomic_write(os.path.join(folder, NOTES), lambda f: f.write(json.dumps(notes, ensure_ascii=False).encode("utf-8")))
    atomic_write(os.path.join(folder, MATERIAL),
                 lambda f: f.write(json.dumps(material, ensure_ascii=False).encode("utf-8")))
    atomic_write(os.path.join(folder, GRAPH), lambda f: f.write(json.dumps(graph, ensure_ascii=False).encode("utf-8")))
    atomic_write(os.path.join(folder, ARRAYS),
                 lambda f: np.savez(f, vectors=matrix, indptr=indptr, terms=terms, weights=weights,
                                    shown=np.array(shown_terms, dtype=bool)))
    return counts


@dataclass(frozen=True)
class StoredGraph:
    """A generation's paper graph as written: its nodes, names, edges and term vocabulary (papers.json), and
    each node's vector and tf-idf weights (papers.npz: CSR rows `indptr`, `terms`, `weights`)."""

    nodes: list[dict]
    names: dict[str, list[int]]
    edges: list[list]
    vocabulary: list[str]
    counts: Counts
    vectors: np.ndarray
    indptr: np.ndarray
    terms: np.ndarray
    weights: np.ndarray
    shown: np.ndarray


def load_paper_notes(folder: str) -> dict[str, Paper]:
    """Each note that is a paper's whole → that paper; raises OSError or ValueError when it cannot be read."""
    with open(os.path.join(folder, NOTES), encoding="utf-8") as f:
        return {path: paper_of(fields) for path, fields in json.load(f).items()}


def paper_of(fields: dict) -> Paper:
    """The Paper of a node's stored paper fields."""
    return Paper(fields["year"], tuple(fields["authors"]), fields["title"], "", venue=fields["venue"],
                 doi=fields["doi"], arxiv=fields["arxiv"], url=fields["url"], keywords=tuple(fields["keywords"]),
                 citekey=fields["citekey"], source=fields["source"])


def load(folder: str) -> StoredGraph:
    """The paper graph of the generation in `folder`; raises OSError or ValueError when it cannot be read."""
    with open(os.path.join(folder, GRAPH), encoding="utf-8") as f:
        graph = json.load(f)
    with np.load(os.path.join(folder, ARRAYS), allow_pickle=False) as arrays:
        loaded = {name: arrays[name] for name in ("vectors", "indptr", "terms", "weights", "shown")}
    if len(loaded["indptr"]) != len(graph["nodes"]) + 1 or len(loaded["vectors"]) != len(graph["nodes"]):
        raise ValueError(f"{ARRAYS} in {folder} does not match {GRAPH}")
    return StoredGraph(graph["nodes"], graph["names"], graph["edges"], graph["vocabulary"],
                       Counts(**graph["counts"]), **loaded)


# ---------------------------------------------------------------- nodes

def _merged_nodes(material: Mapping[str, dict]) -> list[dict]:
    """Every node of every file, the records of one paper joined, and the topic notes that are part of a paper."""
    raw = [dict(node) for path in sorted(material) for node in material[path]["nodes"]]
    parent = list(range(len(raw)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(i: int, j: int) -> None:
        a, b = find(i), find(j)
        if a != b:
            parent[max(a, b)] = min(a, b)

    by_key: dict[str, int] = {}
    for i, node in enumerate(raw):
        if node["paper"] is None:
            continue
        for key in paper_keys(paper_of(node["paper"])):
            if key in by_key:
                join(by_key[key], i)
            else:
                by_key[key] = i
    # A topic note is part of a paper when it lies in the folder of a paper that is the folder's README, or is
    # named like a paper's note in that note's folder or below (`OBS.ipynb` beside `OBS.md`).
    folder_papers: dict[PurePosixPath, int] = {}
    named_papers: dict[tuple[PurePosixPath, str], int] = {}
    for i, node in enumerate(raw):
        if node["paper"] is not None and node["paper"]["source"] not in RECORD_SOURCES:
            note = PurePosixPath(node["path"])
            if note.stem.lower() in _STEMS_OF_FOLDER_NOTES:
                folder_papers.setdefault(note.parent, i)
            named_papers.setdefault((note.parent, note.stem), i)
    for i, node in enumerate(raw):
        if node["kind"] != "topic":
            continue
        path = PurePosixPath(node["path"])
        owner = next((folder_papers[folder] for folder in path.parents if folder in folder_papers), None)
        if owner is None:
            owner = next((named_papers[folder, path.stem] for folder in path.parents
                          if (folder, path.stem) in named_papers), None)
        if owner is not None:
            join(owner, i)
    groups: dict[int, list[dict]] = defaultdict(list)
    for i, node in enumerate(raw):
        groups[find(i)].append(node)
    return [_joined(groups[root]) for root in sorted(groups)]


def _joined(parts: list[dict]) -> dict:
    """One node of the nodes of one paper (or of one topic note): its primary place's hit, all places."""
    papers = [part for part in parts if part["paper"] is not None]
    primary = min(papers, key=lambda part: _PLACE_ORDER.get(part["paper"]["source"], 3)) if papers else parts[0]
    paper = dict(primary["paper"]) if papers else None
    if paper is not None:
        for other in papers:  # what the primary place leaves out, another may give (a DOI, a venue)
            for key, value in other["paper"].items():
                if not paper.get(key) and value:
                    paper[key] = value
    names: Counter = Counter()
    for part in parts:
        names.update(part["names"])
    terms: dict[str, int] = {}
    for part in parts:  # each place says the same paper's words: the most any says, not their sum
        for term, count in part["terms"].items():
            terms[term] = max(count, terms.get(term, 0))
    return {
        "kind": "paper" if papers else "topic", "record": primary["record"], "path": primary["path"],
        "lines": primary["lines"], "title": paper["title"] if paper else primary["title"], "paper": paper,
        "places": [{"path": part["path"], "region": part["region"], "lines": part["lines"], "record": part["record"],
                    "source": part["paper"]["source"] if part["paper"] else "topic"}
                   for part in sorted(parts, key=lambda p: (p is not primary, p["path"], p["lines"]))],
        "files": sorted({part["path"] for part in parts}),
        "passages": [pid for part in parts for pid in part["passages"]],
        "weights": [w for part in parts for w in part["weights"]],
        "names": dict(names), "mentions": sorted({m for part in parts for m in part["mentions"]}),
        "terms": terms, "links": sorted({link for part in parts for link in part["links"]}),
        "tags": sorted({tag for part in parts for tag in part["tags"]}),
    }


# ---------------------------------------------------------------- names and edges

def _name_table(nodes: list[dict]) -> tuple[dict[str, list[int]], dict[str, list]]:
    """Each name → [owner node, its uses there, its uses in all]; each first author's surname → its papers.

    Returned as (names, surnames-and-owners) for the edges: `owners` maps a name to the node it goes with.
    """
    uses: dict[str, Counter] = defaultdict(Counter)
    for n, node in enumerate(nodes):
        if node["kind"] == "paper":
            for name, count in node["names"].items():
                uses[name][n] += count
    order = {n: ((node["paper"] or {}).get("year") or 9999, n) for n, node in enumerate(nodes)}
    names = {}
    for name, counts in uses.items():
        owner = min(counts, key=lambda n: (-counts[n], order[n]))
        names[name] = [owner, counts[owner], sum(counts.values())]
    surnames: dict[str, list[int]] = defaultdict(list)
    for n, node in enumerate(nodes):
        authors = (node["paper"] or {}).get("authors") or []
        if authors:
            surname = _surname(authors[0])
            if len(surname) >= MIN_SURNAME:
                surnames[surname].append(n)
    return names, {"surnames": dict(surnames)}


def _surname(author: str) -> str:
    parts = author.replace("-", " - ").split()
    return parts[-1] if parts else ""


def _named(mentioned: list[str], names: dict[str, list[int]], surnames: dict[str, list[int]],
           source: int | None) -> dict[int, str]:
    """The nodes a text names (by a surname of a first author, or a name a node goes with) → the name used."""
    out: dict[int, str] = {}
    for name in mentioned:
        for n in surnames.get(name, ()):
            if n != source:
                out.setdefault(n, name)
    for name in mentioned:
        if name in names and names[name][0] != source:
            out.setdefault(names[name][0], name)
    return out


def _edges(nodes: list[dict], material: Mapping[str, dict], names: dict[str, list[int]],
           owners: dict[str, dict]) -> list[list]:
    """[source, target, kind, evidence] for each reference ("names"), link ("links") and pairing ("together")."""
    surnames = owners["surnames"]
    edges: list[list] = []
    for n, node in enumerate(nodes):
        for target, name in sorted(_named(node["mentions"], names, surnames, n).items()):
            edges.append([n, target, "names", name])
    by_file: dict[str, list[int]] = defaultdict(list)
    for n, node in enumerate(nodes):
        for path in node["files"]:
            by_file[path].append(n)
    by_name: dict[str, list[int]] = defaultdict(list)
    for path, found in by_file.items():
        by_name[fold(note_name(path))].extend(found)
    for n, node in enumerate(nodes):
        by_name[fold(node["title"])].append(n)
    for n, node in enumerate(nodes):
        linked: dict[int, str] = {}
        for link in node["links"]:
            for target in _link_targets(link, node["path"], by_file, by_name):
                if target != n:
                    linked.setdefault(target, link)
        edges.extend([n, target, "links", link] for target, link in sorted(linked.items()))
    for path in sorted(material):
        for _pid, where, mentioned in material[path]["together"]:
            named = sorted(_named(mentioned, names, surnames, None))[:MAX_NAMED_TOGETHER]
            edges.extend([a, b, "together", where] for a in named for b in named if a != b)
    return edges


def _link_targets(link: str, source: str, by_file: dict[str, list[int]], by_name: dict[str, list[int]]) -> list[int]:
    """The nodes a link from the note `source` leads to: a note of the index by its path (a folder: by its README),
    else by its name (a wikilink; a link to a note that has moved)."""
    if link.startswith("[[") and link.endswith("]]"):
        return by_name.get(fold(link[2:-2]), [])
    if re.match(r"^[a-z][a-z0-9+.-]*:", link, re.IGNORECASE):
        return []  # a URL: it leads out of the notes
    target = link.split("#", 1)[0]
    if not target:
        return []
    path = os.path.normpath(os.path.join(os.path.dirname(source), target))
    for candidate in (path, *(os.path.join(path, name) for name in ("README.md", "index.md"))):
        if candidate in by_file:
            return by_file[candidate]
    # A note that moved (into a folder of its own, say) is still the one its name names.
    return by_name.get(fold(note_name(path)), [])


# ---------------------------------------------------------------- authors, terms, vectors

def _author_keys(node: dict) -> list[list]:
    """Each author of a node's paper: [name as written, keys] — its words (initials left out) and, for a name of
    three words or more, each two words in a row (a list of names with nothing between them is read two words a
    name, so `Mi Xinchao Wang` must still meet `Xinchao Wang`)."""
    out = []
    for name in (node["paper"] or {}).get("authors") or []:
        words = [word.lower() for word in _LETTERS.findall(name) if len(word) > 1]
        if not words:
            continue
        keys = {" ".join(words)}
        if len(words) >= 3:
            keys.update(" ".join(words[i:i + 2]) for i in range(len(words) - 1))
        out.append([name, sorted(keys)])
    return out


def _term_weights(nodes: list[dict], analyzer: Analyzer) -> tuple[list[str], list[bool], list[list[tuple[int, float]]]]:
    """The terms of all nodes, whether a reason may show each, and each node's unit tf-idf weights (term id, weight),
    each term weighed by how specific it is (indexer/paper_material.py)."""
    df = Counter(term for node in nodes for term in node["terms"])
    vocabulary = sorted(df)
    ids = {term: i for i, term in enumerate(vocabulary)}
    specific = {term: specificity(analyzer, term) for term in vocabulary}
    total = len(nodes)
    rows = []
    for node in nodes:
        weights = {term: (1 + math.log(count)) * math.log((1 + total) / df[term]) * specific[term]
                   for term, count in node["terms"].items()}
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        rows.append(sorted((ids[term], w / norm) for term, w in weights.items() if w > 0))
    return vocabulary, [specific[term] >= MIN_SHOWN_SPECIFICITY and shown(term, analyzer) for term in vocabulary], rows


def _node_vectors(nodes: list[dict], vectors: VectorIndex) -> np.ndarray:
    """Each node's vector: the mean of its passages' own vectors (each passage's first row), weighed by their
    length, as a unit vector; zeros for a node none of whose passages has one."""
    first: dict[str, int] = {}
    for row, (pid, key) in enumerate(zip(vectors.ids, vectors.keys)):
        if key and pid not in first:
            first[pid] = row
    dim = vectors.vectors.shape[1] if vectors.vectors.ndim == 2 else 0
    out = np.zeros((len(nodes), dim), dtype=np.float32)
    for n, node in enumerate(nodes):
        rows = [(first[pid], weight) for pid, weight in zip(node["passages"], node["weights"]) if pid in first]
        if not rows:
            continue
        stacked = np.asarray(vectors.vectors[[row for row, _w in rows]], dtype=np.float32)
        mean = np.asarray([w for _r, w in rows], dtype=np.float32) @ stacked
        norm = float(np.linalg.norm(mean))
        if norm:
            out[n] = mean / norm
    return out
