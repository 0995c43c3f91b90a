"""notesearch command line: index, search, serve, related, eval, stats.

Each command is a thin shell over one library call; this file parses
arguments, reads the environment once, and renders results.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import corpus
from search.answers import display_path, related_data, report_data, result_data

if TYPE_CHECKING:
    from search.evaluation import Report
    from search.related import RelatedResult

# The search stage (whoosh, numpy, jieba, the embedder) is imported inside the commands that run it:
# a search answered by a warm server never loads it.
MODES = ("hybrid", "keyword", "semantic")  # as search.engine.MODES (tests/test_server.py checks)


class UserError(Exception):
    """A problem the user can fix; printed as one line, exit code 1."""


def default_index_dir() -> str:
    """The index of the bundled notes in the user's cache directory."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "notesearch", "index")


# ---------------------------------------------------------------- rendering

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
    """Progress on stderr (passages done / total, rate, time left); silent unless stderr is a terminal."""

    def __init__(self, quiet: bool):
        self.enabled = not quiet and sys.stderr.isatty()
        self.started: dict[str, float] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        now = time.monotonic()
        start = self.started.setdefault(stage, now)
        rate = done / (now - start) if now > start else 0.0
        left = f", {int((total - done) / rate)} s left" if rate and done < total else ""
        label = "embedding" if stage == "embed" else "indexing"
        sys.stderr.write(f"\r{label} {done}/{total} passages ({rate:.0f}/s{left})   ")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def paper_line(passage) -> str:
    p = passage
    year = f" ({p.paper.year})" if p.paper and p.paper.year else ""
    return shown(f"{p.display_title}{year} — {display_path(p.path)}:{p.line_start}")


def render_related(result: RelatedResult) -> str:
    if result.anchor is None:
        lines = [f"{result.query!r} could mean {len(result.candidates)} papers; give more of the title:"]
        lines += [f"  - {paper_line(p)}" for p in result.candidates]
        return "\n".join(lines)
    lines = [f"related to {paper_line(result.anchor)}"]
    for hit in result.hits:
        lines.append(f"{hit.rank:>2}. {paper_line(hit.passage)}")
        lines.append(f"    why: {shown('; '.join(hit.reasons[:3])) or '-'}")
    return "\n".join(lines)


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


def render_text(answer: dict, explain: bool, color: bool) -> str:
    """The human form of one answer (a search.answers.result_data dict, from this process or a server).

    What comes from the notes is shown escaped (see `shown`); colour is added after.
    """
    lines = []
    if not answer["hits"]:
        lines.append(f"no results for {shown(repr(answer['query']))} ({answer['mode']})")
    for hit in answer["hits"]:
        heading = " › ".join(shown(part) for part in (hit["title"], hit["section"]) if part)
        lines.append(f"{hit['rank']:>2}. {heading}")
        end = f"-{hit['line_end']}" if hit["line_end"] != hit["line_start"] else ""
        lines.append(f"    {shown(hit['path'])}:{hit['line_start']}{end}")
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
    return "\n".join(lines)


def warn(message: str) -> None:
    print(f"notesearch: {shown(message)}", file=sys.stderr)


# ---------------------------------------------------------------- commands

def cmd_index(args) -> int:
    # No PATH: the folders the index was built from, or for a new index the bundled notes.
    default = None if has_index(args.index) else [str(corpus.BUNDLED_NOTES)]
    paths = [os.path.abspath(path) for path in args.paths] or default
    missing = [path for path in paths or () if not os.path.exists(path)]
    if missing:
        # Indexing the rest would drop every note of the missing path from the index: a typo must not do that.
        raise UserError(f"no such file or folder: {missing[0]} (nothing was indexed)")
    # No --exclude: the index's own patterns (--no-exclude drops them).
    exclude = [] if args.no_exclude else args.exclude
    if not args.no_server and served_index(args, paths, exclude):
        return 0
    from indexer.build import build

    report = build(paths, args.index, model=args.model, exclude=exclude, progress=Progress(args.quiet),
                   wait=args.wait)
    print_report(report_data(report))
    return 0


