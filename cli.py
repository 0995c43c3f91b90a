"""notesearch command line: index, search, get, serve, mcp, related, eval, stats.

Each command is a thin shell over one library call: this file parses
arguments, reads the environment once, calls the library and prints what
cli_render.py makes of the result.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from functools import partial
from pathlib import Path

try:
    import corpus
    from cli_render import (
        HYPERLINK,
        Progress,
        Style,
        VersionAction,
        describe,
        missing_module,
        print_answer,
        print_report,
        render_excerpt,
        render_related,
        render_report,
        render_stats,
        report_json,
        report_line,
        tell_run,
        warn,
    )
    from cli_served import INTERRUPTED, served_answers, served_index
    from corpus.errors import Cancelled, ModelMismatch, NoIndex, NotesearchError, StateFileError, echo
    from search.notes.locations import parse_location
    from search.query.syntax import EMPTY_QUERY, has_words
    from search.results import MODES, SearchResult, excerpt_data, related_data, report_data, result_data, stats_data
except ImportError as missing:  # a broken install: one line that says what to do, not a traceback
    sys.exit(f"notesearch: this install of notesearch is incomplete ({missing.name} is missing): install it again "
             "(pip install --force-reinstall notesearch, or pip install -e . in a checkout)")

# The search stage (whoosh, numpy, jieba, the embedder) is imported inside the commands that run it:
# a search answered by a warm server never loads it.


class UserError(Exception):
    """A problem the user can fix; printed as one line, exit code 1."""


def default_index_dir() -> str:
    """The demo index of the bundled notes in the user's cache directory."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "notesearch", "index")


# The environment variable that names the index every command uses when --index is not given.
INDEX_VARIABLE = "NOTESEARCH_INDEX"
NO_INDEX_GIVEN = (f"no index given: name the index folder with --index DIR, or once for every command with "
                  f"{INDEX_VARIABLE}=DIR (your notes never go into the demo index of the bundled notes)")


def chosen_index(args) -> tuple[str, bool]:
    """The index folder a command uses, and whether it is the demo index chosen because none was given:
    --index, else NOTESEARCH_INDEX, else the demo index of the bundled notes."""
    given = args.index or os.environ.get(INDEX_VARIABLE, "").strip()
    if given:
        return os.path.abspath(os.path.expanduser(given)), False
    return default_index_dir(), True


# ---------------------------------------------------------------- commands

def cmd_index(args) -> int:
    # No PATH: the folders the index was built from, or for a new index (the demo index named by its folder)
    # the bundled notes. A PATH is added.
    demo = args.index == default_index_dir() and not has_index(args.index) and not args.remove
    paths = [os.path.abspath(path) for path in args.paths] or ([str(corpus.BUNDLED_NOTES)] if demo else None)
    remove = [os.path.abspath(path) for path in args.remove]
    # No --exclude: the index's own patterns (--no-exclude drops them).
    exclude = [] if args.no_exclude else args.exclude
    served = None if args.no_server else served_index(args, paths, exclude, remove)
    if served is not None:
        return served
    from indexer import build

    try:
        report = build(paths, args.index, model=args.model, exclude=exclude, progress=Progress(args.quiet),
                       wait=args.wait, remove=remove)
    except KeyboardInterrupt:
        warn(describe(Cancelled(args.index), args.index))
        return INTERRUPTED
    print_report(report_data(report))
    return 0


def has_index(directory: str) -> bool:
    """True when `directory` holds an index, intact or not (a manifest, or a generation folder): `index` without
    PATH then updates or repairs it, and never adds the bundled notes to it."""
    from indexer.manifest import holds_index

    return holds_index(directory)


