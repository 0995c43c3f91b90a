"""The papers a passage names: by its title, or by a name the paper goes by (`BERT`, `ResNet`, `Faster R-CNN`).

    named = named_papers(paper_graph(index), passage)

`related` for a passage of prose answers with them beside the passages like it (search/relate/papers.py). What
counts as naming a paper is read from the paper records and the graph's name table (search/relate/graph.py):

- its **title**, whole, in any case and spacing (`Attention is All You Need`, `long short-term memory`);
- the **name its title gives it**, the head before a colon, as written (`BERT: Pre-training of…` → `BERT`,
  `Batch Normalization: Accelerating…` → `Batch Normalization`), and the name of its own note (`Wanda.md`);
- a **name it goes by** (its material holds most of the name's uses: graph.GOES_BY) that is shaped as the name
  of a thing, not of a person or a plain word: an acronym, or a word with capitals inside or digits (`LSTM`,
  `ResNet`, `Word2Vec`). Not a name its title holds but as its head (a title's other names are what the paper
  works on: `ImageNet Classification with…`), and not one its own record cites as another work's
  (`PyTorch (Paszke 2019)`).

A name of one word is never a word of an author's name in the records (`John`, `Hinton`): a passage that shares
a first name with a paper names nothing. A name (a title apart) matches as written, case and all; each only as
a whole, not inside a longer word or name (`VideoMAE` is not `MAE`, `GPT-3` is not `GPT`), an acronym also in
the plural (`LSTMs`). A name that fits two papers names neither. Where names overlap, the longest wins.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from corpus.model import Passage
from corpus.paper_notes import note_name
from search.relate.graph import GOES_BY, Node, PaperGraph
from search.results import NamedPaper

# A title's head names the paper when it is at most this many words (`Show and Tell`, not a sentence).
MAX_HEAD_WORDS = 4
_LATIN = "0-9A-Za-z\u00c0-\u024f"
# A word a name is matched against whole: letters and digits, hyphens inside (`R-CNN`, `GPT-3`, `ViT-Huge`).
_WORD = re.compile(f"[{_LATIN}](?:[{_LATIN}-]*[{_LATIN}])?")
_LETTERS = re.compile(r"[^\W\d_]+")
# A citation right after a name (`PyTorch（Paszke 2019）`, `PPO（Shulman 2017）` after its acronym's parenthesis).
_CITED_AFTER = r"[)）]?\s*[(（][^()（）]{0,80}?(?:1[89]|20)\d\d[a-z]?\s*[)）]"


@dataclass(frozen=True)
class Naming:
    """The names passages name papers by: one-word names and phrases matched as written, and titles in any case
    (lower-cased), each → its one paper; phrases by their first word, longest first."""

    words: dict[str, Node]
    phrases: dict[str, list[tuple[str, Node]]]
    titles: dict[str, list[tuple[str, Node]]]


def naming(graph: PaperGraph) -> Naming:
    """The names the papers of `graph` are named by (see the module docstring); built once per graph."""
    cached = getattr(graph, "_naming", None)
    if cached is None:
        cached = _build(graph)
        graph._naming = cached
    return cached


def named_papers(graph: PaperGraph, passage: Passage) -> tuple[NamedPaper, ...]:
    """The papers `passage` names, in the order it first names them, each with the name it uses (not the paper
    the passage belongs to)."""
    table = naming(graph)
    own = graph.node_of(passage)
    text = _spaced(passage.text)
    found: dict[int, NamedPaper] = {}
    end = 0
    for match in _WORD.finditer(text):
        if match.start() < end:
            continue
        hit = _longest(table, text, match)
        if hit is None:
            continue
        name, node, end = hit
        if node is not own and node.number not in found:
            found[node.number] = NamedPaper(name, graph.passage(node), node.paper)
    return tuple(found.values())


def _longest(table: Naming, text: str, word: re.Match) -> tuple[str, Node, int] | None:
    """The longest name starting at `word`: a title, a phrase, or the word itself (or it less a plural `s`)."""
    start, first = word.start(), word.group()
    for key, candidates, folded in ((first.lower(), table.titles, True), (first, table.phrases, False)):
        for phrase, node in candidates.get(key, ()):
            said = text[start:start + len(phrase)]
            if (said.lower() if folded else said) == phrase and _ends_word(text, start + len(phrase)):
                return said, node, start + len(phrase)
    if first in table.words:
        return first, table.words[first], word.end()
    if first.endswith("s") and first[-2:-1].isupper() and first[:-1] in table.words:
        return first, table.words[first[:-1]], word.end()
    return None


def _ends_word(text: str, end: int) -> bool:
    rest = text[end:end + 2]
    return not re.match(f"[{_LATIN}]|-[{_LATIN}]", rest)


def _build(graph: PaperGraph) -> Naming:
    author_words = {word for node in graph.papers for author in node.paper.authors
                    for word in _LETTERS.findall(author)}
    names: dict[str, set[int]] = defaultdict(set)
    titles: dict[str, set[int]] = defaultdict(set)
    for node in graph.papers:
        title = _spaced(node.title)
        if len(title.split()) > 1:
            titles[title.lower()].add(node.number)
        for name in _own_names(node, title):
            names[name].add(node.number)
    records: dict[int, str] = {}
    for name, (owner, uses, total) in graph.names.items():
        node = graph.nodes[owner]
        if _plural(name) in graph.names or node.kind != "paper" or uses < GOES_BY * total or not _thing_name(name) \
                or _in_title(name, node):
            continue  # a plural (`GANs`) is its singular's use, whose owner it goes with
        if owner not in records:
            records[owner] = graph.passage(node).text
        if not _cited(name, records[owner]):
            names[name].add(owner)
    words: dict[str, Node] = {}
    phrases: dict[str, list[tuple[str, Node]]] = defaultdict(list)
    for name, owners in names.items():
        if len(owners) != 1 or (" " not in name and name in author_words):
            continue
        node = graph.nodes[next(iter(owners))]
        if " " in name:
            phrases[_WORD.match(name).group()].append((name, node))
        else:
            words[name] = node
    by_first: dict[str, list[tuple[str, Node]]] = defaultdict(list)
    for title, owners in titles.items():
        first = _WORD.match(title)
        if len(owners) == 1 and first is not None:
            by_first[first.group()].append((title, graph.nodes[next(iter(owners))]))
    for table in (phrases, by_first):
        for candidates in table.values():
            candidates.sort(key=lambda item: -len(item[0]))
    return Naming(words, dict(phrases), dict(by_first))


def _own_names(node: Node, title: str) -> list[str]:
    """The names a paper gives itself: its title's head (before a colon), and the name of its own note."""
    own = []
    head = title.split(":", 1)[0].strip() if ":" in title else ""
    if head and len(head.split()) <= MAX_HEAD_WORDS and _WORD.fullmatch(head.split()[0]):
        own.append(head)
    for place in node.places:
        if place["source"] == "note":
            stem = _spaced(note_name(place["path"]))
            if stem and _WORD.match(stem) and len(stem.split()) <= MAX_HEAD_WORDS:
                own.append(stem)
    return own


