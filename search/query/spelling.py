"""The index's own words for a query word it does not hold: one typo away, or typed in pinyin.

    vocabulary = Vocabulary(terms, han_terms, commonness)
    vocabulary.respellings("tranformer")   # [("transformer", 1)]
    vocabulary.readings("zijiandu")         # ["自监督"]
    vocabulary.romanised("何恺明")           # "kaiming he"

Both are extra ways in, never replacements: a word the index holds is never
respelled, and the words found weigh less than a word typed right (the
query's compiler reads their weights from the plan). Typos: a Latin word of
MIN_TYPO letters or more that the index does not hold is matched against the
index's Latin words one edit away (Damerau: a letter left out, added,
replaced, or two neighbours swapped), from TWO_EDITS letters two edits; the
closest first, then the most common. Pinyin: each Chinese word of the index
is read with pypinyin's own dictionaries (its phrase readings, else each
character's first reading), without tones, so `zijiandu`, `zìjiāndū` and
`zi jian du` (the query joins a run of words) all read 自监督. Names: a
Chinese name reads as the papers' authors write it (`何恺明` as Kaiming He).

Pinyin comes from corpus/pinyin.py (the seam to pypinyin). Nothing here is keyed to a word: the words come
from the opened index.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable

from corpus.names import han_name_keys
from corpus.pinyin import LONGEST_SYLLABLE, could_be_pinyin, reading, syllable_readings, syllables, toneless
from indexer.stopwords import ENGLISH_STOP_WORDS

MIN_TYPO = 5
TWO_EDITS = 9
# The most index words one query word stands for (the closest and most common first).
MAX_RESPELLINGS = 3
# A Latin word of the index shorter than this is never offered for a typo (a 5-letter query word less one letter).
_MIN_TERM = MIN_TYPO - 1
# A word of letters, or a compound of such words joined by hyphens (`self-supervised`): what a typo is looked for in.
_SPELLED = re.compile(r"[a-z]+(?:-[a-z]+)*")


def damerau(a: str, b: str, limit: int) -> int:
    """The optimal-string-alignment distance of `a` and `b` (limit + 1 once it exceeds `limit`)."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before, row = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            current[j] = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + cost)
            if before is not None and i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        before, row = row, current
    return row[-1]


def _deletions(word: str) -> set[str]:
    """`word` with each one of its letters left out."""
    return {word[:i] + word[i + 1:] for i in range(len(word))}


