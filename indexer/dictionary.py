"""Domain words learned from the notes, given to jieba so they stay whole.

A note marks its terms: `**扩散模型（Diffusion Models）**`, `**掩码图像建模**`.
The Chinese head of each bold span (2 to 8 characters, no function words)
becomes a dictionary word, so `扩散模型` is one token in notes and queries alike.
"""

from __future__ import annotations

import re
from typing import Iterable

from indexer.analysis import HAN
from indexer.stopwords import CHINESE_STOP_WORDS

_BOLD = re.compile(r"\*\*([^*\n]{2,60}?)\\?\*\*")
_HEAD = re.compile(rf"^[{HAN}]{{2,8}}(?=$|[（(\s])")
_FUNCTION_CHARS = frozenset(word for word in CHINESE_STOP_WORDS if len(word) == 1)


def learn_words(text: str) -> list[str]:
    """The domain words marked in one note's markdown, in order of first use."""
    words: dict[str, None] = {}
    for match in _BOLD.finditer(text):
        head = _HEAD.match(match.group(1).strip())
        if head and not (_FUNCTION_CHARS & set(head.group())):
            words.setdefault(head.group())
    return list(words)


def merge(word_lists: Iterable[Iterable[str]]) -> tuple[str, ...]:
    """One sorted word list from many (sorted so the same notes give the same dictionary)."""
    return tuple(sorted({word for words in word_lists for word in words}))
