"""A note about one paper → that paper's record, where the note names it.

A note is about one paper when it says who wrote it, when or where: in its
front matter (the fields of Zotero exports and Obsidian literature notes:
`authors`/`author`, `year`, `doi`, `url`, `citekey`, `venue`/`journal`,
`arxiv`/`eprint`, `keywords`), in labelled lines at its head (`**作者** …`,
`**发表年份：** 2018`, `Authors: …`, `arXiv: 1810.04805`), or in its opening
paragraph (`… 是1993年Babak Hassibi等人提出来的`, `… by Hassibi et al. (1993)`).
A note that holds a table of papers is a list of papers, not one; a note
that says none of this (an overview such as 模型压缩) is a topic note.

The paper's title is the note's (its front matter's `title`, else its first
level-1 heading, else its file name; a README's or index's file name says
nothing, so its folder's name). Its year, when no line gives one, is its arXiv
id's. Its record is a passage of kind "paper" over the lines that name it —
the title line and the labelled lines (or the opening paragraph) — spanning
at most MAX_SPAN lines after its first; those lines' own passages give way to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePath

from corpus.frontmatter import tags_of, text_of
from corpus.inline import strip_inline_links
from corpus.model import Note, Paper, Passage
from corpus.packing import MAX_SPAN
from corpus.paper_ids import arxiv_id, arxiv_year, doi
from corpus.papers import split_authors

# The head of a note, where its metadata lines sit: before its second heading, and at most this many lines.
MAX_HEAD_LINES = 40
# A label is at most this many characters (`发表刊物/会议`, `Published in`), and at most MAX_LABEL_WORDS words.
MAX_LABEL = 16
MAX_LABEL_WORDS = 3
# A label holds no punctuation of a sentence (`因此，使用时间动力学…: …` is prose, not a label).
_SENTENCE_MARK = re.compile(r"[，,。；;！!？?、（）()]")
# Each field a label can name, by the words of the label; the first that matches wins (代码地址 is code, not the
# paper's address; 论文题目 a title).
_LABELS = (
    ("code", re.compile(r"代码|源码|code|github|implementation", re.IGNORECASE)),
    ("doi", re.compile(r"^doi$", re.IGNORECASE)),
    ("authors", re.compile(r"作者|authors?$|^by$", re.IGNORECASE)),
    ("venue", re.compile(r"会议|期刊|刊物|出处|venue|conference|journal|proceedings|booktitle|published (?:in|at)"
                         r"|publication", re.IGNORECASE)),
    ("year", re.compile(r"年份|年代|^年$|时间|日期|^year|^date|^published$", re.IGNORECASE)),
    ("keywords", re.compile(r"标签|关键词|关键字|^tags?$|^keywords?$", re.IGNORECASE)),
    ("title", re.compile(r"标题|题目|^title$", re.IGNORECASE)),
    ("url", re.compile(r"地址|链接|网址|论文|^paper|^url$|^link|^pdf$|^arxiv$", re.IGNORECASE)),
)
# `**作者** value`, `**作者：** value`, `- **Year**: 2018` (bold label), `Authors: value` (a colon after the label).
_BOLD_LABEL = re.compile(rf"^\s*(?:[-*+]\s+)?(\*\*|__)\s*([^*_\n]{{1,{MAX_LABEL}}}?)\s*[:：]?\s*\1\s*[:：]?\s*(.*)$")
_PLAIN_LABEL = re.compile(rf"^\s*(?:[-*+]\s+)?([^\s:：*_|#>\[][^:：*_|\n]{{0,{MAX_LABEL - 1}}}?)\s*[:：]\s*(.*)$")
_ATX = re.compile(r"^ {0,3}#{1,6}(?:[ \t]|$)")
_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)")
_URL = re.compile(r"https?://[^\s<>()\[\]]+")
# Who a paper is by, as an opening paragraph says it: `Babak Hassibi等人`, `Hassibi et al.`.
_ET_AL = re.compile(r"((?:[A-Z][\w.'-]*\s+){0,3}[A-Z][\w'-]+)\s*(?:等人|et al\b)")
# Markers after an author's name (`Xinchao Wang∗`, `Jane Doe1`) and the `et al.` a list ends with.
_AFTER_NAME = re.compile(r"[\s\d*∗†‡§¶#]+$")
_ET_AL_END = re.compile(r"\s*(?:等人?|et al\.?|etc\.?|…|\.\.\.)\s*$", re.IGNORECASE)
_MARKUP = re.compile(r"\\?\*+|`+|<|>")
_LIST_FILES = {"readme", "index", "_index"}
_FRONT_AUTHORS = ("authors", "author", "creators", "creator")
_FRONT_YEAR = ("year", "published", "publication_date", "publication-date", "pubdate")
_FRONT_VENUE = ("venue", "journal", "booktitle", "conference", "publication", "publicationtitle", "proceedings")
_FRONT_ARXIV = ("arxiv", "arxiv_id", "arxivid", "eprint")
_FRONT_CITEKEY = ("citekey", "citationkey", "citation-key", "citation_key", "key")


@dataclass
class _Found:
    """What a note says of its paper, field by field, and the lines that say it."""

    authors: tuple[str, ...] = ()
    year: int | None = None
    venue: str = ""
    doi: str = ""
    arxiv: str = ""
    url: str = ""
    keywords: tuple[str, ...] = ()
    citekey: str = ""
    title: str = ""
    lines: tuple[int, ...] = ()

    def says_something(self) -> bool:
        """Whether this names a paper: who wrote it, an id, or when and where it appeared (a year alone does not)."""
        return bool(self.authors or self.doi or self.arxiv or self.citekey or self.year and self.venue)


def note_name(path: str) -> str:
    """What a note's file calls it: its file name without suffix, or its folder's name for a README or index."""
    file = PurePath(path)
    return file.parent.name if file.stem.lower() in _LIST_FILES and file.parent.name else file.stem


def paper_title(note: Note) -> str:
    """The title of the paper a note is about: the note's, or its folder's name for a README or index note."""
    return note_name(note.path) if note.title == PurePath(note.path).stem else note.title


def with_paper_record(note: Note, passages: list[Passage]) -> list[Passage]:
    """A note's passages (corpus/markdown.py, before packing) with its paper's record in place of the lines that
    name it, when the note is about one paper; else as they are."""
    if any(p.kind == "paper" for p in passages):
        return passages  # a list of papers
    found = _merge(_front_matter(note), _labelled(note))
    if not found.says_something():
        found = _opening(passages, note)
    if not found.says_something():
        return passages
    year = found.year or (arxiv_year(found.arxiv) if found.arxiv else None)
    paper = Paper(year=year, authors=found.authors, title=found.title or paper_title(note), note="",
                  venue=found.venue, doi=found.doi, arxiv=found.arxiv, url=found.url, keywords=found.keywords,
                  citekey=found.citekey, source="note")
    first = min((_title_line(note), *found.lines))
    last = max(line for line in (first, *found.lines) if line - first <= MAX_SPAN)
    inside = [p for p in passages if first <= p.line_start and p.line_end <= last and p.kind != "code"]
    texts = [p.text for p in inside]
    heading = [p for p in passages if p.kind == "heading" and p.line_start == first]
    if not texts or texts[0] != paper.title:
        texts.insert(0, paper.title)
    if first < note.body_line:
        texts.append(_described(paper))  # the front matter is in no passage
    record = Passage(path=note.path, line_start=first, line_end=last, section=inside[0].section if inside else "",
                     title=note.title, text="\n".join(texts), kind="paper", tags=note.tags, paper=paper,
                     links=tuple(dict.fromkeys(link for p in inside for link in p.links)))
    kept = [p for p in passages if p not in inside and p not in heading]
    return sorted([*kept, record], key=lambda p: (p.line_start, p.piece))


def _described(paper: Paper) -> str:
    """A line saying who wrote a paper, where and when (for a record whose fields come from front matter)."""
    parts = [", ".join(paper.authors), paper.venue, str(paper.year or ""), paper.doi and f"doi:{paper.doi}",
             paper.arxiv and f"arXiv:{paper.arxiv}"]
    return ". ".join(part for part in parts if part)


def _title_line(note: Note) -> int:
    """The line that names the note's paper: its first level-1 heading when that is its title, else its first."""
    if note.meta.get("title") or note.body_line > 1 and not note.text.strip():
        return 1
    for n, line in enumerate(note.text.split("\n")[:MAX_HEAD_LINES], note.body_line):
        if line.startswith("# ") and line[2:].strip().strip("#").strip() == note.title:
            return n
    return note.body_line


