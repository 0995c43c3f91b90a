"""The keyword index's files: Whoosh's schema holds no notesearch class, tokens reach Whoosh as analysed."""

from __future__ import annotations

import pickle
import pickletools

import pytest

from indexer.analysis import Analyzer, gram_terms
from indexer.keyword import documents as keyword


def _pickled_modules(value) -> set[str]:
    """The modules whose classes or functions a pickle of `value` names."""
    modules, strings = set(), []
    for opcode, arg, _pos in pickletools.genops(pickle.dumps(value, 2)):
        if opcode.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE"):
            strings.append(arg)
        elif opcode.name == "STACK_GLOBAL":
            modules.add(strings[-2])
        elif opcode.name == "GLOBAL":
            modules.add(arg.split(" ")[0])
    return modules


def test_the_schema_whoosh_pickles_names_no_notesearch_module():
    modules = _pickled_modules(keyword.schema())
    assert modules and all(name.split(".")[0] in ("whoosh", "re", "copyreg", "builtins", "__builtin__", "_codecs")
                           for name in modules), modules


@pytest.fixture(scope="module")
def analyzer(tmp_path_factory) -> Analyzer:
    return Analyzer(["自监督学习"], str(tmp_path_factory.mktemp("jieba")))


@pytest.mark.parametrize("text", ["自监督学习 与 ResNet-50 的 self-supervised learning", "机器翻译（Machine Translation）",
                                  "", "C++ 与 ViT-B/16"])
def test_whoosh_reads_ready_made_tokens_as_the_analyzer_made_them(analyzer, text):
    for field, (terms, positions) in (("body", analyzer.index_terms(text)), ("grams", gram_terms(text))):
        read = [(t.text, t.pos) for t in keyword.schema()[field].analyzer(keyword.ready_made(terms, positions),
                                                                          positions=True)]
        assert read == list(zip(terms, positions))


def test_a_document_has_every_text_field_analysed_and_the_passage_in_its_record(analyzer):
    from corpus.model import Paper, Passage

    passage = Passage("notes/famous-papers.md", 3, 3, "论文 > 视觉", "笔记", "自监督学习 ResNet-50", tags=("cv",),
                      paper=Paper(2016, ("Kaiming He",), "Deep Residual Learning", "残差", venue="CVPR"),
                      links=("https://arxiv.org/abs/1512.03385",), date="2024-03-01")
    analysed, values = keyword.Documents(analyzer).document(passage)
    assert set(analysed) == set(keyword.TEXT_FIELDS)
    assert all(analysed[field][0] for field in keyword.TEXT_FIELDS)
    assert analysed["body"] == (*analyzer.index_terms("自监督学习 ResNet-50"), len(analyzer.index_terms("自监督学习 ResNet-50")[0]))
    assert analysed["path"][:2] == (["notes", "famous", "papers", "md"], [0, 1, 2, 3])
    # The gram field's length counts characters: the unigrams and bigrams it held before.
    grams = analysed["grams"][0]
    assert analysed["grams"][2] == sum(len(gram) for gram in grams) == 2 * len(grams) - sum(len(g) == 1 for g in grams)
    assert keyword.from_record(values["record"]) == passage
    assert (values["id"], values["file"], values["year"]) == (passage.id, passage.path, 2016)