def print_report(report: dict) -> None:
    """What `index` says of a build (a search.answers.report_data dict, from this process or a server)."""
    for message in report["warnings"]:
        warn(message)
    for path, reason in report["skipped"]:
        warn(f"skipped {path}: {reason}")
    print(report["line"])


def served_index(args, paths: list[str] | None, exclude: list[str] | None) -> bool:
    """Let a warm server for this index run the update (jieba and the model are loaded there); False if none did.

    The server runs the same build() and prints nothing; its account is printed here.
    """
    from search.client import ask

    request = {"op": "index", "paths": paths, "exclude": exclude, "model": args.model or "", "wait": args.wait}
    response = ask(args.index, request, timeout=None)
    if not response or "report" not in response:
        if response and args.debug:
            warn(f"the server did not index: {response.get('error')}")
        return False
    print_report(response["report"])
    return True


def has_index(directory: str) -> bool:
    """True when `directory` holds a committed index (its manifest)."""
    return os.path.exists(os.path.join(directory, "manifest.json"))


def ensure_index(args) -> None:
    """Build the default index of the bundled notes on first use."""
    if args.index == default_index_dir() and not has_index(args.index):
        from indexer.build import build

        warn(f"building the index of the bundled notes in {args.index} (first use)")
        report = build([str(corpus.BUNDLED_NOTES)], args.index, progress=Progress(args.quiet))
        warn(report.line())


def read_queries(args) -> list[str]:
    """The queries of a run; a line that is not UTF-8 is read with U+FFFD and a warning, never ends the batch."""
    if args.queries:
        try:
            data = Path(args.queries).read_bytes() if args.queries != "-" else sys.stdin.buffer.read()
        except OSError as error:
            raise UserError(f"cannot read queries from {args.queries}: {error.strerror or error}") from error
        text = data.decode("utf-8-sig", errors="replace")
        if text.count("\ufffd") > data.decode("utf-8-sig", errors="ignore").count("\ufffd"):
            warn(f"{args.queries} is not all UTF-8: its bad bytes are read as \ufffd")
        return text.splitlines()
    if args.query is None:
        raise UserError("give a QUERY or --queries FILE")
    # Bytes of the argument that are not UTF-8 reach Python as lone surrogates, which cannot be printed.
    return [args.query.encode("utf-8", "surrogateescape").decode("utf-8", errors="replace")]


def print_answer(args, queries: list[str], n: int, answer: dict, warnings: list[str], color: bool) -> None:
    """Print the answer to the n-th query, and its warnings on stderr."""
    for message in warnings:
        warn(message)
    if args.json:
        print(json.dumps(answer, ensure_ascii=False), flush=True)
    else:
        if len(queries) > 1:
            print(("\n" if n else "") + f"== {shown(queries[n])}")
        print(render_text(answer, args.explain, color))


def served_answers(args, queries: list[str], cwd: str) -> Iterator[tuple[dict, list[str]]]:
    """(answer, warnings) of each query from a warm server for this index, until one is not answered."""
    from search.client import ask

    for query in queries:
        response = ask(args.index, {"op": "search", "query": query, "mode": args.mode, "k": args.k,
                                    "explain": args.explain, "cwd": cwd})
        if not response or "answer" not in response:
            if response and args.debug:
                warn(f"the server did not answer: {response.get('error')}")
            return
        yield response["answer"], response.get("warnings", [])


def cmd_search(args) -> int:
    queries = read_queries(args)
    color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    cwd = os.getcwd()
    done = 0
    if not args.no_server:
        for answer, warnings in served_answers(args, queries, cwd):
            print_answer(args, queries, done, answer, warnings, color)
            done += 1
    if done == len(queries) and queries:
        return 0
    ensure_index(args)
    from search.engine import open_index, search

    status = 0
    with open_index(args.index) as index:
        for n in range(done, len(queries)):
            try:
                result = search(index, queries[n], mode=args.mode, k=args.k)
            except Exception as error:  # one query must not end a batch: say which failed, answer the rest
                if args.debug:
                    raise
                warn(f"query {n + 1} failed ({type(error).__name__}: {error}); its answer is empty")
                answer = {"query": queries[n], "mode": args.mode, "took_ms": 0.0, "hits": []}
                answer.update({"route": ""} if args.explain else {})
                print_answer(args, queries, n, answer, [], color)
                status = 1
                continue
            print_answer(args, queries, n, result_data(result, args.explain, cwd), list(result.warnings), color)
    return status


