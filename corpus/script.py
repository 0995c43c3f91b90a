"""Chinese script and invisible characters folded, so that a note and a query match whichever way each is typed.

Traditional characters read as Simplified (`自監督` as `自监督`) through
OpenCC's own tables (the `opencc` package, its t2s conversion: phrases first,
then characters); zero-width characters and the soft hyphen read as nothing
(`掩\u200b码` as `掩码`, as pasted from the web). Both fold text for matching
only: what a note shows is never changed. The conversion keeps every
character in its place (one character for one), so offsets into the folded
text are offsets into the original: where OpenCC's phrase tables would change
a text's length, each character is converted alone instead.

This module is the one seam to OpenCC.
"""

from __future__ import annotations

import functools
import re

# Characters that are not seen: soft hyphen, Mongolian vowel separator, zero-width space, non-joiner and joiner,
# word joiner, and the byte-order mark used as a zero-width no-break space.
INVISIBLE = "\u00ad\u180e\u200b\u200c\u200d\u2060\ufeff"
INVISIBLE_CHAR = re.compile(f"[{INVISIBLE}]")
# The blocks of Chinese characters OpenCC converts (CJK extension A, the unified ideographs, compatibility ones).
_BLOCKS = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))
_HAN_CHAR = re.compile("[" + "".join(f"{chr(start)}-{chr(end)}" for start, end in _BLOCKS) + "]")
_DROP_INVISIBLE = {ord(ch): None for ch in INVISIBLE}


@functools.lru_cache(maxsize=1)
def _converter():
    import opencc

    return opencc.OpenCC("t2s")


@functools.lru_cache(maxsize=1)
def _by_character() -> dict[int, str]:
    """Each Chinese character OpenCC converts alone → its Simplified form (one character each)."""
    chars = [chr(code) for start, end in _BLOCKS for code in range(start, end + 1)]
    converted = _converter().convert("\n".join(chars)).split("\n")
    return {ord(a): b for a, b in zip(chars, converted, strict=True) if a != b and len(b) == 1}


@functools.lru_cache(maxsize=1)
def _traditional_char() -> re.Pattern[str]:
    """A character that OpenCC converts alone: a text without one is left as it is (most text, and fast)."""
    return re.compile("[" + "".join(sorted(re.escape(chr(code)) for code in _by_character())) + "]")


def simplified(text: str) -> str:
    """`text` with Traditional characters as Simplified ones, each character in its place (same length)."""
    if not _HAN_CHAR.search(text) or not _traditional_char().search(text):
        return text
    converted = _converter().convert(text)
    if len(converted) == len(text):
        return converted
    return text.translate(_by_character())


def visible(text: str) -> str:
    """`text` without its invisible characters (zero-width ones, the soft hyphen)."""
    return text.translate(_DROP_INVISIBLE) if INVISIBLE_CHAR.search(text) else text


def folded(text: str) -> str:
    """`text` as matching reads it: invisible characters dropped, Traditional characters as Simplified."""
    return simplified(visible(text))
