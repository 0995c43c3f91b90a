"""YAML front matter: the `---` block that opens a note, read safely.

A note folder is untrusted input, and YAML can be made to explode: a 349-byte
header of nested aliases (`b: &b [*a, *a, …]`) expands to hundreds of millions
of characters. So aliases are refused, the header is capped at
MAX_FRONT_MATTER_BYTES, and any header that cannot be read is skipped with a
reason — its lines are never read as body, and the body is still indexed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

MAX_FRONT_MATTER_BYTES = 64 * 1024
# Fields that are shown in every passage of the note: bounded, so a header cannot multiply the index.
MAX_TITLE_CHARS = 300
MAX_TAGS = 100
MAX_TAG_CHARS = 100
# What a YAML loader may raise on hostile input besides YAMLError: an integer of more than 4,300
# digits (ValueError), a float overflow, a structure nested past the recursion limit.
_SURROGATE = re.compile("[\ud800-\udfff]")
_LOAD_ERRORS = (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError)


@dataclass(frozen=True)
class FrontMatter:
    """The metadata of a note's header, where its body starts (1-based), and why a header was skipped."""

    meta: dict = field(default_factory=dict)
    body_line: int = 1
    problem: str = ""


class _NoAliasLoader(yaml.SafeLoader):
    """A SafeLoader that refuses anchors and aliases (their expansion is what a YAML bomb exploits)."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "YAML aliases are not allowed",
                                              event.start_mark)
        return super().compose_node(parent, index)


# Dates stay text as written: `date: 2024-13-45` would raise in the timestamp constructor and lose the header.
_NoAliasLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def read_front_matter(lines: list[str]) -> FrontMatter:
    """The front matter of a note given as lines: a `---` line, YAML, then a `---` or `...` line.

    A block whose YAML is not a mapping is no header (a thematic break, say):
    its lines stay body. A header that is too large or cannot be read is
    skipped, with a `problem` saying why.
    """
    if not lines or lines[0].strip() != "---":
        return FrontMatter()
    size = 0
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            break
        size += len(lines[i]) + 1
    else:
        return FrontMatter()
    if size > MAX_FRONT_MATTER_BYTES:
        return FrontMatter(body_line=i + 2, problem=f"front matter over {MAX_FRONT_MATTER_BYTES // 1024} KB "
                                                    "not read")
    try:
        loaded = yaml.load("\n".join(lines[1:i]), Loader=_NoAliasLoader)
    except _LOAD_ERRORS as error:
        return FrontMatter(body_line=i + 2, problem=f"front matter not read ({_reason(error)})")
    if not isinstance(loaded, dict):
        return FrontMatter()
    return FrontMatter(loaded, i + 2)


def _reason(error: Exception) -> str:
    """The first line of a YAML error, or the kind of error."""
    if isinstance(error, RecursionError):
        return "nested too deeply"
    if isinstance(error, yaml.MarkedYAMLError) and error.problem:
        line = f", line {error.problem_mark.line + 2}" if error.problem_mark else ""
        return f"{error.problem}{line}"
    return str(error).split("\n")[0] or type(error).__name__


def text_of(value: object) -> str:
    """A front matter value (a title, a date) as text, at most MAX_TITLE_CHARS long."""
    return "" if value is None else _valid(str(value).strip()[:MAX_TITLE_CHARS].strip())


def tags_of(value: object) -> tuple[str, ...]:
    """Front matter tags (`[a, b]` or `a, b`) as text, at most MAX_TAGS of MAX_TAG_CHARS each."""
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    if not isinstance(value, list):
        return ()
    tags = (_valid(str(tag).strip()[:MAX_TAG_CHARS]) for tag in value[:MAX_TAGS])
    return tuple(tag for tag in tags if tag)


def _valid(text: str) -> str:
    """`text` without lone surrogates (YAML's `"\\udcff"` makes one), which no index or terminal accepts."""
    return _SURROGATE.sub("\ufffd", text)
