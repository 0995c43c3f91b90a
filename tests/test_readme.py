"""The README stays true: every `$ notesearch …` example in it runs, in order, on the bundled notes, and prints
what the README shows; every command and option is documented (as sqlite-utils' documentation tests do).

An example is an indented line `$ notesearch ARGS` followed by the lines it prints on stdout (up to the next
`$` line or a blank line). In the shown output `…` stands for any text within a line, and a line of its
own `…` or `...` for any number of lines. Timings (`(2.3 s)`, `"took_ms": 12.5`) may differ. The examples run
in a fresh home folder, one after the other (so the default index is built by the first search), where
`~/notes` and `~/papers` hold one bundled note each; the home folder prints as /home/me.

A block right after `<!-- not run: REASON -->` is not run; one after `<!-- needs ../shared -->` runs only
where the evaluation kit is checked out beside the project (it is skipped, with the reason, elsewhere).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass

import pytest
from conftest import BUNDLED_NOTES, ROOT, shared_path

import cli

README = ROOT / "README.md"
SHOWN_HOME = "/home/me"
_NOT_RUN = re.compile(r"<!--\s*not run:\s*(.+?)\s*-->")
_NEEDS_SHARED = re.compile(r"<!--\s*needs \.\./shared\s*-->")
_TIMING = re.compile(r"\(\d+(?:\.\d+)? s\)")
_TOOK = re.compile(r'"took_ms": [0-9.]+')


@dataclass(frozen=True)
class Example:
    line: int  # of the README, for the test's id
    command: str
    output: tuple[str, ...]
    not_run: str = ""  # why it is not run
    needs_shared: bool = False


def examples(text: str) -> list[Example]:
    """Every `$ ` example of the README's indented blocks, in order, with the lines after it up to a blank line."""
    found: list[Example] = []
    marker = ""
    reading = False
    for number, line in enumerate(text.split("\n"), 1):
        if line.strip() and not line.startswith("    "):
            marker = line if _NOT_RUN.search(line) or _NEEDS_SHARED.search(line) else ""
            reading = False
        elif line.startswith("    $ "):
            reason = _NOT_RUN.search(marker)
            found.append(Example(number, line[6:], (), reason.group(1) if reason else "",
                                 bool(_NEEDS_SHARED.search(marker))))
            reading = True
        elif reading and line.strip():
            last = found[-1]
            found[-1] = Example(last.line, last.command, (*last.output, line[4:].rstrip()), last.not_run,
                                last.needs_shared)
        else:
            reading = False
    return found


def matches(shown: list[str], real: list[str]) -> bool:
    """Whether the real output fits the shown one (`…` within a line, `…`/`...` lines for any lines)."""
    if not shown:
        return not real
    first = shown[0]
    if first.strip() in ("…", "..."):
        return any(matches(shown[1:], real[n:]) for n in range(len(real) + 1))
    if not real:
        return False
    pattern = ".*".join(re.escape(part) for part in first.split("…"))
    return re.fullmatch(pattern, real[0].rstrip()) is not None and matches(shown[1:], real[1:])


def normal(text: str) -> str:
    """The text with its timings set to 0: they differ from run to run."""
    return _TOOK.sub('"took_ms": 0', _TIMING.sub("(0 s)", text))


ALL = examples(README.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A fresh home folder: ~/notes and ~/papers hold one bundled note each; the default index is not built."""
    folder = tmp_path_factory.mktemp("home")
    for name, note in (("notes", "dl-research-trends-2022-2024.md"), ("papers", "famous-deep-learning-papers.md")):
        (folder / name).mkdir()
        shutil.copy(BUNDLED_NOTES / note, folder / name / note)
    return folder


def test_the_readme_has_examples_and_they_parse():
    assert len([example for example in ALL if not example.not_run]) >= 10
    assert all(shlex.split(example.command, comments=True)[0] == "notesearch" for example in ALL if not example.not_run)


@pytest.mark.slow
@pytest.mark.parametrize("example", ALL, ids=lambda example: f"README.md:{example.line}")
def test_a_readme_example_prints_what_the_readme_shows(example, home):
    if example.not_run:
        pytest.skip(f"not run: {example.not_run}")
    words = shlex.split(example.command, comments=True)
    if example.needs_shared:
        for word in words:
            if word.startswith("../shared/"):  # a location's line or region (`note.md:1`) is not the file's name
                shared_path(*re.sub(r":[^/]*$", "", word).split("/")[2:])
    args = [os.path.join(str(home), word[2:]) if word.startswith("~/") else word for word in words[1:]]
    env = {key: value for key, value in os.environ.items() if key not in ("XDG_CACHE_HOME", "NO_COLOR")}
    env.update(HOME=str(home), HF_HUB_OFFLINE="1")
    done = subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    real = normal(done.stdout.replace(str(home), SHOWN_HOME)).rstrip("\n").split("\n")
    shown = [normal(line) for line in example.output]
    assert matches(shown, real), "\n".join(["README shows:", *shown, "", "it prints:", *real])


def _commands_and_options():
    parser = cli.parser()
    (sub,) = [action for action in parser._actions if action.dest == "command"]
    for name, command in sub.choices.items():
        for action in command._actions:
            for option in action.option_strings:
                if option.startswith("--") and option != "--help":
                    yield name, option


@pytest.mark.parametrize("command", sorted({name for name, _option in _commands_and_options()}))
def test_every_command_is_documented(command):
    assert f"notesearch {command}" in README.read_text(encoding="utf-8")


@pytest.mark.parametrize("option", sorted({option for _name, option in _commands_and_options()}))
def test_every_option_is_documented(option):
    assert re.search(rf"`[^`]*{re.escape(option)}\b", README.read_text(encoding="utf-8")), option


@pytest.mark.parametrize("shown, real, fits", [
    (["a…c"], ["abc"], True),
    (["a…c"], ["abd"], False),
    (["x", "…", "z"], ["x", "y1", "y2", "z"], True),
    (["x", "...", "z"], ["x", "z"], True),
    (["x"], ["x", "y"], False),
    (["(0 s)"], ["(0 s)"], True),
])
def test_matches(shown, real, fits):
    assert matches(shown, real) is fits


def test_examples_are_read_with_their_output_and_markers():
    lines = ["Intro:", "", "    $ notesearch stats", "    index x", "    generation 1", "",
             "<!-- not run: a server -->", "", "    $ notesearch serve &", "    serving", "",
             "    python3 -m venv .venv", ""]
    text = "\n".join(lines)
    stats, serve = examples(text)
    assert (stats.command, stats.output, stats.not_run) == ("notesearch stats", ("index x", "generation 1"), "")
    assert (serve.command, serve.output, serve.not_run) == ("notesearch serve &", ("serving",), "a server")