def _merge(first: _Found, second: _Found) -> _Found:
    """Each field from `first` when it has it, else from `second`; the lines of both."""
    merged = _Found()
    for name in ("authors", "year", "venue", "doi", "arxiv", "url", "keywords", "citekey", "title"):
        setattr(merged, name, getattr(first, name) or getattr(second, name))
    merged.lines = tuple(sorted({*first.lines, *second.lines}))
    return merged


def _front_matter(note: Note) -> _Found:
    """The paper fields of a note's front matter (its title is the note's own)."""
    meta = {str(key).lower(): value for key, value in note.meta.items()}
    found = _Found()
    authors = next((meta[key] for key in _FRONT_AUTHORS if meta.get(key)), None)
    if isinstance(authors, list):
        found.authors = tuple(name for name in (_name(text_of(a)) for a in authors[:200]) if name)
    elif authors:
        found.authors = _authors(text_of(authors))
    year = next((text_of(meta[key]) for key in _FRONT_YEAR if meta.get(key)), "")
    if match := _YEAR.search(year):
        found.year = int(match.group(1))
    found.venue = _plain(next((text_of(meta[key]) for key in _FRONT_VENUE if meta.get(key)), ""))
    found.doi = doi(text_of(meta.get("doi")))
    found.url = text_of(meta.get("url"))
    found.arxiv = next((arxiv_id(text_of(meta[key])) for key in _FRONT_ARXIV if meta.get(key)), "") or \
        arxiv_id(found.url)
    found.doi = found.doi or doi(found.url)
    found.citekey = next((text_of(meta[key]) for key in _FRONT_CITEKEY if meta.get(key)), "")
    found.keywords = tags_of(meta.get("keywords"))
    if found.says_something():
        found.lines = (1,)
    return found


