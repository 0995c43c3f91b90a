"""How the command line hands its work to a warm server (`notesearch serve`) for the same index.

A search is answered there, and an index run runs there (jieba and the model
are loaded); what either prints is printed here, exactly as if it had run in
this process. An index run's progress shows here as it goes, and Ctrl-C here
stops it there. Standard library only, with search/serve/client.py (HTTP): a served search
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
    from search.serve.client import connect

    served = connect(args.index)
    if served is None:
        return None
    request = {"paths": paths, "exclude": exclude, "remove": remove, "model": args.model, "wait": args.wait}
    try:
        response = served.index(request, Progress(args.quiet))
    finally:
        served.close()
    if response is None:
        return None
    if response.get("interrupted"):
        if "report" in response:
            print_report(response["report"])
            warn("interrupted too late: the run had committed")
        else:
            warn(describe(Cancelled(args.index), args.index))
        return INTERRUPTED
    error = response.get("error") or {}
    if error.get("kind") == "IndexBusy":
        raise IndexBusy(args.index, float(error.get("waited", args.wait)))
    if error.get("kind") == "Cancelled":
        raise Cancelled(args.index)
    if "report" not in response:
        if args.debug:
            warn(f"the server did not index: {error.get('message')}")
        return None
    print_report(response["report"])
    return 0


def served_answers(args, queries: list[str], cwd: str) -> Iterator[tuple[dict, list[str]]]:
    """(answer, warnings) of each query from a warm server for this index, until one is not answered."""
    from search.serve.client import Answer, connect

    served = connect(args.index)
    if served is None:
        return
    try:
        for query in queries:
            try:
                answered = served.search(query, args.mode, args.k, args.explain, args.all, cwd)
            except Exception as error:  # noqa: BLE001 (the server went away: the rest is searched in process)
                if args.debug:
                    warn(f"the server did not answer: {error}")
                return
            if isinstance(answered, Answer):
                if args.debug:
                    warn(f"the server did not answer: {(answered.error or {}).get('message')}")
                return
            yield answered
    finally:
        served.close()