def ensure_index(args, vectors: bool = False) -> None:
    """Build the default index of the bundled notes on first use, and again when another version built it; with
    `vectors` (a search that reads them), also when another version of its model embedded them."""
    if args.index != default_index_dir():
        return
    if has_index(args.index):
        from indexer.generations import INDEX_FORMAT, read_manifest

        try:
            manifest = read_manifest(args.index)
        except NoIndex:
            return  # damaged: opening it says so, and `index` repairs it
        if manifest.format == INDEX_FORMAT and not (vectors and stale_vectors(manifest.model, manifest.fingerprint)):
            return
        warn(f"the index of the bundled notes in {args.index} was built by another version: building it again")
    else:
        warn(f"building the index of the bundled notes in {args.index} (first use)")
    from indexer import build

    report = build([str(corpus.BUNDLED_NOTES)], args.index, progress=Progress(args.quiet))
    warn(report_line(report_data(report)))


def stale_vectors(model: str, fingerprint: str) -> bool:
    """True when the installed version of `model` (or its engine) is not the one that made vectors `fingerprint`."""
    from indexer.embedders import known_fingerprint  # loads what a search with vectors loads anyway

    return known_fingerprint(model) not in (None, fingerprint)


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


def terminal_links() -> str | None:
    """The hyperlink template for `path:line` when stdout is a terminal (NOTESEARCH_HYPERLINK, `none` for none)."""
    if not sys.stdout.isatty() or os.environ.get("TERM") == "dumb":
        return None
    template = os.environ.get("NOTESEARCH_HYPERLINK", HYPERLINK)
    return None if template.lower() in ("", "none") else template


def cmd_search(args) -> int:
    queries = read_queries(args)
    if not args.queries and not has_words(args.query):
        raise UserError(EMPTY_QUERY)  # one line, as for any other query that cannot be searched
    style = Style(format="json" if args.json else args.format, explain=args.explain,
                  color=sys.stdout.isatty() and not os.environ.get("NO_COLOR"), links=terminal_links())
    cwd = os.getcwd()
    done = 0
    if not args.no_server:
        for answer, warnings in served_answers(args, queries, cwd):
            print_answer(queries, done, answer, warnings, style)
            done += 1
    if done == len(queries) and queries:
        return 0
    ensure_index(args, vectors=args.mode != "keyword")
    from search import open_index, search

    status = 0
    with open_index(args.index) as index:
        for n in range(done, len(queries)):
            try:
                result = search(index, queries[n], mode=args.mode, k=args.k, every=args.all)
            except ModelMismatch:
                raise  # about the index, not the query: every query would fail alike, and `index` mends it
            except Exception as error:  # one query must not end a batch: say which failed, answer the rest
                if args.debug:
                    raise
                warn(f"query {n + 1} failed ({type(error).__name__}: {error}); its answer is empty")
                print_answer(queries, n, result_data(SearchResult(queries[n], args.mode, (), 0.0), args.explain, cwd),
                             [], style)
                status = 1
                continue
            print_answer(queries, n, result_data(result, args.explain, cwd), list(result.warnings), style)
    return status


def cmd_get(args) -> int:
    where = parse_location(args.location)  # a location that is none is refused before the index opens
    ensure_index(args)
    from search import excerpt, open_index

    with open_index(args.index) as index:
        found = excerpt(index, where.path, where.line, context=args.context, region=where.region)
    if found.changed:
        warn(f"{where.path} has changed since it was indexed (its lines may have moved): "
             f"run 'notesearch index --index {args.index}'")
    print(json.dumps(excerpt_data(found, os.getcwd()), ensure_ascii=False) if args.json else render_excerpt(found, terminal_links()))
    return 0


def cmd_serve(args) -> int:
    from search.serve import server
    from search.serve.client import ping

    running = ping(args.index)
    if running:
        raise UserError(f"a server already answers for {args.index} (pid {running['pid']})")
    ensure_index(args)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        warn(f"listening on {args.host}, not only on this computer: others on the network can reach the server "
             "(it answers only requests that name localhost, and only with the token, but they travel unencrypted)")

    def ready(served: server.NoteServer) -> None:
        watching = ", indexing its notes as they change" if args.watch else ""
        print(f"serving {served.directory} on {served.host}:{served.port} (pid {os.getpid()}){watching}; "
              "stop with Ctrl-C", flush=True)
        warn(f"the page: {served.access.url} (a one-time link: serve.json in the index folder holds the next one)")
        if args.open:
            import webbrowser

            if not webbrowser.open(served.access.url):
                warn("no browser could be opened: open the link above")

    try:
        server.run(args.index, port=args.port, ready=ready, watch=args.watch, watched=partial(tell_run, args.index),
                   host=args.host)
    except StateFileError as error:
        raise UserError(f"{error}: searches could not find the server, so it stopped") from error
    except OSError as error:
        raise UserError(f"cannot serve on {args.host}:{args.port}: {error.strerror or error}") from error
    print("stopped", flush=True)
    return 0


