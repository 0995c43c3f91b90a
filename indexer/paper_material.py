"""One file's passages → what the paper graph needs of it (its nodes), as plain JSON-ready data.

A node is a paper or a topic note. A row of a table of papers and a BibTeX
entry are each a paper of their own record; a note about one paper is one
paper whose material is the whole note; a note that is neither (an overview,
a survey) is a topic node. Of each node the graph keeps: where its hit points
(its record, or a topic note's title line), its paper's fields, the passages
whose vectors it is made of, the names it uses (capitalised words and
acronyms, each counted, for telling which paper goes by which name), the
names it could be mentioning (for references), its terms (for shared terms),
its link targets, and its tags. A paper goes by the names of its title (and
of its note's file name); a row or an entry also by the names its note uses,
so that the paper whose row uses a name most goes by it. A list note's and a topic note's other
passages are kept with the names they could mention: a paragraph naming two
papers names them together.

Everything here reads one file only, so an index run computes it for the
files that changed and carries the rest over (indexer/paper_graph.py).
"""

from __future__ import annotations

import math
import re
from collections import Counter

from corpus.model import Paper, Passage
from corpus.paper_notes import note_name
from indexer.analysis import Analyzer

# A capitalised name, hyphenated parts included (`R-CNN`, `Back-Propagating`): what a paper may go by.
NAME = re.compile(r"(?<![A-Za-z0-9-])((?:[A-Z][A-Za-z0-9]*-)*(?:[A-Z][A-Za-z0-9]*[A-Z0-9][A-Za-z0-9]*"
                  r"|[A-Z][a-z]{3,}[A-Za-z0-9]*))(?![A-Za-z-])")
# Words too common to be a name a paper goes by.
COMMON_NAMES = {"The", "This", "That", "These", "With", "From", "When", "What", "Learning", "Neural", "Network",
                "Networks", "Deep", "Model", "Models"}
# A run of letters, digits and hyphens: a word a name may be part of (`R-CNN`, `GPT-2`, `LSTMs`).
_LATIN = "0-9A-Za-z\u00c0-\u024f"
_WORD = re.compile(f"[{_LATIN}](?:[{_LATIN}-]*[{_LATIN}])?")
_LONGEST_WORD = 60
_MOST_BOUNDARIES = 8
# Parts of speech (jieba's tags) of the Chinese words a reason may show: nouns, names, idioms, abbreviations;
# not verbs, adverbs or adjectives (应该, 参阅, 更具, 学习 say nothing of what two papers share).
_SHOWN_PARTS = re.compile(r"^(?:n|vn|an|l|i|j|eng)")
# Parts of speech a word naming a thing does not start with: measure words, pronouns, prepositions, conjunctions,
# particles, adverbs (篇文章 is 篇 + 文章).
_FUNCTION_PARTS = re.compile(r"^[qrpcud]")
# The most terms kept per node: the ones that weigh most (by count) in its text.
MAX_TERMS = 300


def file_material(path: str, passages: list[Passage], analyzer: Analyzer) -> dict:
    """The nodes of one file and its passages that may name papers together (see the module docstring)."""
    records = [p for p in passages if p.kind == "paper" and p.paper is not None]
    note_paper = next((p for p in records if p.paper.whole_file), None)
    nodes = []
    others = [p for p in passages if p.kind != "paper"]
    if note_paper is not None:
        nodes.append(_node("paper", note_paper, passages, analyzer))
        together = []
    else:
        nodes.extend(_node("paper", record, [record], analyzer) for record in records)
        if not records and others:
            nodes.append(_node("topic", None, passages, analyzer))
        together = [[p.id, " › ".join(part for part in (p.title, p.section) if part), sorted(mentions(p.text))]
                    for p in others if p.kind not in ("code", "toc")]
        together = [item for item in together if item[2]]
    return {"nodes": nodes, "together": together}


def _node(kind: str, record: Passage | None, material: list[Passage], analyzer: Analyzer) -> dict:
    """A paper (of `record`) or a topic node, made of the passages `material`."""
    first = record or min(material, key=lambda p: (p.line_start, p.piece))
    paper = record.paper if record is not None else None
    if paper is not None and not paper.whole_file:
        said = paper.note  # a row's note or an entry's abstract: what it says of the paper, its title apart
    else:
        # A note's passages, but for its record's lines: its authors are no one it names.
        said = "\n".join(p.text for p in material if p.kind not in ("code", "paper"))
    title = paper.title if paper is not None else first.title
    # The names a paper goes by: those of its title, and of its note's file name; a row's or an entry's also those
    # its note uses (a note's body names the datasets, baselines and models it compares with: not its own).
    names: Counter = Counter()
    if paper is not None:
        author_words = {word for author in paper.authors for word in author.split()}
        if not paper.whole_file:
            names.update(name for name in NAME.findall(said) if name not in COMMON_NAMES and name not in author_words)
        for name in NAME.findall(title):
            if name.isupper() or not name[1:].islower():
                names[name] += 2
        stem = note_name(first.path)
        if paper.whole_file and NAME.fullmatch(stem):
            names[stem] += 2  # a note named for its paper (`Wanda.md`, `OBS/README.md`)
    text = "\n".join(p.text for p in material if p.kind != "code") if paper is None or paper.whole_file \
        else paper.note
    # A row's note's tags are the list's, not the paper's; a paper note's, an entry's and a topic note's are theirs.
    tags = sorted({*(first.tags if paper is None or paper.source != "row" else ()), *(paper.keywords if paper else ())})
    return {
        "kind": kind,
        "record": record.id if record is not None else None,
        "path": first.path,
        "region": first.region if record is not None else "",
        "lines": [first.line_start, first.line_end] if record is not None else [1, 1],
        "title": title,
        "paper": paper_fields(paper) if paper is not None else None,
        "passages": [p.id for p in material],
        "weights": [min(len(p.text), 2000) for p in material],
        "names": dict(names),
        "mentions": sorted(mentions(f"{said}\n{title}")),
        "terms": term_counts(f"{title}\n{text}", analyzer),
        "links": sorted({link for p in material for link in p.links}),
        "tags": tags,
    }


