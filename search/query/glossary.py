"""The notes' own glossary: which terms a run of query words stands for, in the other language.

The notes translate their terms in parentheses (`长短期记忆（LSTM）`,
`Scaling Laws（缩放定律）`; indexer/dictionary.py learns the pairs). A query
in one language then finds the notes' term in the other: `self-supervised
learning` spells SSL, the acronym the notes give 自监督学习.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from corpus import script
from indexer.dictionary import is_english_name
from indexer.stopwords import ENGLISH_STOP_WORDS

# Only an acronym of this many letters is matched by initials (two letters match too many word pairs).
MIN_INITIALS = 3
MAX_INITIALS = 8
# The most query words one glossary term can stand for.
MAX_RUN = 10
# An English compound is read as two words for its initials when it starts with one of these and
# MIN_COMPOUND_REST more letters: `autoencoder` → auto + encoder. (Not `pre`, `sub`, `super`, `under`…:
# too many plain words start with them — `prediction`, `supervised`, `understand`.)
COMPOUND_PREFIXES = ("auto", "back", "cross", "feed", "hyper", "meta", "multi", "self", "semi")
MIN_COMPOUND_REST = 4
# What ends a question or a sentence, in either script.
_CLOSING = re.compile(r"[.?!:;,。？！：；，]+$")


class Glossary:
    """The notes' own translations (`长短期记忆` ↔ `LSTM`), looked up from either side.

    An English name is found by its words (`diffusion models`) or, for an
    acronym, by the initials of the query's words: `self-supervised learning`
    spells SSL, the acronym the notes give `自监督学习`, and `variational
    autoencoder` spells VAE (`变分自编码器`), the compound counting as two words.
    """

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()):
        self.by_english: dict[tuple[str, ...], set[str]] = {}
        self.by_initials: dict[str, set[str]] = {}
        self.by_chinese: dict[str, set[str]] = {}
        for english, chinese in pairs:
            words = tuple(_english_words(english))
            if not words or not is_english_name(english):  # an index built before names were checked
                continue
            chinese = script.folded(chinese)  # a term is looked up as the text is read (corpus/script.py)
            self.by_english.setdefault(words, set()).update((chinese, english))
            self.by_chinese.setdefault(chinese, set()).add(english)
            capitals = "".join(ch for ch in english if ch.isupper()).lower()
            if len(words) == 1 and len(capitals) >= MIN_INITIALS:
                self.by_initials.setdefault(capitals, set()).update((chinese, english))

    def expansions(self, words: Sequence[str]) -> dict[int, list[tuple[str, int]]]:
        """For each query word, the glossary terms it stands for, with how many query words share each.

        A run of words stands for a term when the run is the term's English
        name, or when its initials spell the term's acronym; a single Chinese
        word stands for the English names of its term.
        """
        out: dict[int, list[tuple[str, int]]] = {}
        # The query's closing punctuation is not part of its last word (`what is knowledge distillation?`).
        words = [*words[:-1], _CLOSING.sub("", words[-1])] if words else []
        folded = [tuple(_english_words(word)) for word in words]
        for i in range(len(words)):
            chinese = self.by_chinese.get(script.folded(words[i]))
            if chinese:
                out.setdefault(i, []).extend((term, 1) for term in sorted(chinese))
            spelled = {""}
            for j in range(i, min(len(words), i + MAX_RUN)):
                if not folded[j]:
                    break
                run = tuple(part for parts in folded[i:j + 1] for part in parts)
                # Initials run over content words only (`mixture of experts` is found by its name, never by ME).
                stop = j > i and all(part in ENGLISH_STOP_WORDS for part in folded[j])
                spelled = set() if stop else {a + b for a in spelled for b in _initials(folded[j])
                                              if len(a + b) <= MAX_INITIALS}
                found = set(self.by_english.get(run, ()))
                for letters in spelled:
                    found |= self.by_initials.get(letters, set())
                typed = " ".join(words[i:j + 1]).lower()
                found = {term for term in found if term.lower() != typed}
                for n in range(i, j + 1):
                    out.setdefault(n, []).extend((term, j - i + 1) for term in sorted(found))
        return {n: list(dict.fromkeys(terms)) for n, terms in out.items() if terms}


def _initials(parts: Sequence[str]) -> set[str]:
    """The ways one query word's parts can be abbreviated: each part but a stop word gives its initial,
    a compound its two or one (`autoencoder` → AE or A)."""
    spelled = {""}
    for part in parts:
        if part in ENGLISH_STOP_WORDS:
            continue
        choices = {part[0]}
        for prefix in COMPOUND_PREFIXES:
            if part.startswith(prefix) and len(part) - len(prefix) >= MIN_COMPOUND_REST:
                choices.add(part[0] + part[len(prefix)])
        spelled = {a + b for a in spelled for b in choices if len(a + b) <= MAX_INITIALS}
    return spelled


def _english_words(text: str) -> list[str]:
    """Lower-cased Latin words and their hyphen parts: `Short-Term Memory` → short, term, memory."""
    return re.findall(r"[a-z0-9]+", text.lower()) if re.fullmatch(r"[A-Za-z0-9 .+/-]+", text) else []