def cmd_serve(args) -> int:
    from search import server
    from search.client import ask

    running = ask(args.index, {"op": "ping"})
    if running and running.get("pong"):
        raise UserError(f"a server already answers for {args.index} (pid {running['pid']})")
    ensure_index(args)

    def ready(served: server.NoteServer) -> None:
        print(f"serving {served.directory} on {server.HOST}:{served.port} (pid {os.getpid()}); "
              "stop with Ctrl-C", flush=True)

    try:
        server.run(args.index, port=args.port, ready=ready)
    except server.StateFileError as error:
        raise UserError(f"{error}: searches could not find the server, so it stopped") from error
    except OSError as error:
        raise UserError(f"cannot serve on {server.HOST}:{args.port}: {error.strerror or error}") from error
    print("stopped", flush=True)
    return 0


def cmd_related(args) -> int:
    if args.passage:
        path, _sep, line = args.passage.rpartition(":")
        if not path or not line.isdigit():
            raise UserError(f"--passage wants PATH:LINE, not {args.passage!r}")
    else:
        queries = read_queries(args)
    ensure_index(args)
    from search.engine import open_index
    from search.related import PaperGraph, find_passage, more_like, related

    status = 0
    with open_index(args.index) as index:
        graph = PaperGraph(index)
        if args.passage:
            anchor = find_passage(index, path, int(line))
            if anchor is None:
                raise UserError(f"no passage of the index holds {args.passage}: check the path and line")
            results = [more_like(index, anchor, k=args.k, graph=graph)]
        else:
            results = (related(index, query, k=args.k, graph=graph) for query in queries)
        for n, result in enumerate(results):
            if result.anchor is None and not result.candidates:
                warn(f"no paper matches {result.query!r}: try words of its title or an author's name")
                status = 1
            if args.json:
                print(json.dumps(related_data(result), ensure_ascii=False), flush=True)
            elif result.anchor or result.candidates:
                print(("\n" if n else "") + render_related(result))
    return status if args.passage or not args.queries else 0


def cmd_eval(args) -> int:
    from search.engine import open_index
    from search.evaluation import evaluate_index, read_judgements

    try:
        judgements = read_judgements(args.judgements)
    except OSError as error:
        raise UserError(f"cannot read judgements from {args.judgements}: {error}") from error
    except ValueError as error:
        raise UserError(str(error)) from error
    ensure_index(args)
    with open_index(args.index) as index:
        report = evaluate_index(index, judgements, args.corpus, k=args.k)
    print(report_json(report, args.judgements) if args.json else render_report(report))
    return 0