def cmd_mcp(args) -> int:
    # The protocol owns stdout: whatever the first use's build says goes to stderr (warn does).
    ensure_index(args)
    try:
        from search.serve import mcp_server
    except ImportError as error:
        raise UserError(f"'notesearch mcp' needs the MCP SDK ({error.name} is missing): "
                        'pip install "notesearch[mcp]" (in a checkout: pip install -e ".[mcp]")') from error
    mcp_server.run(args.index, watch=args.watch, watched=partial(tell_run, args.index),
                   describe=partial(describe, index=args.index))
    return 0


def cmd_related(args) -> int:
    if args.passage:
        where = parse_location(args.passage)  # refused before the index opens
    else:
        queries = read_queries(args)
    ensure_index(args)
    from search import open_index
    from search.relate.papers import paper_graph, related, related_passage

    status = 0
    with open_index(args.index) as index:
        graph = paper_graph(index)
        if args.passage:
            results = [related_passage(index, where.path, where.line, k=args.k, graph=graph, region=where.region)]
        else:
            results = (related(index, query, k=args.k, graph=graph) for query in queries)
        for n, result in enumerate(results):
            if result.anchor is None and not result.candidates:
                warn(f"no paper matches {echo(result.query)!r}: try words of its title or an author's name")
                status = 1
            if args.json:
                print(json.dumps(related_data(result, os.getcwd()), ensure_ascii=False), flush=True)
            elif result.anchor or result.candidates:
                print(("\n" if n else "") + render_related(result, terminal_links()))
    return status if args.passage or not args.queries else 0


def cmd_eval(args) -> int:
    from search import open_index
    from search.eval.evaluation import evaluate_index, read_judgements

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
    ensure_index(args)
    from search import open_index, stats

    with open_index(args.index) as index:
        held = stats(index)
    print(json.dumps(stats_data(held), ensure_ascii=False) if args.json else render_stats(held))
    return 0


