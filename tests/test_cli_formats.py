"""`search --format vimgrep|files|json`, and `path:line` as a clickable link (OSC 8) on a terminal."""

from __future__ import annotations

import os
import pty
import re
import socket
import subprocess
import sys
import urllib.parse

import pytest
from conftest import BUNDLED_NOTES, ROOT
from test_cli import main_output

from cli_render import link, vimgrep_line

VIMGREP = re.compile(r"(?P<path>[^:]+):(?P<line>\d+):(?P<column>\d+):(?P<text>.+)")


def test_vimgrep_lines_point_at_the_first_marked_word(bundled_index_dir, capsys):
    code, out, err = main_output(capsys, "search", "自监督 视觉", "--format", "vimgrep", "-k", "5",
                                 "--index", bundled_index_dir)
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 5
    for shown in lines:
        found = VIMGREP.fullmatch(shown)
        assert found, shown
        raw = (ROOT / found["path"]).read_text(encoding="utf-8").split("\n")[int(found["line"]) - 1].encode()
        at = raw[int(found["column"]) - 1:].decode("utf-8")  # the column counts bytes, as ripgrep's does
        assert at.startswith(("自监督", "视觉", "监督")), (shown, at[:20])
        assert "**" not in found["text"] and "\n" not in found["text"]


def test_vimgrep_of_a_hit_whose_words_are_not_on_disk_is_its_first_line(tmp_path):
    note = tmp_path / "n.md"
    note.write_text("# T\n\nText that changed.\n", encoding="utf-8")
    hit = {"path": str(note), "line_start": 3, "line_end": 3, "snippet": "**tomatoes** need\nsun"}
    assert vimgrep_line(hit) == f"{note}:3:1:tomatoes need sun"
    hit["path"] = str(tmp_path / "gone.md")
    assert vimgrep_line(hit) == f"{tmp_path / 'gone.md'}:3:1:tomatoes need sun"


def test_files_prints_each_path_once_in_rank_order(bundled_index_dir, tmp_path, capsys):
    queries = tmp_path / "q.txt"
    queries.write_text("transformer\nzyxwvut\nattention\n", encoding="utf-8")
    code, out, _err = main_output(capsys, "search", "--queries", str(queries), "--format", "files", "--mode",
                                  "keyword", "--index", bundled_index_dir)
    assert code == 0
    paths = out.splitlines()
    assert sorted(paths) == sorted(set(paths)) == ["corpus/notes/dl-research-trends-2022-2024.md",
                                                   "corpus/notes/famous-deep-learning-papers.md"]
    code, out, _err = main_output(capsys, "search", "zyxwvut", "--format", "files", "--mode", "keyword",
                                  "--index", bundled_index_dir)
    assert (code, out) == (0, "")  # as rg -l: nothing found, nothing printed


def test_format_json_is_json(bundled_index_dir, capsys):
    args = ["search", "Hinton", "--mode", "keyword", "--index", bundled_index_dir]
    first = main_output(capsys, *args, "--json")[1]
    second = main_output(capsys, *args, "--format", "json")[1]
    assert re.sub(r'"took_ms": [0-9.]+', "", first) == re.sub(r'"took_ms": [0-9.]+', "", second)
    with pytest.raises(SystemExit) as refused:
        main_output(capsys, *args, "--json", "--format", "vimgrep")
    assert refused.value.code == 2


def test_a_link_is_an_osc8_hyperlink_to_the_file():
    target = f"file://{socket.gethostname()}{urllib.parse.quote('/notes/a b.md')}"
    assert link("/notes/a b.md", 7, "a b.md:7", "file://{host}{path}") == f"\033]8;;{target}\033\\a b.md:7\033]8;;\033\\"
    assert link("/n.md", 7, "n.md:7", "vscode://file{path}:{line}") == "\033]8;;vscode://file/n.md:7\033\\n.md:7\033]8;;\033\\"
    assert link("/n.md", 7, "n.md:7", None) == "n.md:7"


def on_a_terminal(*args: str, **env: str) -> str:
    """What `python cli.py ARGS` writes to a terminal (a pseudo-terminal here)."""
    primary, secondary = pty.openpty()
    done = subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], cwd=ROOT, stdout=secondary,
                          stderr=subprocess.DEVNULL, env={**os.environ, "HF_HUB_OFFLINE": "1", **env}, timeout=300,
                          check=False)
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 1 << 16)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(primary)
    assert done.returncode == 0
    return b"".join(chunks).decode("utf-8")


@pytest.mark.slow
def test_on_a_terminal_path_line_is_a_clickable_link(bundled_index_dir):
    shown = on_a_terminal("search", "masked autoencoders", "--mode", "keyword", "-k", "1", "--no-server",
                          "--index", bundled_index_dir)
    path = BUNDLED_NOTES / "dl-research-trends-2022-2024.md"
    target = f"file://{socket.gethostname()}{urllib.parse.quote(str(path))}"
    assert f"\033]8;;{target}\033\\corpus/notes/dl-research-trends-2022-2024.md:" in shown
    plain = on_a_terminal("search", "masked autoencoders", "--mode", "keyword", "-k", "1", "--no-server",
                          "--index", bundled_index_dir, NOTESEARCH_HYPERLINK="none")
    assert "\033]8;;" not in plain and "corpus/notes/dl-research-trends-2022-2024.md:" in plain
    excerpt = on_a_terminal("get", f"{path}:39", "-C", "0", "--index", bundled_index_dir,
                            NOTESEARCH_HYPERLINK="vscode://file{path}:{line}")
    assert excerpt.startswith(f"\033]8;;vscode://file{urllib.parse.quote(str(path))}:39\033\\")