def cmd_stats(args) -> int:
    from search.engine import open_index

    with open_index(args.index) as index:
        m = index.manifest
        papers = sum(1 for p in index.passages() if p.paper)
        print(f"index      {shown(index.directory)}\ngeneration {m.generation}\nmodel      {m.model} ({m.fingerprint})\n"
              f"files      {len(m.files)}\npassages   {m.passages} ({papers} paper records)\n"
              f"words      {len(m.words)} learned dictionary words")
    return 0


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--index", default=None, metavar="DIR",
                        help="index folder (default: an index of the bundled notes in the user cache)")
    common.add_argument("--quiet", action="store_true", help="no progress on stderr")
    common.add_argument("--debug", action="store_true", help="show tracebacks")

    ap = argparse.ArgumentParser(prog="notesearch", description="Search mixed Chinese/English notes.")
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", parents=[common],
                       help="index notes (default: those the index was built from, or the bundled notes)")
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="note files or folders (default: the index's own, or for a new index the bundled notes)")
    skip = p.add_mutually_exclusive_group()
    skip.add_argument("--exclude", action="append", default=None, metavar="GLOB",
                      help="skip files matching GLOB (default: the index's own patterns)")
    skip.add_argument("--no-exclude", action="store_true", help="drop the index's --exclude patterns")
    p.add_argument("--model", default=None,
                   help="embedding model: use-m3 or st:<name or path> (default: the index's own, else use-m3)")
    p.add_argument("--wait", type=float, default=30.0, metavar="SECONDS",
                   help="how long to wait for another indexer (default 30)")
    p.add_argument("--no-server", action="store_true", help="index in this process even when 'serve' runs")
    p.set_defaults(run=cmd_index)

    p = sub.add_parser("search", parents=[common], help="search the index")
    p.add_argument("query", nargs="?", help="the query")
    p.add_argument("--queries", metavar="FILE", help="one query per line ('-' for stdin)")
    p.add_argument("--mode", choices=MODES, default="hybrid")
    p.add_argument("-k", type=int, default=10, help="number of hits (default 10)")
    p.add_argument("--json", action="store_true", help="one JSON object per query per line")
    p.add_argument("--explain", action="store_true", help="show the ranks and scores behind each hit")
    p.add_argument("--no-server", action="store_true", help="search in this process even when 'serve' runs")
    p.set_defaults(run=cmd_search)

    p = sub.add_parser("serve", parents=[common], help="keep the index loaded and answer searches fast (localhost)")
    p.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (default: any free port)")
    p.set_defaults(run=cmd_serve)

    p = sub.add_parser("related", parents=[common], help="papers to read with a paper (or passages like one)")
    p.add_argument("query", nargs="?", metavar="PAPER", help="a paper title, a fragment of one, or an author")
    p.add_argument("--queries", metavar="FILE", help="one paper a line ('-' for stdin)")
    p.add_argument("--passage", metavar="PATH:LINE", help="passages like the one at this line of this note")
    p.add_argument("-k", type=int, default=10, help="number of results (default 10)")
    p.add_argument("--json", action="store_true", help="one JSON object per paper per line")
    p.set_defaults(run=cmd_related)

    p = sub.add_parser("eval", parents=[common], help="score the index against judged queries")
    p.add_argument("judgements", metavar="JUDGEMENTS", help="judged queries, one JSON object a line")
    p.add_argument("--corpus", metavar="DIR", help="where snippets are looked up (default: the indexed folder)")
    p.add_argument("-k", type=int, default=10, help="cut-off rank (default 10)")
    p.add_argument("--json", action="store_true", help="the scores as one JSON object")
    p.set_defaults(run=cmd_eval)

    p = sub.add_parser("stats", parents=[common], help="what the index holds")
    p.set_defaults(run=cmd_stats)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.index is None:
        args.index = default_index_dir()
    args.index = os.path.abspath(os.path.expanduser(args.index))
    if getattr(args, "k", 1) < 1:
        print("notesearch: -k must be at least 1", file=sys.stderr)
        return 2
    try:
        return args.run(args)
    except KeyboardInterrupt:
        warn("interrupted")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as error:
        # The error classes are imported only now: a search answered by a server never loads their modules.
        from indexer.embedders import EmbedderError
        from indexer.files import IndexWriteError
        from indexer.generations import IndexBusy, MissingNotes, NoIndex
        from indexer.vectors import VectorIndexError

        known = (UserError, NoIndex, IndexBusy, MissingNotes, EmbedderError, VectorIndexError, IndexWriteError)
        if args.debug or not isinstance(error, known):
            raise
        if isinstance(error, NoIndex) and os.path.exists(args.index) and not os.path.isdir(args.index):
            warn(f"no index at {args.index} (a file, not a folder): give --index a folder")
        elif isinstance(error, NoIndex):
            warn(f"{error}: run 'notesearch index PATH --index {args.index}' first")
        else:
            warn(str(error))
        return 1


if __name__ == "__main__":
    sys.exit(main())