def global_options(parser: argparse.ArgumentParser, defaults: bool) -> None:
    """--index, --quiet and --debug, taken before the command and after it.

    Only the main parser sets their defaults: a command's parser leaves the
    value given before the command alone unless the option is given again.
    """
    unset = argparse.SUPPRESS
    parser.add_argument("--index", default=None if defaults else unset, metavar="DIR",
                        help=f"index folder (default: ${INDEX_VARIABLE}; without it, `index` asks for one and the "
                             "other commands answer from a demo index of the bundled notes)")
    parser.add_argument("--quiet", action="store_true", default=False if defaults else unset,
                        help="no progress on stderr")
    parser.add_argument("--debug", action="store_true", default=False if defaults else unset,
                        help="show tracebacks")


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    global_options(common, defaults=False)

    ap = argparse.ArgumentParser(prog="notesearch", description="Search mixed Chinese/English notes.")
    ap.add_argument("--version", action=VersionAction)
    global_options(ap, defaults=True)
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", parents=[common],
                       help="index notes (default: those the index was built from, or the bundled notes)")
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="note files or folders to add to the index (default: the index's own, or for a new index "
                        "the bundled notes)")
    skip = p.add_mutually_exclusive_group()
    skip.add_argument("--exclude", action="append", default=None, metavar="GLOB",
                      help="skip files matching GLOB (default: the index's own patterns)")
    skip.add_argument("--no-exclude", action="store_true", help="drop the index's --exclude patterns")
    p.add_argument("--model", default=None,
                   help="embedding model: use-m3, e5-small, several as use-m3@0.2+e5-small@0.8, or st:<name or path> "
                        "(default: the index's own, else use-m3@0.2+e5-small@0.8)")
    p.add_argument("--wait", type=float, default=30.0, metavar="SECONDS",
                   help="how long to wait for another indexer, or for a served run to begin (default 30)")
    p.add_argument("--remove", action="append", default=[], metavar="PATH",
                   help="drop a folder from the index, and its notes (repeatable)")
    p.add_argument("--no-server", action="store_true", help="index in this process even when 'serve' runs")
    p.set_defaults(run=cmd_index)

    p = sub.add_parser("search", parents=[common], help="search the index")
    p.add_argument("query", nargs="?", help="the query")
    p.add_argument("--queries", metavar="FILE", help="one query per line ('-' for stdin)")
    p.add_argument("--mode", choices=MODES, default="hybrid")
    p.add_argument("-k", type=int, default=10, help="number of hits (default 10)")
    shape = p.add_mutually_exclusive_group()
    shape.add_argument("--format", choices=("text", "json", "vimgrep", "files"), default="text",
                       help="text (default); json: one object per query per line; vimgrep: path:line:column:text "
                            "lines (an editor's quickfix list); files: the paths of the hits, once each")
    shape.add_argument("--json", action="store_true", help="one JSON object per query per line (--format json)")
    p.add_argument("--explain", action="store_true", help="show the ranks and scores behind each hit")
    p.add_argument("--all", action="store_true",
                   help="every hit up to -k, also those no ranking supports (default: they are left out)")
    p.add_argument("--no-server", action="store_true", help="search in this process even when 'serve' runs")
    p.set_defaults(run=cmd_search)

    p = sub.add_parser("get", parents=[common], help="the passage at a line of a note, with lines around it")
    p.add_argument("location", metavar="PATH:LINE", help="a note of the index and a line (as a hit shows them)")
    p.add_argument("-C", "--context", type=int, default=3, metavar="N",
                   help="lines of the note to show before and after the passage (default 3)")
    p.add_argument("--json", action="store_true", help="the passage and its lines as one JSON object")
    p.set_defaults(run=cmd_get)

    p = sub.add_parser("serve", parents=[common],
                       help="keep the index loaded: answer searches fast, and serve a page to search in (localhost)")
    p.add_argument("--port", type=int, default=0, help="TCP port (default: any free port)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1, this computer only; any other is warned about)")
    p.add_argument("--open", action="store_true", help="open the page in the web browser")
    p.add_argument("--watch", action="store_true",
                   help="index notes added, changed, moved or deleted under the index's folders as they change")
    p.set_defaults(run=cmd_serve)

    p = sub.add_parser("mcp", parents=[common], help="serve the index to an AI assistant (MCP over stdio)")
    p.add_argument("--watch", action="store_true",
                   help="index notes added, changed, moved or deleted under the index's folders as they change")
    p.set_defaults(run=cmd_mcp)

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
    p.add_argument("--json", action="store_true", help="what it holds as one JSON object (as MCP's status tool)")
    p.set_defaults(run=cmd_stats)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    args.index, demo = chosen_index(args)
    if demo and args.command == "index":
        print(f"notesearch: {NO_INDEX_GIVEN}", file=sys.stderr)
        return 2
    if demo and not args.quiet:
        warn(f"answering from the demo index of the bundled notes: give --index DIR, or set {INDEX_VARIABLE}, "
             "for your own")
    if getattr(args, "k", 1) < 1:
        print("notesearch: -k must be at least 1", file=sys.stderr)
        return 2
    try:
        return args.run(args)
    except KeyboardInterrupt:
        warn("interrupted")
        return INTERRUPTED
    except BrokenPipeError:
        return 0
    except ImportError as error:  # a broken install: a dependency, or a module of notesearch itself, is missing
        if args.debug:
            raise
        warn(missing_module(error))
        return 1
    except (UserError, NotesearchError) as error:
        if args.debug:
            raise
        warn(describe(error, args.index))
        return 1


if __name__ == "__main__":
    sys.exit(main())
