"""Papers kept as researchers keep them — a note per paper, a folder per paper, a BibTeX library, a table —
indexed together: one paper one record, related for all of them with reasons, paper fields everywhere."""

from __future__ import annotations

import json

import pytest

import cli
from indexer import build
from indexer.paper_graph import load
from search import open_index, search
from search.relate.papers import paper_graph, related, related_passage

PRUNER = """# LLM-Pruner: On the Structural Pruning of Large Language Models

**作者：** Xinyin Ma Gongfan Fang Xinchao Wang∗

**发表刊物/会议：** NeurIPS

**发表年份：** 2023

**论文地址：** https://arxiv.org/abs/2305.11627

## 内容概要

LLM-Pruner 用依赖检测找出大语言模型中耦合的结构，按组剪枝，再用 LoRA 快速恢复性能。它沿用了 [[DepGraph]] 的依赖图。
"""

DEPGRAPH = """---
title: "DepGraph: Towards Any Structural Pruning"
authors: [Gongfan Fang, Xinyin Ma, Mingli Song, Michael Bi Mi, Xinchao Wang]
year: 2023
venue: CVPR
tags: [pruning, structural]
---

# DepGraph

依赖图（DepGraph）显式建模层与层之间的依赖关系，对耦合参数分组后进行结构化剪枝，适用于卷积网络与 transformer。
"""

DIFFUSION = """Authors: Gongfan Fang, Xinyin Ma, Xinchao Wang
Year: 2023
arXiv: 2305.10924

Diff-Pruning 对扩散模型做结构化剪枝：用泰勒展开估计参数的重要性，去掉不重要的结构，生成质量几乎不变。
"""

TOPIC = """# 模型压缩

剪枝、量化与蒸馏是模型压缩的三条路。结构化剪枝去掉整组参数，非结构化剪枝把单个权重置零。
"""

TABLE = """# 论文列表

| 年份 | 作者 | 标题 | 注释 |
|---|---|---|---|
| 2015 | Song Han、Jeff Pool | Learning both Weights and Connections for Efficient Neural Networks | 先训练、再剪去小权重、再微调：非结构化剪枝的起点。 |
"""

LIBRARY = """@inproceedings{ma2023llmpruner,
  title = {{LLM-Pruner}: On the Structural Pruning of Large Language Models},
  author = {Ma, Xinyin and Fang, Gongfan and Wang, Xinchao},
  booktitle = {Advances in Neural Information Processing Systems},
  year = {2023},
  eprint = {2305.11627},
  doi = {10.5555/llmpruner},
  keywords = {pruning, large language models}
}

@article{han2015learning,
  title = {Learning Both Weights and Connections for Efficient Neural Networks},
  author = {Han, Song and Pool, Jeff and Tran, John and Dally, William J.},
  journal = {NeurIPS},
  year = {2015},
  abstract = {Neural networks are both computationally intensive and memory intensive. We prune redundant connections.}
}

@article{frantar2023sparsegpt,
  title = {{SparseGPT}: Massive Language Models Can be Accurately Pruned in One-Shot},
  author = {Frantar, Elias and Alistarh, Dan},
  journal = {ICML},
  year = {2023},
  abstract = {We show that large language models can be pruned to 50% sparsity in one shot, without retraining.}
}
"""


@pytest.fixture(scope="module")
def library(tmp_path_factory, embedder):
    """Notes of every layout: paper notes (labelled lines, front matter, labels without a heading in a folder),
    a topic note, a table of papers, and a BibTeX library that repeats two of the papers."""
    root = tmp_path_factory.mktemp("papers") / "notes"
    files = {"LLM-Pruner.md": PRUNER, "DepGraph.md": DEPGRAPH, "Structural Pruning for Diffusion Models/README.md":
             DIFFUSION, "model_compression.md": TOPIC, "list.md": TABLE, "library.bib": LIBRARY}
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    directory = str(tmp_path_factory.mktemp("papers") / "index")
    build([str(root)], directory, embedder=embedder)
    with open_index(directory, embedder=embedder) as index:
        yield root, directory, index


def test_one_paper_in_three_places_is_one_record_with_all_its_places(library):
    _root, _directory, index = library
    graph = paper_graph(index)
    pruner = [node for node in graph.papers if "LLM-Pruner" in node.title]
    assert len(pruner) == 1  # the note and the BibTeX entry (same arXiv id)
    assert sorted(place["source"] for place in pruner[0].places) == ["bib", "note"]
    assert pruner[0].path.endswith("LLM-Pruner.md")  # the hit is the note's
    assert pruner[0].paper.doi == "10.5555/llmpruner"  # what the entry adds to the note's record
    han = [node for node in graph.papers if "Weights and Connections" in node.title]
    assert len(han) == 1 and sorted(p["source"] for p in han[0].places) == ["bib", "row"]  # by its folded title
    assert len(graph.papers) == 5 and [node.title for node in graph.nodes if node.kind == "topic"] == ["模型压缩"]


def test_stats_says_how_many_notes_became_papers(library, capsys):
    _root, directory, _index = library
    assert cli.main(["stats", "--index", directory]) == 0
    out = capsys.readouterr().out
    assert "papers     5 (3 notes of their own, 1 table row, 3 BibTeX entries); 1 topic note" in out


