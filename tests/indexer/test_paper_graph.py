"""The paper graph's joins: the notes that belong to a paper are part of it, links reach moved notes."""

from __future__ import annotations

from indexer import build
from indexer.paper_graph import load
from search import open_index

OBS = "## OBS从入门到放弃\n\nOptimal Brain Surgeon (OBS)是1993年Babak Hassibi等人提出来的，利用二阶导数剪枝。\n"
README = "# Deep Residual Learning\n\nAuthors: Kaiming He, Xiangyu Zhang\n\nVenue: CVPR 2016\n\n残差连接。\n"


def test_notes_beside_a_paper_are_its_material_and_a_link_to_a_moved_note_finds_it(notes_dir, tmp_path, embedder):
    root = notes_dir({
        "BASE/OBS.md": OBS,
        "BASE/jupyter/OBS.md": "# OBS 的例子\n\n剪枝前后的输出几乎不变。\n",  # named like the paper's note, below it
        "ResNet/README.md": README,
        "ResNet/experiments.md": "# 实验\n\nImageNet 上的残差网络。\n",  # in the paper's folder
        "pruning.md": "# 裁剪\n\n结构化裁剪与非结构化裁剪的区别，见 [OBS](old/place/OBS.md)。\n",  # a stale link
    })
    directory = str(tmp_path / "index")
    build([str(root)], directory, embedder=embedder)
    with open_index(directory, embedder=embedder) as index:
        graph = load(index.folder)
    by_title = {node["title"]: node for node in graph.nodes}
    assert sorted(p.rsplit("/", 2)[-2:][-1] for p in by_title["OBS"]["files"]) == ["OBS.md", "OBS.md"]
    assert len(by_title["Deep Residual Learning"]["files"]) == 2 and by_title["Deep Residual Learning"]["paper"]["venue"] == "CVPR 2016"
    assert [node["title"] for node in graph.nodes if node["kind"] == "topic"] == ["裁剪"]
    topic = next(n for n, node in enumerate(graph.nodes) if node["kind"] == "topic")
    obs = next(n for n, node in enumerate(graph.nodes) if node["title"] == "OBS")
    assert [topic, obs, "links", "old/place/OBS.md"] in graph.edges
