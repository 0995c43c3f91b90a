"""Race MCP `get` against a note that flips to a symbolic link out of the indexed folders.

    .venv/bin/python scripts/get_race.py                   # 1,500 calls
    .venv/bin/python scripts/get_race.py -n 300 --seconds 60

A folder holding one note is indexed (with `use-m3`), and `cli.py mcp` serves
it to the SDK's own stdio client. A thread swaps the note, atomically and as
fast as it can, between its own text and a symbolic link to a secret file
outside the folder (as `git checkout` or a sync tool swaps files), while the
client calls `get` on it. Every answer must be lines of the note itself or a
one-line tool error; an answer holding a line of the secret, or a traceback on
the server's stderr, is a failure. The run stops after N calls or SECONDS,
whichever comes first, and exits 0 when nothing failed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NOTE = "# 花园\n\n番茄需要充足的阳光。\n\nTomatoes need full sun.\n"
SECRET = "".join(f"SECRET-LINE-{n} of a file outside the indexed folders\n" for n in range(1, 9))


@dataclass(frozen=True)
class Outcome:
    """What the calls got: lines of the note, tool errors (one line each), secret lines leaked, tracebacks."""

    calls: int
    answered: int
    refused: int
    leaked: int
    tracebacks: int
    flips: int
    seconds: float
    errors: tuple[str, ...]

    @property
    def held(self) -> bool:
        return self.leaked == 0 and self.tracebacks == 0 and all("\n" not in e for e in self.errors)


def race(calls: int, seconds: float, work: Path) -> Outcome:
    """Index a note under `work`, then run `calls` MCP `get` calls on it (at most `seconds`) while it flips."""
    import anyio
    from mcp import ClientSession, StdioServerParameters, stdio_client

    from indexer import build

    notes, outside, index = work / "notes", work / "outside", str(work / "index")
    notes.mkdir()
    outside.mkdir()
    note = notes / "garden.md"
    note.write_text(NOTE, encoding="utf-8")
    (outside / "secret.md").write_text(SECRET, encoding="utf-8")
    build([str(notes)], index, model="use-m3")
    stop = threading.Event()
    flips = [0]

    def flip() -> None:
        regular, link = notes / ".regular.tmp", notes / ".link.tmp"
        while not stop.is_set():
            regular.write_text(NOTE, encoding="utf-8")
            os.replace(regular, note)
            if os.path.lexists(link):
                os.unlink(link)
            os.symlink(outside / "secret.md", link)
            os.replace(link, note)
            flips[0] += 2

    log = work / "server-stderr.txt"
    answered = refused = leaked = made = 0
    errors: list[str] = []
    started = time.monotonic()

    async def client(errlog) -> None:
        nonlocal answered, refused, leaked, made
        params = StdioServerParameters(command=sys.executable, args=[str(ROOT / "cli.py"), "mcp", "--index", index],
                                       cwd=str(work), env=dict(os.environ, HF_HUB_OFFLINE="1", NO_COLOR="1"))
        async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            flipper = threading.Thread(target=flip, daemon=True)
            flipper.start()
            try:
                while made < calls and time.monotonic() - started < seconds:
                    result = await session.call_tool("get", {"location": f"{note}:3", "context": 5})
                    made += 1
                    shown = json.dumps(result.structured_content or [c.model_dump() for c in result.content],
                                       ensure_ascii=False)
                    if "SECRET-LINE" in shown:
                        leaked += 1
                    if result.is_error:
                        refused += 1
                        errors.append(" ".join(c.text for c in result.content if hasattr(c, "text")))
                    else:
                        answered += 1
            finally:
                stop.set()
                flipper.join()

    with open(log, "w", encoding="utf-8") as errlog:
        anyio.run(client, errlog)
    tracebacks = log.read_text(encoding="utf-8", errors="replace").count("Traceback")
    return Outcome(made, answered, refused, leaked, tracebacks, flips[0], time.monotonic() - started,
                   tuple(dict.fromkeys(errors)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=1500, help="get calls (default 1500)")
    parser.add_argument("--seconds", type=float, default=600.0, help="stop after this long (default 600)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        outcome = race(args.n, args.seconds, Path(work))
    print(f"{outcome.calls} get calls in {outcome.seconds:.1f} s while the note flipped {outcome.flips} times: "
          f"{outcome.answered} answered from the note, {outcome.refused} refused, {outcome.leaked} with lines from "
          f"outside the folders, {outcome.tracebacks} tracebacks")
    for error in outcome.errors:
        print(f"  refused: {error}")
    return 0 if outcome.held else 1


if __name__ == "__main__":
    sys.exit(main())