def _plural(name: str) -> str:
    """The singular of an acronym's plural (`GANs` → `GAN`); "" for any other name."""
    return name[:-1] if len(name) > 2 and name.endswith("s") and name[-2].isupper() else ""


def _cited(name: str, record: str) -> bool:
    """Whether `record` cites `name` as another work's: the name, whole (not the end of a longer one, `Wasserstein
    GAN`), right before a citation."""
    for match in re.finditer(rf"(?<![{_LATIN}-]){re.escape(name)}{_CITED_AFTER}", record):
        if not re.search(rf"[A-Z][{_LATIN}-]* $", record[:match.start()]):
            return True
    return False


def _thing_name(name: str) -> bool:
    """Whether `name` is shaped as a thing's name: a digit in it, or a capital inside a part of it (`R-CNN`,
    `ResNet`, `GPT-2`), not a capitalised word or words (`Hinton`, `Back-Propagating`)."""
    return any(ch.isdigit() for ch in name) or any(any(ch.isupper() for ch in part[1:]) for part in name.split("-"))


def _in_title(name: str, node: Node) -> bool:
    return bool(re.search(rf"(?<![{_LATIN}-]){re.escape(name)}(?![{_LATIN}])", _spaced(node.title)))


def _spaced(text: str) -> str:
    """`text` with its spacing made one: hyphens joined to their words (`Pre - training` → `Pre-training`), runs
    of white space one space."""
    return " ".join(re.sub(r"\s*-\s*", "-", text).split())