def paper_fields(paper: Paper) -> dict:
    """A Paper as JSON-ready fields."""
    return {"title": paper.title, "authors": list(paper.authors), "year": paper.year, "venue": paper.venue,
            "doi": paper.doi, "arxiv": paper.arxiv, "url": paper.url, "keywords": list(paper.keywords),
            "citekey": paper.citekey, "source": paper.source}


def mentions(text: str) -> set[str]:
    """Every capitalised name `text` could be mentioning: each stretch of a word between two places where a
    letter meets a non-letter (`R-CNN` gives `R`, `R-CNN`, `CNN`), and without a plural `s` (`LSTMs` → `LSTM`).

    A name n is mentioned where `(?<![A-Za-z])n s?(?![A-Za-z])` matches: this finds the same names in one
    pass over the text, so a name table of any size is looked up in time linear in the text.
    """
    found: set[str] = set()
    for match in _WORD.finditer(text):
        word = match.group()
        if len(word) > _LONGEST_WORD or not any(ch.isupper() for ch in word):
            continue
        starts = [i for i in range(len(word)) if word[i].isalnum() and (i == 0 or not word[i - 1].isalpha())]
        ends = [j for j in range(1, len(word) + 1) if word[j - 1].isalnum() and (j == len(word) or not word[j].isalpha())]
        for i in starts[:_MOST_BOUNDARIES]:
            for j in ends[-_MOST_BOUNDARIES:]:
                if j > i and word[i].isupper():
                    found.add(word[i:j])
                    if j - i > 1 and word[j - 1] == "s":
                        found.add(word[i:j - 1])
    return found


def term_counts(text: str, analyzer: Analyzer) -> dict[str, int]:
    """The terms of `text` that can say what it is about (see specificity), counted; at most MAX_TERMS."""
    counts = Counter(token.text for token in analyzer.tokens(text) if not token.part)
    kept = {term: n for term, n in counts.items() if specificity(analyzer, term) > 0}
    if len(kept) > MAX_TERMS:
        kept = dict(sorted(kept.items(), key=lambda item: (-item[1], item[0]))[:MAX_TERMS])
    return kept


def specificity(analyzer: Analyzer, term: str) -> float:
    """How well a term can name a topic, 0..1.

    A Latin word of three letters or more counts fully. A Chinese word counts by
    how rare it is in Chinese at large, from jieba's dictionary counts: 使用 or
    研究 (one word in a few thousand) hardly, 卷积 or 感知机 fully. A word the
    notes taught jieba counts fully; a fragment that is no word at all (what
    jieba's HMM makes of 这是) not at all.
    """
    if len(term) < 2 or term.isdigit():
        return 0.0
    if term.isascii():
        return 1.0 if len(term) >= 3 else 0.0
    segmenter = analyzer.segmenter
    if not segmenter.known(term):
        return 0.0
    count, total = segmenter.frequency(term)
    if not count:
        return 1.0
    # One in a thousand words → 0, one in a million or rarer → 1.
    return min(1.0, max(0.0, (-math.log10(count / total) - 3) / 3))


def shown(term: str, analyzer: Analyzer) -> bool:
    """Whether a reason may show `term`: a Latin word, or a Chinese word that names a thing (a noun, a name, an
    idiom or abbreviation), not a verb, adverb or adjective. A word that starts with a measure word, pronoun
    or particle says no thing (篇文章 is 篇 + 文章); a word jieba's dictionary does not list (one the notes taught
    it) names a thing when its last word does (剪枝策略, 依赖图; not 困惑度, whose 度 is a suffix)."""
    if term.isascii():
        return True
    part_of_speech = analyzer.segmenter.part_of_speech
    first = next((part_of_speech(term[:i]) for i in range(len(term) - 1, 0, -1) if part_of_speech(term[:i])), "")
    if _FUNCTION_PARTS.match(first):
        return False
    kind = part_of_speech(term)
    if kind:
        return bool(_SHOWN_PARTS.match(kind))
    head = next((part_of_speech(term[i:]) for i in range(1, len(term)) if part_of_speech(term[i:])), "")
    return not head or bool(_SHOWN_PARTS.match(head))
