"""A note file's bytes → its text: UTF-8, UTF-16 (with or without BOM), GB18030 or Latin-1.

A note that is nearly all valid UTF-8 (one stray byte, a file cut in the
middle of a character by a sync tool) is still that note: it is decoded with
U+FFFD in place of the bad bytes, and a warning says so, rather than being
dropped as binary.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from corpus.text import CHINESE_TEXT_CHAR

# Decoded as UTF-8 with replacement when it has more valid non-ASCII characters than invalid bytes: a GB18030 or
# Latin-1 file read as UTF-8 has far fewer (their bytes rarely form valid sequences: about one GB18030 character
# in twelve), while a short Chinese note with one stray byte has a few valid characters to its one bad byte.
# What is looked at to tell text from binary.
SAMPLE_BYTES = 8192
_CUT = "the file ends in the middle of a character (shown as \ufffd)"
# An invalid byte as decoded with surrogateescape, and any other non-ASCII character.
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")
_VALID_NON_ASCII = re.compile("[^\x00-\x7f\udc80-\udcff]")


@dataclass(frozen=True)
class Decoded:
    """The text of a note file, and what was wrong with its bytes (empty when nothing was)."""

    text: str
    encoding: str
    warnings: tuple[str, ...] = ()


def decode(data: bytes) -> Decoded:
    """The text of a note in UTF-8 (with or without BOM), UTF-16 (with or without BOM), GB18030 or Latin-1.

    Raises ValueError for binary data.
    """
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                          (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return Decoded(data.decode(encoding), encoding)
            except UnicodeDecodeError as error:
                raise ValueError(f"invalid {encoding} text") from error
    utf16 = _utf16_without_bom(data)
    if utf16 is not None:
        return utf16
    if b"\x00" in data[:SAMPLE_BYTES]:
        raise ValueError("binary file (NUL bytes)")
    utf8 = _utf8(data)
    if utf8 is not None:
        return utf8
    try:
        text = data.decode("gb18030")
        if _mostly_han(text):
            return Decoded(text, "gb18030")
    except UnicodeDecodeError:
        pass
    text = data.decode("latin-1")
    if not _looks_like_text(text):
        raise ValueError("binary file (not text in any known encoding)")
    return Decoded(text, "latin-1")


def _utf8(data: bytes) -> Decoded | None:
    """The text as UTF-8 when it is, or nearly is (then with a warning); None when it is another encoding."""
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError as error:
        first_error = error
    escaped = data.decode("utf-8", errors="surrogateescape")
    valid = len(_VALID_NON_ASCII.findall(escaped))
    if first_error.reason == "unexpected end of data" and valid:
        # All is valid UTF-8, with characters beyond ASCII, up to an incomplete last character:
        # the file was cut in the middle of it (a Latin-1 file ending in `é` has no valid one before).
        return Decoded(data[:first_error.start].decode("utf-8") + "\ufffd", "utf-8", (_CUT,))
    invalid = len(_ESCAPED_BYTE.findall(escaped))
    if valid <= invalid:
        return None
    plural = "s are" if invalid > 1 else " is"
    return Decoded(data.decode("utf-8", errors="replace"), "utf-8",
                   (f"{invalid} byte{plural} not valid UTF-8 (shown as \ufffd)",))


def _utf16_without_bom(data: bytes) -> Decoded | None:
    """UTF-16 text without a byte order mark, told by its NUL bytes: the high byte of every ASCII character.

    Text in UTF-16 has them all at odd offsets (little endian) or all at even
    ones (big endian); binary data has NULs at both.
    """
    sample = data[:SAMPLE_BYTES]
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if max(even, odd) < 2 or min(even, odd) * 4 > max(even, odd):
        return None
    encoding = "utf-16-le" if odd > even else "utf-16-be"
    body = data[:len(data) // 2 * 2]
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError:
        return None
    if not _looks_like_text(text):
        return None
    if len(body) < len(data):
        return Decoded(text + "\ufffd", encoding, (_CUT,))
    return Decoded(text, encoding)


def _looks_like_text(text: str) -> bool:
    """Whether nearly every character of the start of `text` is printable (or a tab or line break)."""
    sample = text[:SAMPLE_BYTES]
    return sum(ch.isprintable() or ch in "\t\r\n" for ch in sample) >= 0.95 * len(sample)


def _mostly_han(text: str) -> bool:
    """Whether the non-ASCII characters of a GB18030 reading are Chinese (else it was another encoding)."""
    wide = [ch for ch in text[:20000] if ord(ch) > 127]
    return not wide or sum(bool(CHINESE_TEXT_CHAR.match(ch)) for ch in wide) >= 0.9 * len(wide)
