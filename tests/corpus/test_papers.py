"""Paper records from tables of papers: the bundled list (golden), authors, headers, bad rows."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import BUNDLED_NOTES, line_of

from corpus.markdown import MAX_PIECE, passages_of
from corpus.model import MAX_CONTEXT, MIN_SENTENCE_RUN, Paper, Passage
from corpus.papers import MAX_TITLE, PaperTable, split_authors, split_row
from corpus.reading import parse_note

PAPERS_NOTE = BUNDLED_NOTES / "famous-deep-learning-papers.md"


def _passages(path: Path) -> list[Passage]:
    return passages_of(parse_note(str(path), path.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def paper_passages() -> list[Passage]:
    return [p for p in _passages(PAPERS_NOTE) if p.paper]


def _by_title(paper_passages: list[Passage], title: str) -> Passage:
    found = [p for p in paper_passages if p.paper.title == title]
    assert len(found) == 1, f"{title!r} is the title of {len(found)} records"
    return found[0]


def test_bundled_list_yields_48_paper_records(paper_passages):
    table_rows = [line for line in PAPERS_NOTE.read_text(encoding="utf-8").split("\n")
                  if line.startswith("|") and line[1:5].isdigit()]
    assert len(table_rows) == 48
    assert len(paper_passages) == 48
    assert all(p.kind == "paper" for p in paper_passages)


@pytest.mark.parametrize("year, title, authors", [
    (1943, "A Logical Calculus of the Ideas Immanent in Nervous Activity", ("Warren S. McCulloch", "Walter Pitts")),
    (1958, "The Perceptron: A Probablistic Model for Information Storage and Organization in the Brain",
     ("Frank Rosenblatt",)),
    (1986, "Learning Representations by Back-Propagating Errors",
     ("David E. Rumelhart", "Geoffrey E. Hinton", "Ronald J. Williams")),
    (1997, "Long Short-Term Memory", ("Sepp Hochreiter", "Jürgen Schmidhuber")),
    (2005, "What Kind of Graphical Model is the Brain?", ("Geoffrey Hinton",)),
    (2015, "Adam: A Method for Stocastic Optimization", ("Diederik P. Kingma", "Jimmy Lei Ba")),
    (2017, "Attention is All You Need", ("Ashsh Vaswani", "Noam Shazeer", "Niki Parmar", "Jakob Uszkoreit",
                                         "Llion Jones", "Aidan N. Gomez", "Łukasz Kaiser", "Illia Polosukhin")),
    (2019, "BERT: Pre - training of Deep Bidirectional Transformers for Language Understanding",
     ("Jacob Devlin", "Ming - Wei Chang", "Kenton Lee", "Kristina Toutanova")),
])
def test_bundled_paper_has_its_year_title_and_authors(paper_passages, year, title, authors):
    passage = _by_title(paper_passages, title)
    assert passage.paper.year == year
    assert passage.paper.authors == authors
    assert passage.line_start == passage.line_end == line_of(PAPERS_NOTE, f"*{title}*")


def test_gan_paper_lists_goodfellow_first_of_nine(paper_passages):
    gan = _by_title(paper_passages, "Generative Adversarial Nets")
    assert gan.paper.year == 2014
    assert gan.paper.authors[0] == "Ian J. Goodfellow"
    assert len(gan.paper.authors) == 9
    assert gan.paper.authors[-1] == "Jitendra Malik"


def test_paper_note_is_the_commentary_without_markdown(paper_passages):
    lstm = _by_title(paper_passages, "Long Short-Term Memory")
    assert lstm.paper.note.startswith("如何稳定长序列的递归？")
    assert lstm.paper.note.endswith("这是Cho在2014年设计的一种更简单的替代方案。")
    for passage in paper_passages:
        for text in (passage.paper.title, passage.paper.note, passage.text, *passage.paper.authors):
            assert "*" not in text and "|" not in text, (passage.id, text)
        assert passage.paper.note and passage.paper.authors


def test_a_paper_is_embedded_whole_then_by_runs_of_its_sentences_after_its_title(paper_passages):
    lstm = _by_title(paper_passages, "Long Short-Term Memory")
    whole, *runs = lstm.embed_texts()
    assert whole == lstm.context_text() and whole.startswith("Long Short-Term Memory (1997). Sepp Hochreiter")
    assert len(runs) >= 2 and all(run.startswith("Long Short-Term Memory: ") for run in runs)
    assert runs[0].startswith("Long Short-Term Memory: 如何稳定长序列的递归？如果不采取特殊措施")  # a short question joins the next
    said = "".join(run.removeprefix("Long Short-Term Memory: ") for run in runs)
    assert "".join(said.split()) == "".join(lstm.paper.note.split())


def test_every_bundled_record_sits_on_its_own_row(paper_passages):
    lines = PAPERS_NOTE.read_text(encoding="utf-8").split("\n")
    for passage in paper_passages:
        row = lines[passage.line_start - 1]
        assert row.startswith(f"|{passage.paper.year}|")
        assert f"*{passage.paper.title}*" in row
    assert len({p.line_start for p in paper_passages}) == 48


def test_years_cover_1943_to_2022_in_table_order(paper_passages):
    years = [p.paper.year for p in paper_passages]
    assert years[0] == 1943 and years[-1] == 2022
    assert years.count(2015) == 6


@pytest.mark.parametrize("text, names", [
    ("Warren S. McCulloch和Walter Pitts，", ("Warren S. McCulloch", "Walter Pitts")),
    ("Jerome Lettvin、Humberto Maturana、Warren McCulloch和Walter Pitts",
     ("Jerome Lettvin", "Humberto Maturana", "Warren McCulloch", "Walter Pitts")),
    ("Frank Rosenblatt，", ("Frank Rosenblatt",)),
    ("Yann Le Cun、B. Boser和L. D. Jackel", ("Yann Le Cun", "B. Boser", "L. D. Jackel")),
    ("A and B", ("A", "B")),
    ("A, B, and C", ("A", "B", "C")),
    ("A & B", ("A", "B")),
    ("A; B；C", ("A", "B", "C")),
    ("张三与李四及王五", ("张三", "李四", "王五")),
    ("Alexander Anderson and Sandy Brand", ("Alexander Anderson", "Sandy Brand")),
    ("**Geoffrey Hinton**, ", ("Geoffrey Hinton",)),
    ("", ()),
    ("，、, ", ()),
])
def test_split_authors(text, names):
    assert split_authors(text) == names


@pytest.mark.parametrize("header, layout", [
    ("|年份|作者/标题|注释|", PaperTable(0, 1, 2)),
    ("| Year | Authors / Title | Notes |", PaperTable(0, 1, 2)),
    ("| Title | Year |", PaperTable(1, 0, None)),
    ("| 论文 | 年代 | 备注 |", PaperTable(1, 0, 2)),
    ("| Date | Paper | Comment | Link |", PaperTable(0, 1, 2)),
    ("| year | paper | link |", PaperTable(0, 1, 2)),
    ("| Name | Score |", None),
    ("| Year | Score |", None),
    ("| Author | Notes |", None),
    ("||", None),
    ("| 年份 | 作者 | 标题 | 注释 |", PaperTable(0, 2, 3, authors=1)),
    ("| Year | Authors | Title | Notes |", PaperTable(0, 2, 3, authors=1)),
    ("| Title | Author | Year |", PaperTable(2, 0, None, authors=1)),
    ("| 年份 | 论文 | 作者 | 链接 |", PaperTable(0, 1, 3, authors=2)),
    ("| Year | Author | Notes |", PaperTable(0, 1, 2)),  # authors alone: read as the author/title column
])
def test_paper_table_from_header(header, layout):
    assert PaperTable.from_header(split_row(header)) == layout


@pytest.mark.parametrize("row, cells", [
    ("|1943|A|b|", ["1943", "A", "b"]),
    ("| 1943 | A | b |", ["1943", "A", "b"]),
    ("1943 | A", ["1943", "A"]),
    ("|a \\| b|c|", ["a | b", "c"]),
    ("|||", ["", ""]),
])
def test_split_row(row, cells):
    assert split_row(row) == cells


ENGLISH = PaperTable.from_header(split_row("| Year | Authors / Title | Notes |"))


@pytest.mark.parametrize("row, year, authors, title, note", [
    ("| 2014 | Goodfellow, Pouget-Abadie, and Bengio, _Generative Adversarial Nets_ | GAN **bold** |",
     2014, ("Goodfellow", "Pouget-Abadie", "Bengio"), "Generative Adversarial Nets", "GAN bold"),
    ("| 2017 | Vaswani et al., [*Attention is all you need*](https://arxiv.org/abs/1706.03762) | see [the blog](http://x) |",
     2017, ("Vaswani et al",), "Attention is all you need", "see the blog"),
    ("| 2012 | **Bold Title** | `code` note |", 2012, (), "Bold Title", "code note"),
    ("| c. 1990s | Anon, *Old Idea* | x |", 1990, ("Anon",), "Old Idea", "x"),
    ("| 2014 | Plain Title Without Italics | n |", 2014, (), "Plain Title Without Italics", "n"),
    ("| 2014 | A, *T* |", 2014, ("A",), "T", ""),
])
def test_english_table_rows_become_papers(row, year, authors, title, note):
    paper = ENGLISH.paper(split_row(row))
    assert (paper.year, paper.authors, paper.title, paper.note) == (year, authors, title, note)


@pytest.mark.parametrize("header, row, year, authors, title, note", [
    ("| 年份 | 作者 | 标题 | 注释 |", "| 2014 | Ian Goodfellow、Yoshua Bengio | 生成对抗网络 Generative Adversarial Nets | 对抗训练 |",
     2014, ("Ian Goodfellow", "Yoshua Bengio"), "生成对抗网络 Generative Adversarial Nets", "对抗训练"),
    ("| Year | Authors | Title | Notes |", "| 2017 | Vaswani, Shazeer and Parmar | *Attention Is All You Need* | x |",
     2017, ("Vaswani", "Shazeer", "Parmar"), "Attention Is All You Need", "x"),
    ("| Year | Authors | Title | Notes |", "| 2015 | **He** et al. | [Deep Residual Learning](https://x.org) |",
     2015, ("He et al",), "Deep Residual Learning", ""),
    ("| Title | Author | Year |", "| _Adam_ | Kingma | 2015 |", 2015, ("Kingma",), "Adam", ""),
])
def test_a_table_with_an_authors_column_and_a_title_column_is_read_by_its_headers(header, row, year, authors,
                                                                                   title, note):
    paper = PaperTable.from_header(split_row(header)).paper(split_row(row))
    assert (paper.year, paper.authors, paper.title, paper.note) == (year, authors, title, note)


def test_author_and_title_queries_find_a_paper_of_a_table_with_separate_columns(notes_dir, tmp_path, embedder):
    from indexer import build
    from search import open_index, search

    folder = notes_dir({"papers.md": (
        "# 论文\n\n| 年份 | 作者 | 标题 | 注释 |\n|---|---|---|---|\n"
        "| 2014 | Ian Goodfellow、Yoshua Bengio | Generative Adversarial Nets | 对抗训练的开端 |\n"
        "| 2017 | Ashish Vaswani | Attention Is All You Need | Transformer |\n")})
    build([str(folder)], str(tmp_path / "index"), embedder=embedder)
    with open_index(str(tmp_path / "index"), embedder=embedder) as index:
        for query, title in (("author:goodfellow", "Generative Adversarial Nets"),
                             ("author:vaswani", "Attention Is All You Need"), ("title:adversarial", "Generative Adversarial Nets"),
                             ("year:2014 author:bengio", "Generative Adversarial Nets")):
            hits = search(index, query, mode="keyword").hits
            assert [h.passage.paper.title for h in hits] == [title], query


@pytest.mark.parametrize("row", ["| n.d. | A, *T* | x |", "| 2014 |", "| | | |", "|", "| 2014 |   | note |"])
def test_row_without_year_or_title_is_no_paper(row):
    assert ENGLISH.paper(split_row(row)) is None


def test_malformed_rows_in_a_note_become_plain_rows(notes_dir):
    folder = notes_dir({"papers.md": (
        "| Year | Authors / Title | Notes |\n"
        "|---|---|---|\n"
        "| 2014 | Ian Goodfellow, *Generative Adversarial Nets* | GANs |\n"
        "| 2015 |\n"
        "| someday | Nobody, *Unwritten* | never |\n"
        "| 2016 | Silver, *Go* | board | extra | cells |\n"
        "|\n"
    )})
    path = folder / "papers.md"
    passages = _passages(path)
    by_line = {p.line_start: p for p in passages}
    gan = by_line[line_of(path, "Generative Adversarial Nets")]
    assert gan.kind == "paper" and gan.paper.authors == ("Ian Goodfellow",)
    assert by_line[line_of(path, "| 2015 |")].kind == "row"
    assert by_line[line_of(path, "someday")].paper is None
    go = by_line[line_of(path, "Silver")]
    assert (go.paper.year, go.paper.title, go.paper.note) == (2016, "Go", "board")
    assert all(p.line_start == p.line_end for p in passages)
    assert len(passages) == 4


def test_table_without_a_year_column_has_no_papers(notes_dir):
    folder = notes_dir({"scores.md": "| Name | Score |\n|---|---|\n| *Alice* | 2014 |\n"})
    [row] = _passages(folder / "scores.md")
    assert row.kind == "row" and row.paper is None
    assert row.text == "Alice 2014"


def test_a_table_row_too_long_for_a_record_is_read_in_pieces(notes_dir):
    folder = notes_dir({"papers.md": ("| Year | Authors / Title | Notes |\n|---|---|---|\n"
                                      f"| 2020 | {'_a ' * 20_000}| tail words |\n"
                                      "| 2021 | Short, *Fine Title* | ok |\n")})
    passages = _passages(folder / "papers.md")
    long_row = [p for p in passages if p.line_start == 3]
    assert len(long_row) > 10 and all(p.kind == "row" and p.paper is None for p in long_row)
    assert all(len(p.text) <= MAX_PIECE for p in long_row) and "tail words" in long_row[-1].text
    assert [p.paper.title for p in passages if p.paper] == ["Fine Title"]


def test_what_the_embedder_reads_of_a_passage_is_bounded():
    huge = Paper(2020, ("A",) * 1000, "T" * MAX_TITLE, "note " * 10_000)
    assert len(Passage("p.md", 1, 1, "", "", "x", kind="paper", paper=huge).context_text()) == MAX_CONTEXT
    long_path = " > ".join(["h" * 300] * 6)
    passage = Passage("p.md", 1, 1, long_path, "t" * 300, "the passage's own text")
    assert passage.context_text().endswith(": the passage's own text") and len(passage.context_text()) == MAX_CONTEXT
    assert PaperTable(0, 1, None).paper(["2020", "x" * (MAX_TITLE + 1)]) is None
    # Its runs of sentences read no more of a long note than its whole text does.
    talkative = Paper(2020, ("A",), "T", "This sentence of the note says one thing. " * 2_000)
    whole, *runs = Passage("p.md", 1, 1, "", "", "x", kind="paper", paper=talkative).embed_texts()
    assert len(whole) == MAX_CONTEXT and 2 <= len(runs) <= MAX_CONTEXT // MIN_SENTENCE_RUN
    assert sum(len(run.removeprefix("T: ")) for run in runs) <= MAX_CONTEXT