class Vocabulary:
    """The words of an opened index: its Latin terms (for typos) and Chinese ones (for pinyin), read on first use.

    `latin` and `han` give the terms (called once each, when first needed);
    `commonness` ranks a term (higher: more passages hold it); `authors` gives
    the words of the papers' author names (for names written in Chinese);
    `held` every term a query word may match as typed (default: `latin`'s),
    which is never respelled; `pair` how common two characters in a row are
    (higher: more passages hold them); `name_keys` the keys of the people the
    notes name (corpus/names.py).
    """

    def __init__(self, latin: Callable[[], Iterable[str]], han: Callable[[], Iterable[str]],
                 commonness: Callable[[str], float], authors: Callable[[], Iterable[str]] = tuple,
                 held: Callable[[], Iterable[str]] | None = None, pair: Callable[[str], float] | None = None,
                 name_keys: Callable[[], Iterable[str]] = tuple):
        self._latin_source, self._han_source, self._commonness = latin, han, commonness
        self._name_keys_source = name_keys
        self._authors_source, self._held_source = authors, held or latin
        self._pair = pair or (lambda bigram: 0.0)
        self._ordered: set[str] = set()

    @functools.cached_property
    def _held(self) -> frozenset[str]:
        return frozenset(self._held_source())

    @functools.cached_property
    def _latin(self) -> frozenset[str]:
        """The terms of letters only, and compounds of them (`self-supervised`): what a typo may be respelled to."""
        return frozenset(term for term in self._latin_source() if _SPELLED.fullmatch(term))

    @functools.cached_property
    def _by_deletion(self) -> dict[str, list[str]]:
        """Each Latin term long enough for a typo, and each of its one-letter deletions → the terms."""
        out: dict[str, list[str]] = {}
        for term in self._latin:
            if len(term) >= _MIN_TERM:
                out.setdefault(term, []).append(term)
                for key in _deletions(term):
                    out.setdefault(key, []).append(term)
        return out

    @functools.cached_property
    def _by_two_deletions(self) -> dict[str, list[str]]:
        """Each Latin term of TWO_EDITS letters or more's two-letter deletions → the terms (for two typos)."""
        out: dict[str, list[str]] = {}
        for term in self._latin:
            if len(term) >= TWO_EDITS:
                for key in {shorter for once in _deletions(term) for shorter in _deletions(once)}:
                    out.setdefault(key, []).append(term)
        return out

    @functools.cached_property
    def _by_reading(self) -> dict[str, list[str]]:
        """Each toneless reading → the Chinese terms that read so (put in order when first asked for)."""
        out: dict[str, list[str]] = {}
        for term in dict.fromkeys(self._han_source()):
            spelled = reading(term)
            if spelled:
                out.setdefault(spelled, []).append(term)
        return out

    def _read_as(self, spelled: str) -> list[str]:
        """The Chinese terms that read `spelled`, the most common first."""
        terms = self._by_reading.get(spelled)
        if not terms:
            return []
        if spelled not in self._ordered:
            terms.sort(key=lambda t: (-self._commonness(t), t))
            self._ordered.add(spelled)
        return terms

    @functools.cached_property
    def _longest_reading(self) -> int:
        return max(map(len, self._by_reading), default=0)

    @functools.cached_property
    def _authors(self) -> frozenset[str]:
        return frozenset(self._authors_source())

    def romanised(self, name: str) -> str:
        """A Chinese name as the papers' authors write it, given name first (`何恺明` → `kaiming he`), when the
        authors hold the given name read in pinyin and the surname too (or the surname is a stop word, which
        the index leaves out: `he`); else "". The surname is the first character, or the first two."""
        read = syllable_readings(name)
        if not 2 <= len(name) <= 4 or not all(read):
            return ""
        for cut in (1, 2):
            surname, given = "".join(read[:cut]), "".join(read[cut:])
            if given and given in self._authors and (surname in self._authors or surname in ENGLISH_STOP_WORDS):
                return f"{given} {surname}"
        return ""

    def romanised_pinyin(self, typed: str) -> str:
        """A name typed in pinyin, run together in either order (`hekaiming`, `kaiminghe`), as the papers'
        authors write it (`kaiming he`), when they hold both parts (a surname may be a stop word); else ""."""
        typed = toneless(typed) if could_be_pinyin(typed) else ""
        for cut in range(2, len(typed) - 1):
            first, second = typed[:cut], typed[cut:]
            for surname, given in ((first, second), (second, first)):
                if given in self._authors and (surname in self._authors or surname in ENGLISH_STOP_WORDS) \
                        and surname in syllables():
                    return f"{given} {surname}"
        return ""

    def written_name(self, first: str, second: str) -> list[str]:
        """The index's Chinese words that write a name romanised in two words, in either order (`Kaiming He`,
        `He Kaiming` → 何恺明): each reads as the surname (its first character, or first two) and then the given
        name; at most MAX_RESPELLINGS, the most common first. Whether such a word is a name is the caller's
        question (jieba's dictionary lists most other words)."""
        first, second = first.replace("-", ""), second.replace("-", "")  # `Fei-Fei Li`
        if not (could_be_pinyin(first) and could_be_pinyin(second)):
            return []
        first, second = toneless(first), toneless(second)
        out: list[str] = []
        for surname, given in ((second, first), (first, second)):
            for term in self._read_as(surname + given):
                read = syllable_readings(term)
                if 2 <= len(term) <= 4 and any("".join(read[:cut]) == surname and "".join(read[cut:]) == given
                                               for cut in (1, 2)) and term not in out:
                    out.append(term)
        return out[:MAX_RESPELLINGS]

    @functools.cached_property
    def _by_name_key(self) -> dict[str, list[str]]:
        """Each name key (corpus/names.py: surname and initial) → the index's Chinese words that may write it."""
        out: dict[str, list[str]] = {}
        for term in dict.fromkeys(self._han_source()):
            for name_key in han_name_keys(term):
                out.setdefault(name_key, []).append(term)
        return out

    @functools.cached_property
    def _name_keys(self) -> frozenset[str]:
        return frozenset(self._name_keys_source())

    def names(self, name_key: str) -> bool:
        """Whether the notes name someone of this key (`he_k`: an author or a name in a text)."""
        return name_key in self._name_keys

    def written_initials(self, name_key: str) -> list[str]:
        """The index's Chinese words that may write the name of a key (`he_k`, typed `K. He` → 何恺明), the most
        common first; at most MAX_RESPELLINGS. Whether such a word is a name is the caller's question."""
        terms = self._by_name_key.get(name_key, [])
        return sorted(terms, key=lambda t: (-self._commonness(t), t))[:MAX_RESPELLINGS]

    @staticmethod
    def is_syllable(typed: str) -> bool:
        """Whether `typed` is one pinyin syllable (tones aside)."""
        return could_be_pinyin(typed) and toneless(typed) in syllables()

    def holds(self, term: str) -> bool:
        """Whether the index holds this term (not in Chinese characters: a word, a compound, a number)."""
        return term in self._held or term in self._latin

    def commonness(self, term: str) -> float:
        """How common an index term is (higher: more passages hold it; a difference of 1 is a factor of about e)."""
        return self._commonness(term)

    def respellings(self, word: str) -> list[tuple[str, int]]:
        """The index's Latin words (with their distance) that `word` may be a typo of, closest and most common
        first; none for a word the index holds, or shorter than MIN_TYPO, or not Latin letters (a compound of
        them joined by hyphens is respelled whole: `self-dupervised` → `self-supervised`)."""
        if len(word) < MIN_TYPO or not _SPELLED.fullmatch(word) or self.holds(word):
            return []
        limit = 2 if len(word) >= TWO_EDITS else 1
        keys = {word} | _deletions(word)
        if limit == 2:
            keys |= {shorter for key in _deletions(word) for shorter in _deletions(key)}
        found = {term for key in keys for term in self._by_deletion.get(key, ())}
        if limit == 2:
            found |= {term for key in keys for term in self._by_two_deletions.get(key, ())}
        scored = [(term, damerau(word, term, limit)) for term in found]
        # Letters added or dropped at one end of a word make another word (`supervised`, `unsupervised`), not a typo.
        scored = [(term, distance) for term, distance in scored
                  if distance <= limit and not (distance > 1 and (word in term or term in word))]
        scored.sort(key=lambda found: (found[1], -self._commonness(found[0]), found[0]))
        return scored[:MAX_RESPELLINGS]

    def readings(self, typed: str, gaps: bool = True) -> list[str]:
        """The index's Chinese words that read as `typed` in pinyin, the most common first (at most
        MAX_RESPELLINGS); none when `typed` is not pinyin-like or spells nothing.

        Typed words run together (`zijiandu`) read as the fewest index words
        whose readings spell them in a row: as one text when they spell all of
        it (自监督, when the index cuts it 自 + 监督), else (with `gaps`) the words
        of two characters or more among the syllables that spell no index word;
        never single characters alone (English words spell them: `more`, `due`).
        """
        if not could_be_pinyin(typed):
            return []
        typed = toneless(typed)
        whole = [term for term in self._read_as(typed) if len(term) > 1]
        if whole:
            return whole[:MAX_RESPELLINGS]
        pieces = self._spelled_by(typed)
        # Syllables read as single characters only are no word (`more` is not 莫热, `due` not 度饿).
        if pieces is None or len(pieces) < 2 or not any(len(piece) > 1 for piece in pieces):
            return []
        if all(pieces):
            return ["".join(pieces)]
        if not gaps:
            return []
        return list(dict.fromkeys(piece for piece in pieces if len(piece) > 1))[:MAX_RESPELLINGS]

    def _spelled_by(self, typed: str) -> list[str] | None:
        """The index words (the fewest, then the most common) whose readings in a row are `typed`, "" for a
        syllable that reads as no index word (each costs more than a word); None when `typed` is not syllables."""
        known = syllables()
        longest = max(self._longest_reading, LONGEST_SYLLABLE)
        best: list[tuple[float, float, list[str]] | None] = [(0, 0.0, [])] + [None] * len(typed)
        for end in range(1, len(typed) + 1):
            for start in range(max(0, end - longest), end):
                before = best[start]
                if before is None:
                    continue
                piece = typed[start:end]
                terms = self._read_as(piece)
                if terms:
                    candidate = (before[0] + 1, before[1] - self._commonness(terms[0]), [*before[2], piece])
                elif piece in known:
                    candidate = (before[0] + GAP_COST, before[1], [*before[2], ""])
                else:
                    continue
                if best[end] is None or candidate[:2] < best[end][:2]:
                    best[end] = candidate
        return self._chosen(best[-1][2]) if best[-1] is not None else None

    def _chosen(self, spelled: list[str]) -> list[str]:
        """The index word for each reading in a row ("" for none): the most common, unless another that reads
        so meets the word before it in a bigram the notes hold (子监督 or 自监督: the notes write 自监)."""
        options = [self._read_as(piece)[:MAX_RESPELLINGS] if piece else [] for piece in spelled]
        out: list[str] = []
        for n, terms in enumerate(options):
            previous = out[-1] if out else ""
            following = options[n + 1][0] if n + 1 < len(options) and options[n + 1] else ""
            if len(terms) > 1 and (previous or following):
                terms = sorted(terms, key=lambda t: -((self._pair(previous[-1] + t[0]) if previous else 0.0)
                                                      + (self._pair(t[-1] + following[0]) if following else 0.0)))
            out.append(terms[0] if terms else "")
        return out


# A syllable that spells no index word costs this many words (so words are preferred, and few syllables left).
GAP_COST = 2
