"""jieba's dictionary by first character: it answers as the whole dict does, and a search's segmenter
cuts the notes into the same words with it, learned words included."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import corpus
from indexer.analysis import Analyzer
from indexer.by_char import BY_CHAR_CACHE, ByCharDictionary, read_by_char, write_by_char
from indexer.dictionary import learn_words

ROOT = Path(__file__).resolve().parents[2]

texts = st.text(alphabet="一二三中文AB", min_size=1, max_size=4)
operations = st.lists(st.tuples(st.sampled_from(["read", "add"]), texts, st.integers(0, 9)), max_size=30)


def by_char(freq: dict[str, int], total: int, path: Path) -> tuple[ByCharDictionary, int]:
    with open(path, "wb") as f:
        write_by_char(f, freq, total)
    return read_by_char(str(path))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(texts, st.integers(0, 99), max_size=30), st.integers(0, 10**9), operations)
def test_after_reading_a_text_every_fragment_of_it_is_found_as_in_the_whole_dict(tmp_path_factory, freq, total,
                                                                                  steps):
    found, found_total = by_char(freq, total, tmp_path_factory.mktemp("by_char") / BY_CHAR_CACHE)
    assert found_total == total
    whole = dict(freq)
    seen: list[str] = []
    for op, text, count in steps:
        words = found.read(text)
        assert words is found.words
        seen.append(text)
        if op == "add":  # jieba's add_word: a learned word, then its prefixes at 0 when missing
            for wanted in (whole, words):
                wanted[text] = count
                for end in range(1, len(text)):
                    wanted.setdefault(text[:end], 0)
        for read in seen:
            for fragment in {read[i:j] for i in range(len(read)) for j in range(i + 1, len(read) + 1)}:
                assert (fragment in words, words.get(fragment)) == (fragment in whole, whole.get(fragment))


@pytest.mark.parametrize("damage", [b"", b"not a dictionary", None])
def test_a_damaged_file_is_refused(tmp_path, damage):
    path = tmp_path / BY_CHAR_CACHE
    if damage is None:  # the right start, cut short
        buffer = io.BytesIO()
        write_by_char(buffer, {"中文": 3}, 3)
        damage = buffer.getvalue()[:45]
    path.write_bytes(damage)
    with pytest.raises(ValueError):
        read_by_char(str(path))


# A fresh process: one that has loaded the whole dictionary (to index) reads no second copy by character.
CHILD = """
import json, sys
from indexer.analysis import Analyzer
from indexer.by_char import ByCharDictionary
words, cache_dir, texts = json.loads(sys.stdin.read())
analyzer = Analyzer(words, cache_dir, by_char=True)
tokens = [[tuple(t.__dict__.values()) for t in analyzer.tokens(text)] for text in texts]
print(json.dumps({"by_char": isinstance(analyzer.segmenter._reader, ByCharDictionary), "tokens": tokens,
                  "total": analyzer.segmenter.frequency("的")[1]}))
"""


@pytest.mark.slow
def test_a_search_cuts_the_notes_as_indexing_does(tmp_path):
    notes = [path.read_text(encoding="utf-8") for path in sorted(corpus.BUNDLED_NOTES.glob("*.md"))]
    learned = sorted({word for text in notes for word in learn_words(text)})
    assert len(learned) > 20
    texts = [line for text in notes for line in text.splitlines() if line.strip()]
    whole = Analyzer(learned, str(tmp_path))
    expected = [[list(t.__dict__.values()) for t in whole.tokens(text)] for text in texts]
    assert sorted(p.name for p in tmp_path.iterdir()) == [BY_CHAR_CACHE, "jieba.cache"]  # both written
    child = subprocess.run([sys.executable, "-c", CHILD], input=json.dumps([learned, str(tmp_path), texts]),
                           cwd=ROOT, capture_output=True, text=True, check=False)
    assert child.returncode == 0, child.stderr
    answer = json.loads(child.stdout)
    assert answer["by_char"]
    assert answer["tokens"] == expected
    assert answer["total"] == whole.segmenter.frequency("的")[1]  # learned words counted the same
