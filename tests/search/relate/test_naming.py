"""The papers a passage names (search/relate/naming.py), on the bundled notes: golden passages of the trends
note that name papers of the table, and passages that only share a first name or a word with a paper."""

from __future__ import annotations

import pytest

import corpus
from corpus.model import Passage
from indexer import build
from search import locate, open_index
from search.relate.graph import PaperGraph
from search.relate.naming import named_papers
from search.relate.papers import more_like, related_passage

TRENDS = corpus.BUNDLED_NOTES / "dl-research-trends-2022-2024.md"
TABLE = str(corpus.BUNDLED_NOTES / "famous-deep-learning-papers.md")
BERT = "BERT: Pre - training of Deep Bidirectional Transformers for Language Understanding"
CLIP = "Learning Transferable Visual Models From Natural Language Supervision"
BATCH_NORM = "Batch Normalization: Accelerating Deep Network Training by Reducing Internal Covariate Shift"
NERF = "NeRF: Representing Scenes as Neural Radiance Fields for View Synthesis"


@pytest.fixture(scope="module")
def graph(bundled_index) -> PaperGraph:
    return PaperGraph(bundled_index)


def named(graph: PaperGraph, text: str) -> list[tuple[str, str]]:
    passage = Passage(path="/elsewhere/note.md", line_start=1, line_end=1, section="", title="note", text=text)
    return [(found.name, found.paper.title) for found in named_papers(graph, passage)]


@pytest.mark.parametrize("line, expected", [
    (37, [("BERT", BERT, 2019, 58)]),  # the MAE paragraph: BERT; not ImageNet-1K, ViT-Huge or VideoMAE
    (64, [("CLIP", CLIP, 2021, 61), ("NeRF", NERF, 2020, 59)]),
    (67, [("AlphaGo", "Mastering the Game of Go with Deep Neural Networks and Tree Search", 2016, 54)]),
])
def test_a_prose_passage_names_the_table_papers_it_names(bundled_index, graph, line, expected):
    result = related_passage(bundled_index, str(TRENDS), line, k=3, graph=graph)
    assert result.anchor.line_start == line and result.paper is None and len(result.hits) == 3
    assert [(n.name, n.paper.title, n.paper.year, n.passage.path, n.passage.line_start) for n in result.named] == \
           [(name, title, year, TABLE, row) for name, title, year, row in expected]


def test_a_passage_sharing_only_common_words_with_papers_names_none(bundled_index, graph):
    # Transformer, GNN, NeurIPS: words papers of the table use (Transformer, the Attention paper's), none a name
    # one goes by.
    anchor = locate(bundled_index, f"{TRENDS}:31")
    assert "Transformer" in anchor.text and "GNN" in anchor.text
    assert more_like(bundled_index, anchor, k=2, graph=graph).named == ()


def test_a_passage_in_pieces_names_the_papers_of_all_its_pieces(bundled_index, graph):
    pieces = [p for p in bundled_index.passages_of(str(TRENDS)) if p.line_start == 64]
    assert len(pieces) > 1 and not any("NeRF" in p.text for p in pieces[:1])  # NeRF is in a later piece
    result = more_like(bundled_index, pieces[0], k=2, graph=graph)
    assert [n.name for n in result.named] == ["CLIP", "NeRF"]


@pytest.mark.parametrize("text", [
    "John 和 Frank 在会上讨论了这个问题。",  # first names the table's notes use (Hopfield's, Wilczek's)
    "Hinton 与 Bengio 的工作",  # authors' surnames: an author is no paper's name
    "在 ImageNet 上的精度",  # a word of AlexNet's title, what it works on, not its name
    "PyTorch 和 JAX 都是深度学习框架",  # cited in Bottou's row as other works (Paszke 2019, Frostig 2018)
    "ResNeXt 和 VideoMAE、bert、Deep Learning",  # inside a longer name, another case, a plain phrase
    "Seppo Linnainmaa 的自动微分",  # the names of a person a row cites, no author of the table
    "Dropout 和 Xavier 初始化",  # plain words rows use (AlexNet's, ResNet's), not names a paper goes by
])
def test_a_passage_that_only_shares_a_first_name_or_a_word_names_nothing(graph, text):
    assert named(graph, text) == []


@pytest.mark.parametrize("text, expected", [
    ("正如 attention is all you need 所说", [("attention is all you need", "Attention is All You Need")]),
    ("BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding 一文",
     [("BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding", BERT)]),
    ("用 LSTMs 和 ResNet 做的实验", [("LSTMs", "Long Short-Term Memory"),
                                   ("ResNet", "Deep Residual Learning for Image Recognition")]),
    ("Batch Normalization 让训练更稳定，Adam 也是",
     [("Batch Normalization", BATCH_NORM), ("Adam", "Adam: A Method for Stocastic Optimization")]),
    ("Wasserstein GAN 改进了 GAN", [("GAN", "Generative Adversarial Nets")]),
])
def test_a_paper_is_named_by_its_title_its_head_or_a_name_it_goes_by(graph, text, expected):
    assert named(graph, text) == expected


def test_a_paper_passage_names_no_paper_of_its_own(bundled_index, graph):
    row = next(p for p in bundled_index.passages() if p.paper and p.paper.title == "Long Short-Term Memory")
    assert "LSTM" in row.text
    assert [n.paper.title for n in named_papers(graph, row)] == []


def test_a_name_that_is_an_authors_first_name_names_no_paper(notes_dir, tmp_path, embedder):
    notes = notes_dir({
        "papers.md": "|年份|作者/标题|注释|\n|---|---|---|\n"
                     "|2015|Diederik P. Kingma和Jimmy Lei Ba，*Adam: A Method for Stochastic Optimization*|自适应步长。|\n"
                     "|2019|Adam Paszke和Sam Gross，*PyTorch: An Imperative Style Deep Learning Library*|动态图。|\n",
        "prose.md": "# 随笔\n\nAdam Paszke 写了 PyTorch。\n\n我们用 Adam 训练。\n",
    })
    build([str(notes)], str(tmp_path / "index"), embedder=embedder)
    with open_index(str(tmp_path / "index"), embedder=embedder) as index:
        graph = PaperGraph(index)
        passages = index.passages_of(str(notes / "prose.md"))
        named = [(n.name, n.paper.year) for p in passages for n in named_papers(graph, p)]
    assert "我们用 Adam 训练" in "".join(p.text for p in passages)
    assert named == [("PyTorch", 2019)]  # not Adam: the head of a title, and an author's first name too