def _labelled(note: Note) -> _Found:
    """The paper fields of the labelled lines at a note's head."""
    found = _Found()
    seen_heading = seen_text = False
    for n, line in enumerate(note.text.split("\n")[:MAX_HEAD_LINES], note.body_line):
        if _ATX.match(line):
            if seen_heading or seen_text:
                break  # the head ends at the heading after the title
            seen_heading = True
            continue
        seen_text = seen_text or bool(line.strip())
        label = _label(line)
        if label is None:
            continue
        field, raw = label
        value, links = strip_inline_links(raw)
        value = _plain(value)
        targets = [target for _offset, target in links] + _URL.findall(raw)
        said = _read_field(found, field, value, targets)
        if said:
            found.lines += (n,)
    return found


def _label(line: str) -> tuple[str, str] | None:
    """(field, value as written) of a labelled line, or None."""
    match = _BOLD_LABEL.match(line)
    if match:
        label, value = match.group(2), match.group(3)
    else:
        match = _PLAIN_LABEL.match(line)
        if not match:
            return None
        label, value = match.group(1), match.group(2)
    label = label.strip().rstrip(":：").strip()
    if len(label.split()) > MAX_LABEL_WORDS or _SENTENCE_MARK.search(label):
        return None
    return next(((field, value) for field, pattern in _LABELS if pattern.search(label)), None)


def _read_field(found: _Found, field: str, value: str, targets: list[str]) -> bool:
    """Set `field` of `found` from a labelled line's value and link targets; whether the line said anything."""
    if field == "authors" and value and not found.authors:
        found.authors = _authors(value)
        return bool(found.authors)
    if field == "year" and (match := _YEAR.search(value)) and not found.year:
        found.year = int(match.group(1))
        return True
    if field == "venue" and value and not found.venue:
        found.venue = value
        return True
    if field == "keywords" and value and not found.keywords:
        found.keywords = tags_of(value.replace("，", ",").replace("、", ","))
        return True
    if field == "title" and value and not found.title:
        found.title = value
        return True
    if field in ("url", "doi"):
        text = " ".join([value, *targets])
        found.arxiv = found.arxiv or arxiv_id(text)
        found.doi = found.doi or doi(text)
        found.url = found.url or next((t for t in targets if t.startswith(("http://", "https://"))), "")
        return bool(found.arxiv or found.doi or found.url)
    return False


def _opening(passages: list[Passage], note: Note) -> _Found:
    """Who wrote the paper and when, as the opening paragraph of a note named for it says it: the paragraph spells
    out the note's name (`Optimal Brain Surgeon (OBS)是1993年Babak Hassibi等人提出来的` in `OBS.md`)."""
    first = next((p for p in passages if p.kind in ("paragraph", "item")), None)
    found = _Found()
    if first is None or first.line_start - _title_line(note) > MAX_SPAN:
        return found
    name = re.escape(paper_title(note))
    spelled_out = re.search(rf"[(（]\s*{name}\s*[)）]|(?<![A-Za-z]){name}\s*[(（]", first.text)
    who, year = _ET_AL.search(first.text), _YEAR.search(first.text)
    if spelled_out and who and year:
        found.authors, found.year = (who.group(1).strip(),), int(year.group(1))
        found.lines = tuple(range(first.line_start, first.line_end + 1))
    return found


def _authors(text: str) -> tuple[str, ...]:
    """Author names from a labelled line or a front-matter string: `A、B、C等`, `Devlin, Jacob and Chang, Ming-Wei`,
    or names in a row with nothing between them (`Gongfan Fang Xinyin Ma Xinchao Wang`, read two words a name)."""
    text = _ET_AL_END.sub("", _plain(text))
    if " and " in text and re.search(r"\w+, \w", text) and "、" not in text:
        # BibTeX's `Last, First and Last, First`.
        names = [part.strip() for part in re.split(r"\s+and\s+", text)]
        return tuple(name for name in (_name(" ".join(reversed(n.split(",", 1))) if "," in n else n)
                                       for n in names) if name)
    return tuple(name for name in (_name(n) for n in split_authors(text)) if name)


def _name(text: str) -> str:
    """One author's name without link brackets, et al. or markers after it (`[[Jacob Devlin]]`, `Xinchao Wang∗`)."""
    return _AFTER_NAME.sub("", _ET_AL_END.sub("", text.strip().strip("[]").strip())).strip(" ,;.")


def _plain(text: str) -> str:
    return " ".join(_MARKUP.sub("", text).split())
