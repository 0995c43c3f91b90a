"""The people a query names, as the index's name keys (corpus/names.py) and the Chinese words that write them.

    named = typed_names(free, analysed, vocabulary, part_of_speech)

A Chinese name (`何恺明`, a word jieba's dictionary lists as a name or not at
all) searches the keys of its readings (`he_k`): the papers whose authors are
listed as `Kaiming He`, `K. He` or `He, K.`, and the notes whose text writes
them so. A name typed as an initial and a surname, in either order (`K. He`,
`He K.`), searches its key, and the index's Chinese words that may write it
(何恺明: the surname's reading, then a given name of that initial); a name
typed in two capitalised words (`Kaiming He`) its keys. All are extra ways in
beside the words as typed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from corpus.names import full_name_keys, han_name_keys, initials_key, is_initial, shown
from corpus.text import HAN_RUN
from search.query.spelling import Vocabulary

# What a name key, or a Chinese word that writes the name, weighs beside a word typed right.
NAME_KEY_WEIGHT = 1.0
# jieba's part of speech of a name; a word its dictionary lists as anything else is no name.
_NAME_TAGS = ("", "nr")

Weighed = dict[int, tuple[tuple[str, float], ...]]


@dataclass(frozen=True)
class TypedNames:
    """The people a query's free words name: `keys` maps a free word to the name keys it searches (the names
    field), `written` to the index's Chinese words a name typed with an initial may be written as (searched as
    a respelling is), each with its weight; `initials` are the free words that are a found name's initial
    (`K.`), which search as the name alone, never as a letter; `said` says what was read so."""

    keys: Weighed = field(default_factory=dict)
    written: Weighed = field(default_factory=dict)
    initials: frozenset[int] = frozenset()
    said: tuple[str, ...] = ()


def typed_names(free: Sequence[str], analysed: Sequence, vocabulary: Vocabulary,
                part_of_speech: Callable[[str], str]) -> TypedNames:
    """The names the free words of a query write (see TypedNames). A name of two words searches as its first
    word, or its initial; the other word searches as typed (`Hinton`)."""
    keys: Weighed = {}
    written: Weighed = {}
    initials: set[int] = set()
    said: list[str] = []
    taken: set[int] = set()
    for n in range(len(free) - 1):
        if n in taken or n + 1 in taken:
            continue
        name_key = initials_key(free[n], free[n + 1])
        if not name_key:
            # A full name (`Kaiming He`) finds it written with an initial (`K. He`); its Chinese writing is a
            # respelling's (search/query/plan.py respell).
            found = [name_key for name_key in full_name_keys(free[n], free[n + 1]) if vocabulary.names(name_key)]
            if found:
                keys[n] = tuple((name_key, NAME_KEY_WEIGHT) for name_key in found)
                taken.update((n, n + 1))
            continue
        initial = n if is_initial(free[n]) else n + 1
        words = [term for term in vocabulary.written_initials(name_key) if part_of_speech(term) in _NAME_TAGS]
        if words:
            written[initial] = tuple((term, NAME_KEY_WEIGHT) for term in words)
        if vocabulary.names(name_key):
            keys[initial] = ((name_key, NAME_KEY_WEIGHT),)
        if words or initial in keys:
            initials.add(initial)
            taken.update((n, n + 1))
            said.append(f"{free[n]} {free[n + 1]} → {' / '.join((*words, *[shown(name_key)] * (initial in keys)))}")
    for n, analysis in enumerate(analysed):
        if n in taken:
            continue
        found = sorted({name_key for token in analysis.tokens
                        if not token.part and HAN_RUN.fullmatch(token.text) and part_of_speech(token.text) in _NAME_TAGS
                        for name_key in han_name_keys(token.text) if vocabulary.names(name_key)})
        if found:
            keys[n] = tuple((name_key, NAME_KEY_WEIGHT) for name_key in found)
            said.append(f"{free[n]} → {' / '.join(shown(name_key) for name_key in found)}")
    return TypedNames(keys, written, frozenset(initials), tuple(said))


def merged(first: Mapping[int, tuple], second: Mapping[int, tuple]) -> dict[int, tuple]:
    """Two mappings of free words to weighed terms as one (the first's terms first)."""
    out = dict(first)
    for n, terms in second.items():
        out[n] = (*out.get(n, ()), *terms)
    return out
