"""`notesearch get PATH:LINE`: the passage a hit points at, human or JSON, and one-line errors."""

from __future__ import annotations

import json

import pytest
from conftest import BUNDLED_NOTES, line_of

import cli

TRENDS = BUNDLED_NOTES / "dl-research-trends-2022-2024.md"
MAE_LINE = line_of(TRENDS, "两大范式在这段时间都有所发展")


def output(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_get_prints_the_passage_of_a_hit_with_its_lines_marked(bundled_index_dir, capsys):
    code, out, err = output(capsys, "get", f"{TRENDS}:{MAE_LINE}", "-C", "2", "--index", bundled_index_dir)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == f"corpus/notes/dl-research-trends-2022-2024.md:{MAE_LINE} — " \
                       "dl-research-trends-2022-2024 › 表示学习与自监督学习"
    note = TRENDS.read_text(encoding="utf-8").split("\n")
    assert lines[1:] == [f"{'>' if n == MAE_LINE else ' '} {n} │ {note[n - 1]}".rstrip()
                         for n in range(MAE_LINE - 2, MAE_LINE + 3)]


def test_get_json_is_one_object_with_the_passage_and_the_lines(bundled_index_dir, capsys):
    code, out, _err = output(capsys, "get", f"corpus/notes/{TRENDS.name}:{MAE_LINE}", "-C", "1", "--json",
                             "--index", bundled_index_dir)
    assert code == 0 and len(out.splitlines()) == 1
    data = json.loads(out)
    assert list(data) == ["path", "region", "line", "line_start", "line_end", "title", "section", "text", "first_line",
                          "last_line", "lines", "changed"]
    assert data["path"] == f"corpus/notes/{TRENDS.name}" and data["line"] == MAE_LINE
    assert (data["first_line"], data["last_line"]) == (MAE_LINE - 1, MAE_LINE + 1) and len(data["lines"]) == 3
    assert "Masked Autoencoders (MAE)" in data["text"] and data["changed"] is False


@pytest.mark.parametrize("location, says", [
    ("/etc/passwd:1", "/etc/passwd is not in the indexed folders: only notes of the index can be opened"),
    ("README.md:1", "README.md is not in the indexed folders"),
    (f"{TRENDS}:2", "no passage of the index holds"),
    ("nothing", "location must be PATH:LINE"),
])
def test_get_errors_are_one_line_and_exit_1(bundled_index_dir, capsys, location, says):
    code, out, err = output(capsys, "get", location, "--index", bundled_index_dir)
    assert code == 1 and out == ""
    assert err.startswith("notesearch: ") and says in err and len(err.strip().splitlines()) == 1


def test_get_with_a_negative_context_is_refused(bundled_index_dir, capsys):
    code, _out, err = output(capsys, "get", f"{TRENDS}:{MAE_LINE}", "-C", "-1", "--index", bundled_index_dir)
    assert code == 1 and "context must be a whole number from 0 to 200, not -1" in err


@pytest.mark.parametrize("form", ["text", "vimgrep"])
def test_get_opens_the_location_search_prints_in_each_format(bundled_index_dir, capsys, form):
    # The summary's lines are one passage: text prints its span (`path:first-last`), vimgrep `path:line:column:`.
    first = line_of(TRENDS, "近三年的深度学习研究在核心方法和应用上")
    code, out, _err = output(capsys, "search", "蓬勃的发展态势", "--mode", "keyword", "-k", "1", "--format", form,
                             "--index", bundled_index_dir)
    assert code == 0
    printed = out.splitlines()[1].strip() if form == "text" else ":".join(out.splitlines()[0].split(":")[:3])
    assert printed.startswith(f"corpus/notes/{TRENDS.name}:{first}" + ("-" if form == "text" else ""))
    code, out, err = output(capsys, "get", printed, "-C", "0", "--json", "--index", bundled_index_dir)
    assert code == 0 and err == ""
    data = json.loads(out)
    assert data["line_start"] == first < data["line_end"] and data["path"] == f"corpus/notes/{TRENDS.name}"
