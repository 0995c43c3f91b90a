"""Questions and notes as people type them (issue 27): in Traditional or Simplified characters, full-width letters,
zero-width characters pasted from the web."""

from __future__ import annotations

import pytest

from indexer import build
from search import open_index, search


def _ranked(result) -> list[tuple[str, float]]:
    return [(hit.passage.id, round(hit.score, 9)) for hit in result.hits]


@pytest.mark.parametrize("mode", ["keyword", "hybrid"])
@pytest.mark.parametrize("typed, simplified", [
    ("自監督 視覺", "自监督 视觉"),
    ("對比學習 瓶頸", "对比学习 瓶颈"),
    ("ＢＥＲＴ 掩碼", "BERT 掩码"),
    ("掩\u200b码 预\u200d测", "掩码 预测"),
])
def test_a_question_ranks_as_its_simplified_original(bundled_index, mode, typed, simplified):
    assert _ranked(search(bundled_index, typed, mode=mode, k=10)) == \
        _ranked(search(bundled_index, simplified, mode=mode, k=10))


@pytest.fixture(scope="module")
def mixed_script_index(tmp_path_factory, embedder):
    root = tmp_path_factory.mktemp("scripts") / "notes"
    root.mkdir()
    (root / "taiwan.md").write_text("# 筆記\n\n自監督學習讓模型從未標註的資料中學習視覺表示。\n", encoding="utf-8")
    (root / "pasted.md").write_text("# 网页\n\n注意力掩\u200b码让解码器只看见前面的词。\n", encoding="utf-8")
    (root / "other.md").write_text("# 其他\n\n卷积网络在图像分类上表现很好。\n", encoding="utf-8")
    directory = str(tmp_path_factory.mktemp("scripts") / "index")
    build([str(root)], directory, embedder=embedder)
    with open_index(directory, embedder=embedder) as index:
        yield index


def test_a_note_in_traditional_is_found_by_a_simplified_question_and_shows_its_own_characters(mixed_script_index):
    hits = search(mixed_script_index, "自监督学习 视觉", mode="keyword", k=5).hits
    assert hits and hits[0].passage.path.endswith("taiwan.md")
    assert "**自監督學習**" in hits[0].snippet and "**視覺**" in hits[0].snippet


def test_a_zero_width_space_inside_a_word_hides_it_no_more(mixed_script_index):
    hits = search(mixed_script_index, "掩码", mode="keyword", k=5).hits
    assert hits and hits[0].passage.path.endswith("pasted.md")
    assert "**掩\u200b码**" in hits[0].snippet
