"""How the command line hands its work to a warm server (`notesearch serve`) for the same index.

A search is answered there, and an index run runs there (jieba and the model
are loaded); what either prints is printed here, exactly as if it had run in
this process. An index run's progress shows here as it goes, and Ctrl-C here
stops it there. Standard library only, with search/serve/client.py: a served search
never loads the search stage.
"""

from __future__ import annotations

from collections.abc import Iterator

from cli_render import Progress, describe, print_report, warn
from corpus.errors import Cancelled, IndexBusy

# Exit code of a run stopped by Ctrl-C (128 + SIGINT), as a shell reports it.
INTERRUPTED = 130


def served_index(args, paths: list[str] | None, exclude: list[str] | None, remove: list[str]) -> int | None:
    """Let a warm server for this index run the update; the exit code, or None when no server ran it.

    The server runs the same build() and prints nothing; its progress and
    account are printed here. Its IndexBusy and Cancelled are raised here as
    build() would raise them; on another error the caller runs the update
    itself (and meets the error with all its data).
    """
    from search.serve.client import ask_run

    request = {"op": "index", "paths": paths, "exclude": exclude, "remove": remove, "model": args.model or "",
               "wait": args.wait}
    response = ask_run(args.index, request, Progress(args.quiet))
    if response is None:
        return None
    if response.get("interrupted"):
        if "report" in response:
            print_report(response["report"])
            warn("interrupted too late: the run had committed")
        else:
            warn(describe(Cancelled(args.index), args.index))
        return INTERRUPTED
    if response.get("kind") == "IndexBusy":
        raise IndexBusy(args.index, float(response.get("waited", args.wait)))
    if response.get("kind") == "Cancelled":
        raise Cancelled(args.index)
    if "report" not in response:
        if args.debug:
            warn(f"the server did not index: {response.get('error')}")
        return None
    print_report(response["report"])
    return 0


def served_answers(args, queries: list[str], cwd: str) -> Iterator[tuple[dict, list[str]]]:
    """(answer, warnings) of each query from a warm server for this index, until one is not answered."""
    from search.serve.client import ask

    for query in queries:
        response = ask(args.index, {"op": "search", "query": query, "mode": args.mode, "k": args.k,
                                    "explain": args.explain, "cwd": cwd, "all": args.all})
        if not response or "answer" not in response:
            if response and args.debug:
                warn(f"the server did not answer: {response.get('error')}")
            return
        yield response["answer"], response.get("warnings", [])