@pytest.mark.parametrize("name", ["DepGraph", "DepGraph: Towards Any Structural Pruning", "depgraph"])
def test_related_depgraph_names_its_authors_other_papers_with_the_shared_authors(library, name):
    _root, _directory, index = library
    result = related(index, name, k=5)
    assert result.anchor is not None and result.anchor.display_title == "DepGraph: Towards Any Structural Pruning"
    by_title = {hit.passage.display_title: hit for hit in result.hits}
    for title in ("LLM-Pruner: On the Structural Pruning of Large Language Models", "Structural Pruning for Diffusion Models"):
        reasons = by_title[title].reasons
        shared = next(reason for reason in reasons if reason.startswith("shared authors"))
        assert "Gongfan Fang" in shared and "Xinyin Ma" in shared and "Xinchao Wang" in shared, reasons
    assert all(hit.passage.path != result.anchor.path for hit in result.hits)


def test_a_wikilink_between_paper_notes_is_a_reason(library):
    _root, _directory, index = library
    result = related(index, "LLM-Pruner", k=5)
    depgraph = next(hit for hit in result.hits if hit.passage.display_title.startswith("DepGraph"))
    assert "link: the anchor's note links to its note" in depgraph.reasons


def test_related_by_path_and_by_any_line_of_a_paper_note_answers_with_papers(library):
    root, _directory, index = library
    by_path = related(index, str(root / "DepGraph.md"), k=3)
    assert by_path.anchor.display_title.startswith("DepGraph")
    for line in (1, 9, 12):  # the front matter, the heading, the text
        result = related_passage(index, str(root / "DepGraph.md"), line, k=3)
        assert result.anchor.display_title.startswith("DepGraph"), line
        assert [h.passage.display_title for h in result.hits] == [h.passage.display_title for h in by_path.hits]
    folder = related_passage(index, str(root / "Structural Pruning for Diffusion Models" / "README.md"), 1, k=3)
    assert folder.anchor.display_title == "Structural Pruning for Diffusion Models"


def test_a_line_of_a_list_answers_for_its_row_and_a_topic_line_with_passages(library):
    root, _directory, index = library
    row = related_passage(index, str(root / "list.md"), 5, k=3)
    assert row.anchor.display_title.startswith("Learning both Weights")
    topic = related_passage(index, str(root / "model_compression.md"), 3, k=3)
    assert topic.anchor.path.endswith("model_compression.md") and topic.anchor.paper is None


@pytest.mark.parametrize("query, title", [
    ('author:"Xinyin Ma"', "LLM-Pruner"), ("year:2015", "Learning both Weights"), ("venue:CVPR", "DepGraph"),
    ("tag:structural", "DepGraph"), ("venue:ICML", "SparseGPT"), ('author:"Elias Frantar"', "SparseGPT"),
])
def test_paper_fields_find_papers_of_every_layout(library, query, title):
    _root, _directory, index = library
    hits = search(index, query, mode="keyword", k=5).hits
    assert hits and hits[0].passage.display_title.lower().startswith(title.lower()), [h.passage.display_title
                                                                                      for h in hits]
    records = [h for h in hits if h.passage.kind == "paper" and h.passage.display_title.lower().startswith(title.lower())]
    assert len(records) == 1  # one paper, one record: its other places are the hit's `also`


def test_json_hits_carry_their_paper(library, capsys):
    _root, directory, _index = library
    assert cli.main(["search", "依赖检测 耦合", "--index", directory, "--json", "--mode", "keyword"]) == 0
    hit = json.loads(capsys.readouterr().out)["hits"][0]
    assert hit["path"].endswith("LLM-Pruner.md") and hit["line_start"] > 9  # a passage of the note, not its record
    assert hit["paper"]["title"].startswith("LLM-Pruner") and hit["paper"]["year"] == 2023
    assert hit["paper"]["ids"]["arxiv"] == "2305.11627" and hit["paper"]["venue"] == "NeurIPS"


def test_an_edited_note_updates_the_graph_as_a_rebuild_would(library, tmp_path, embedder):
    root, _directory, _index = library
    copy = tmp_path / "notes"
    copy.mkdir()
    for path in root.rglob("*"):
        if path.is_file():
            (copy / path.relative_to(root)).parent.mkdir(parents=True, exist_ok=True)
            (copy / path.relative_to(root)).write_bytes(path.read_bytes())
    updated, rebuilt = str(tmp_path / "updated"), str(tmp_path / "rebuilt")
    build([str(copy)], updated, embedder=embedder)
    (copy / "model_compression.md").write_text(TOPIC + "\n见 LLM-Pruner 与 DepGraph。\n", encoding="utf-8")
    report = build([str(copy)], updated, embedder=embedder)
    assert report.updated == 1
    build([str(copy)], rebuilt, embedder=embedder)

    def graph(directory: str):
        with open_index(directory, embedder=embedder) as index:
            stored = load(index.folder)
            return stored.nodes, stored.names, stored.edges, stored.vocabulary

    assert graph(updated) == graph(rebuilt)
    nodes, _names, edges, _vocabulary = graph(updated)
    topic = next(n for n, node in enumerate(nodes) if node["kind"] == "topic")
    named = {nodes[target]["title"][:9] for source, target, kind, _e in edges if source == topic and kind == "names"}
    assert named == {"LLM-Prune", "DepGraph:"}
