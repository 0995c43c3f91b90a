"""Domain words learned from the notes, given to jieba so they stay whole.

Notes mark their terms in two ways, and both are learned:

- bold: `**扩散模型（Diffusion Models）**`, `**掩码图像建模**` — the Chinese head
  of the span (2 to 8 characters, no function words);
- a Chinese name followed by its English name or acronym in parentheses:
  `这篇论文提出了长短期记忆（LSTM）架构` — the words just before the parenthesis,
  back to the nearest function word or verb of introduction (`提出`, `采用`…).
  A citation (`（Olah 2017）`), a figure's panel label (`（a）`) or a sentence
  in parentheses is no name, and teaches no word.

So `扩散模型` or `长短期记忆` is one token in notes and queries alike.

The same parentheses give a glossary (`learn_glossary`): each Chinese term with
the English name or acronym the note gives it — `长短期记忆` ↔ `LSTM`,
`Scaling Laws` ↔ `缩放定律` — which lets a query in one language find the
notes' term in the other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from corpus.text import HAN
from indexer.segmenter import segmenter
from indexer.stopwords import CHINESE_STOP_WORDS, ENGLISH_STOP_WORDS

MAX_WORD = 8
_BOLD = re.compile(r"\*\*([^*\n]{2,60}?)\\?\*\*")
_HEAD = re.compile(rf"^[{HAN}]{{2,{MAX_WORD}}}(?=$|[（(\s])")
_NAMED = re.compile(rf"([{HAN}]{{2,40}})\s?[（(]\s?[A-Za-z][A-Za-z0-9 .+/-]{{0,60}}[）)]")
# `Scaling Laws（缩放定律）`: up to MAX_NAME_WORDS English words, then their Chinese name in parentheses.
MAX_NAME_WORDS = 5
_ENGLISH_NAMED = re.compile(
    rf"(?<![A-Za-z0-9+/-])((?:[A-Za-z][A-Za-z0-9+/-]*[ ]){{0,{MAX_NAME_WORDS - 1}}}[A-Za-z][A-Za-z0-9+/-]*)"
    rf"\s?[（(]([{HAN}]{{2,{MAX_WORD}}})[）)]")
_FUNCTION_CHARS = frozenset(word for word in CHINESE_STOP_WORDS if len(word) == 1)
# Words that introduce a term rather than belong to it: `提出了X（…）`, `称为X（…）`.
_INTRODUCERS = frozenset(
    """提出 采用 使用 利用 引入 设计 称为 称作 叫做 即 如 例如 比如 包括 基于 借助 结合 一种 这种
    名为 被称为 所谓 以及 等等 发现 证明 表明 介绍 展示 构建 训练 研究 发明""".split()  # noqa: SIM905
)


def learn_words(text: str) -> list[str]:
    """The domain words marked in one note's markdown, in order of first use."""
    words: dict[str, None] = {}
    for match in _BOLD.finditer(text):
        head = _HEAD.match(match.group(1).strip())
        if head and not (_FUNCTION_CHARS & set(head.group())):
            words.setdefault(head.group())
    for match in _NAMED.finditer(text):
        name = _named_term(match.group(1))
        if name and _english_name(match.group()[len(match.group(1)):]):
            words.setdefault(name)
    return list(words)


def learn_glossary(text: str) -> list[tuple[str, str]]:
    """(English, Chinese) pairs a note defines: `中文术语（English name or ACRONYM）` or `English（中文）`."""
    pairs: dict[tuple[str, str], None] = {}
    for match in _NAMED.finditer(text):
        name = _named_term(match.group(1))
        english = _english_name(match.group()[len(match.group(1)):])
        if name and english:
            pairs.setdefault((english, name))
    for match in _ENGLISH_NAMED.finditer(text):
        english, chinese = _english_name(match.group(1)), match.group(2)
        if english and not (_FUNCTION_CHARS & set(chinese)):
            pairs.setdefault((english, chinese))
    return list(pairs)


def _english_name(parenthesis: str) -> str | None:
    """The English inside `（Long Short-Term Memory）`, or None when it is not a name (e.g. a sentence)."""
    inner = " ".join(parenthesis.strip().strip("（()）").split())
    words = inner.split()
    if not 1 <= len(words) <= MAX_NAME_WORDS or not inner[:1].isalpha() or any(w.isdigit() for w in words):
        return None  # too long for a name, or a citation (`Olah 2017`)
    return inner if is_english_name(inner) else None


def is_english_name(text: str) -> bool:
    """Whether `text` can name a term: two letters or more, not only stop words. A figure's panel label
    (`如下图（a）所示`) or a stray `(the)` names nothing, and as a glossary entry the query word `a` would
    stand for `细节分别如下图`."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    return sum(ch.isalpha() for ch in text) >= 2 and any(word not in ENGLISH_STOP_WORDS for word in words)


def _named_term(run: str) -> str | None:
    """The term at the end of a run of Chinese text, when it is more than one jieba word."""
    taken: list[str] = []
    for word in reversed(segmenter().words(run)):
        if word in CHINESE_STOP_WORDS or word in _INTRODUCERS or sum(map(len, taken)) + len(word) > MAX_WORD:
            break
        taken.insert(0, word)
    term = "".join(taken)
    return term if len(taken) > 1 and len(term) >= 3 else None


def merge_glossaries(glossaries: Iterable[Iterable[tuple[str, str]]]) -> tuple[tuple[str, str], ...]:
    """One sorted glossary from many."""
    return tuple(sorted({tuple(pair) for glossary in glossaries for pair in glossary}))


def merge(word_lists: Iterable[Iterable[str]]) -> tuple[str, ...]:
    """One sorted word list from many (sorted so the same notes give the same dictionary)."""
    return tuple(sorted({word for words in word_lists for word in words}))
