"""The command line through its real entry point: JSON contract, query files, human output, errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BUNDLED_NOTES, ROOT, line_of

import cli
import cli_render
from cli_render import describe
from corpus.errors import (
    IndexBusy,
    MissingFolder,
    ModelMismatch,
    NoIndex,
    NoNotes,
    NoPassage,
    OutdatedIndex,
    OutsideIndex,
    UnknownFolder,
)
from indexer.embedders import DEFAULT_MODEL

TRENDS = BUNDLED_NOTES / "dl-research-trends-2022-2024.md"
MAE_LINE = line_of(TRENDS, "两大范式在这段时间都有所发展")
HIT_TYPES = {
    "rank": int, "path": str, "region": str, "line_start": int, "line_end": int, "title": str, "section": str,
    "score": float, "keyword_rank": (int, type(None)), "vector_rank": (int, type(None)),
    "snippet": str, "text": str, "also": list,
}


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """`python cli.py ARGS` in a fresh process, from the project root."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", NO_COLOR="1")
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


def main_output(capsys, *args: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of `cli.main(ARGS)` in this process."""
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def check_contract(line: str) -> dict:
    """One line of `--json` output, checked against ../shared/eval/README.md."""
    answer = json.loads(line)
    assert list(answer) == ["query", "mode", "took_ms", "hits"]
    assert isinstance(answer["query"], str) and answer["mode"] in ("hybrid", "keyword", "semantic")
    assert isinstance(answer["took_ms"], (int, float)) and answer["took_ms"] >= 0
    assert isinstance(answer["hits"], list)
    for rank, hit in enumerate(answer["hits"], 1):
        assert [key for key in hit if key != "paper"] == list(HIT_TYPES)  # `paper` when the hit is a paper's
        if "paper" in hit:
            assert set(hit["paper"]) == {"title", "authors", "year", "venue", "ids", "keywords"}
        for key, kind in HIT_TYPES.items():
            assert isinstance(hit[key], kind) and not isinstance(hit[key], bool), (key, hit[key])
        assert hit["rank"] == rank
        assert 1 <= hit["line_start"] <= hit["line_end"]
        assert hit["keyword_rank"] is not None or hit["vector_rank"] is not None
        assert hit["text"] and hit["snippet"]
    return answer


def is_mae(hit: dict) -> bool:
    return (Path(ROOT, hit["path"]).resolve() == TRENDS.resolve()
            and hit["line_start"] <= MAE_LINE <= hit["line_end"])


@pytest.fixture(scope="module")
def hybrid_json(bundled_index_dir) -> subprocess.CompletedProcess:
    return run_cli("search", "自监督 视觉", "--json", "--index", bundled_index_dir)


def test_search_json_follows_the_contract(hybrid_json):
    assert hybrid_json.returncode == 0, hybrid_json.stderr
    lines = hybrid_json.stdout.splitlines()
    assert len(lines) == 1
    answer = check_contract(lines[0])
    assert (answer["query"], answer["mode"]) == ("自监督 视觉", "hybrid")
    assert len(answer["hits"]) == 10
    assert all(isinstance(hit["score"], float) for hit in answer["hits"])


def test_search_json_has_the_mae_paragraph_in_the_top_3(hybrid_json):
    hits = json.loads(hybrid_json.stdout)["hits"]
    mae = [hit for hit in hits[:3] if is_mae(hit)]
    assert mae, [(h["path"], h["line_start"]) for h in hits[:3]]
    assert mae[0]["section"] == "表示学习与自监督学习"
    assert "**自监督**" in mae[0]["snippet"] and "**" not in mae[0]["text"]
    assert mae[0]["keyword_rank"] and mae[0]["vector_rank"]


def test_index_then_search_a_notes_folder(notes_dir, tmp_path, capsys):
    folder = notes_dir({
        "a.md": "---\ntitle: Garden\n---\n# Plants\n\nTomatoes need **full sun** and water.\n",
        "sub/b.txt": "量子计算笔记\n\n量子比特可以叠加。\n",
        "skip.md": "excluded words here\n",
    })
    index = str(tmp_path / "index")
    built = run_cli("index", str(folder), "--exclude", "skip.md", "--index", index, "--quiet")
    assert built.returncode == 0, built.stderr
    assert "passages" in built.stdout and "Traceback" not in built.stderr
    code, out, _err = main_output(capsys, "search", "tomatoes", "--mode", "keyword", "--json", "--index", index)
    assert code == 0
    [hit] = check_contract(out)["hits"]
    assert (hit["title"], hit["section"], hit["text"]) == ("Garden", "Plants", "Tomatoes need full sun and water.")
    assert Path(hit["path"]).resolve() == (folder / "a.md").resolve()
    assert hit["line_start"] == hit["line_end"] == line_of(folder / "a.md", "Tomatoes")
    code, out, _err = main_output(capsys, "search", "excluded", "--mode", "keyword", "--json", "--index", index)
    assert json.loads(out)["hits"] == []


def test_queries_file_answers_in_order_one_line_each(bundled_index_dir, tmp_path, capsys):
    queries = ["Hinton", "", "masked autoencoders", "year:2014 author:goodfellow"]
    file = tmp_path / "queries.txt"
    file.write_text("\n".join(queries) + "\n", encoding="utf-8")
    code, out, err = main_output(capsys, "search", "--queries", str(file), "--mode", "keyword", "--json",
                                 "-k", "3", "--index", bundled_index_dir)
    assert code == 0, err
    answers = [check_contract(line) for line in out.splitlines()]
    assert [a["query"] for a in answers] == queries
    assert all(a["mode"] == "keyword" for a in answers)
    assert answers[1]["hits"] == []
    assert all(0 < len(a["hits"]) <= 3 for a in answers if a["query"])
    assert is_mae(answers[2]["hits"][0])
    assert "Generative Adversarial Nets" == answers[3]["hits"][0]["title"]


def test_human_output_shows_rank_heading_location_and_marked_snippet(bundled_index_dir, capsys):
    code, out, _err = main_output(capsys, "search", "masked autoencoders", "--mode", "keyword", "-k", "2",
                                  "--index", bundled_index_dir)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == " 1. dl-research-trends-2022-2024 › 表示学习与自监督学习"
    assert lines[1].strip().endswith(f"dl-research-trends-2022-2024.md:{MAE_LINE}")
    assert "**Masked** **Autoencoders**" in lines[2]
    assert lines[3].startswith(" 2. ")
    assert not any(line.startswith("{") for line in lines)


def test_human_output_of_a_paper_shows_its_title(bundled_index_dir, capsys):
    code, out, _err = main_output(capsys, "search", "year:2014 author:goodfellow", "--mode", "keyword", "-k", "1",
                                  "--index", bundled_index_dir)
    assert code == 0
    heading, location, snippet = out.splitlines()
    assert heading == " 1. Generative Adversarial Nets"
    gan_line = line_of(BUNDLED_NOTES / "famous-deep-learning-papers.md", "*Generative Adversarial Nets*")
    assert location.endswith(f"famous-deep-learning-papers.md:{gan_line}")
    assert "**Goodfellow**" in snippet


def test_no_results_are_said_in_words(bundled_index_dir, capsys):
    code, out, _err = main_output(capsys, "search", "zyxwvut", "--mode", "keyword", "--index", bundled_index_dir)
    assert code == 0
    assert out.strip() == "no good match for 'zyxwvut' (keyword)"


def test_semantic_mode_ranks_by_vectors_only(bundled_index_dir, capsys):
    code, out, _err = main_output(capsys, "search", "自监督 视觉", "--mode", "semantic", "--json", "-k", "3",
                                  "--index", bundled_index_dir)
    assert code == 0
    answer = check_contract(out)
    assert answer["mode"] == "semantic"
    assert [h["vector_rank"] for h in answer["hits"]] == [1, 2, 3]
    assert all(h["keyword_rank"] is None for h in answer["hits"])


def test_missing_index_is_one_line_and_exit_1(tmp_path):
    missing = tmp_path / "nowhere"
    result = run_cli("search", "x", "--index", str(missing))
    assert result.returncode == 1
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert str(missing) in result.stderr and "notesearch index" in result.stderr


@pytest.mark.parametrize("args, message", [
    (["-k", "0"], "-k must be at least 1"),
    (["-k", "-3"], "-k must be at least 1"),
    (["-k", "many"], "invalid int value"),
    (["--mode", "fuzzy"], "invalid choice"),
])
def test_bad_arguments_exit_2(tmp_path, capsys, args, message):
    try:
        code = cli.main(["search", "x", "--index", str(tmp_path), *args])
    except SystemExit as exited:  # argparse exits by itself
        code = exited.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_mode_choices_are_the_three_modes(capsys):
    with pytest.raises(SystemExit):
        cli.main(["search", "--help"])
    help_text = capsys.readouterr().out
    assert "{hybrid,keyword,semantic}" in help_text


@pytest.mark.parametrize("query", ["", "？！。，", "  "])
def test_a_query_without_words_says_so_in_one_line(bundled_index_dir, capsys, query):
    code, out, err = main_output(capsys, "search", query, "--index", bundled_index_dir)
    assert (code, out, err) == (1, "", "notesearch: empty query: nothing to search for\n")


def test_a_hit_says_the_notes_h1_once(notes_dir, tmp_path, capsys, embedder):
    from indexer import build

    notes = notes_dir({"model-selection.md": "# 模型选择、欠拟合和过拟合\n\n## 小结\n\n欠拟合是指模型无法继续减少训练误差。\n"})
    index = str(tmp_path / "index")
    build([str(notes)], index, embedder=embedder)
    code, out, _err = main_output(capsys, "search", "欠拟合", "--mode", "keyword", "--index", index)
    assert code == 0 and out.splitlines()[0] == " 1. 模型选择、欠拟合和过拟合 › 小结"
    code, out, _err = main_output(capsys, "search", "欠拟合", "--mode", "keyword", "--json", "--index", index)
    assert json.loads(out)["hits"][0]["section"] == "模型选择、欠拟合和过拟合 > 小结"  # the data stays whole


@pytest.mark.parametrize("title, section, shown", [
    ("模型选择", "模型选择 > 小结", "模型选择 › 小结"),
    ("模型选择", "模型选择", "模型选择"),
    ("Garden", "Plants > Tomatoes", "Garden › Plants > Tomatoes"),
    ("Garden", "", "Garden"),
    ("", "Plants", "Plants"),
    ("Attention is All You Need", "", "Attention is All You Need"),
])
def test_heading(title, section, shown):
    from cli_render import heading

    assert heading(title, section) == shown


def test_search_without_query_is_a_user_error(bundled_index_dir, capsys):
    code, out, err = main_output(capsys, "search", "--index", bundled_index_dir)
    assert code == 1 and out == ""
    assert err.strip() == "notesearch: give a QUERY or --queries FILE"


def test_queries_file_with_bom_and_crlf_gives_clean_queries(bundled_index_dir, tmp_path, capsys):
    file = tmp_path / "queries.txt"
    file.write_bytes("\ufeffHinton\r\nBengio\r\n".encode())
    code, out, _err = main_output(capsys, "search", "--queries", str(file), "--mode", "keyword", "--json",
                                  "--index", bundled_index_dir)
    assert code == 0
    assert [json.loads(line)["query"] for line in out.splitlines()] == ["Hinton", "Bengio"]


def test_index_of_a_missing_folder_is_a_user_error_and_keeps_the_index(bundled_index_dir, tmp_path, capsys):
    code, out, err = main_output(capsys, "index", str(tmp_path / "typo"), "--index", bundled_index_dir)
    assert code == 1 and out == ""
    assert "no such file or folder" in err and "Traceback" not in err
    code, out, _err = main_output(capsys, "search", "Hinton", "--mode", "keyword", "--json", "--index", bundled_index_dir)
    assert code == 0 and json.loads(out)["hits"]


def test_index_again_without_arguments_keeps_the_folders_and_exclusions(notes_dir, tmp_path, capsys, embedder):
    # Forgetting --exclude on an update must not add the files it kept out.
    folder = notes_dir({"a.md": "Tomatoes need sun.\n", "a_origin.md": "An English original.\n"})
    index = str(tmp_path / "index")
    # In process, with the session's embedder (a fresh process would load the model again).
    from indexer import build
    from indexer.generations import read_manifest

    build([str(folder)], index, exclude=["*_origin.md"], embedder=embedder)
    for args in (["index"], ["index", str(folder)]):
        code, out, err = main_output(capsys, *args, "--index", index, "--no-server", "--quiet")
        assert code == 0, err
        assert out.startswith("no change: added 0, updated 0, removed 0, unchanged 1"), out
    manifest = read_manifest(index)
    assert manifest.roots == (str(folder),) and manifest.exclude == ("*_origin.md",)
    assert manifest.model == DEFAULT_MODEL


def test_no_exclude_drops_the_index_patterns(notes_dir, tmp_path, embedder):
    folder = notes_dir({"a.md": "Tomatoes need sun.\n", "a_origin.md": "An English original.\n"})
    index = str(tmp_path / "index")
    from indexer import build

    build([str(folder)], index, exclude=["*_origin.md"], embedder=embedder)
    report = build(None, index, exclude=[], embedder=embedder)
    assert (report.added, report.unchanged) == (1, 1)


def test_index_whose_folder_is_gone_is_not_emptied(notes_dir, tmp_path, capsys, embedder):
    # `index` with no PATH would otherwise remove every note of the missing folder.
    folder = notes_dir({"a.md": "Tomatoes need sun.\n"})
    index = str(tmp_path / "index")
    from indexer import build

    build([str(folder)], index, embedder=embedder)
    folder.rename(tmp_path / "moved")
    code, out, err = main_output(capsys, "index", "--index", index, "--no-server", "--quiet")
    assert code == 1 and out == ""
    assert f"{folder}, which this index was built from, is gone" in err and "Traceback" not in err
    code, out, _err = main_output(capsys, "search", "tomatoes", "--mode", "keyword", "--json", "--index", index)
    assert len(json.loads(out)["hits"]) == 1


def test_build_without_paths_needs_an_index_to_take_them_from(tmp_path, embedder):
    from indexer import NoNotes, build

    with pytest.raises(NoNotes) as refused:
        build(None, str(tmp_path / "fresh"), embedder=embedder)
    assert refused.value.directory == str(tmp_path / "fresh")
    with pytest.raises(NoNotes):
        build([], str(tmp_path / "fresh"), embedder=embedder)  # an empty list would remove every note
    assert not (tmp_path / "fresh").exists()


def test_index_tells_what_a_build_did_in_one_line(notes_dir, tmp_path, embedder):
    from cli_render import report_line
    from indexer import build
    from search.results import report_data

    notes, index = notes_dir({"a.md": "Tomatoes need sun.\n", "b.md": "# 番茄\n\n番茄需要阳光。\n"}), str(tmp_path / "i")
    first = report_line(report_data(build([str(notes)], index, embedder=embedder)))
    assert re.fullmatch(r"added 2, updated 0, removed 0, unchanged 0 — 2 passages, 2 embedded, generation 1 "
                        r"\(\d+\.\d s\)", first), first
    assert report_line(report_data(build([str(notes)], index, embedder=embedder))) == (
        "no change: added 0, updated 0, removed 0, unchanged 2 (2 passages, generation 1)")
    (notes / "b.md").rename(notes / "c.md")
    assert report_line(report_data(build([str(notes)], index, embedder=embedder))).startswith(
        "added 0, updated 0, removed 0, unchanged 1, renamed 1 — 2 passages, 0 embedded, generation 2")


@pytest.mark.parametrize("error, line", [
    (NoIndex("/x"), "no index at /x: run 'notesearch index PATH --index /i' first"),
    (OutdatedIndex("/x", "2", "3"), ("the index at /x was built by another version of notesearch (index format 2; "
                                     "this version reads format 3): run 'notesearch index --index /i' to build it "
                                     "again")),
    (ModelMismatch("/x", "use-m3:0.1", "use-m3:0.2", "use-m3"),
     ("the index at /x was built with use-m3:0.1, not use-m3:0.2: run 'notesearch index --index /i' to embed the "
     "notes again")),
    (IndexBusy("/x", 30.0), "the index at /x is busy: another indexer holds it: wait for it, or give --wait SECONDS"),
    (MissingFolder("/n", recorded=True),
     ("/n, which this index was built from, is gone (nothing was indexed): bring it back, or drop it from the "
      "index with 'notesearch index --remove /n --index /i'")),
    (UnknownFolder("/o", ("/n",)), "/o is not a folder of this index (its folders: /n; nothing was changed)"),
    (UnknownFolder("/n/sub", ("/n",)), ("/n/sub is not a folder of this index (its folders: /n; nothing was "
                                        "changed): to leave out part of a folder, give --exclude GLOB")),
    (NoNotes("/x", ("/n",)), ("removing /n would leave the index at /x no folder (nothing was changed): give a "
                              "folder to index in its place, or delete /i")),
    (MissingFolder("/n"), "no such file or folder: /n (nothing was indexed)"),
    (OutsideIndex("../x.md"), "../x.md is not in the indexed folders: only notes of the index can be opened"),
    (NoPassage("n.md"), ("n.md is not a note of the index (excluded, skipped, or new since it was indexed): "
                         "run 'notesearch index --index /i' if it is new")),
    (NoPassage("n.md", 2), "no passage of the index holds n.md:2 (a blank line, a heading or front matter?)"),
    (NoPassage("n.md", 2, unreadable="No such file or directory"),
     "cannot read n.md: No such file or directory: run 'notesearch index --index /i' if it was moved or deleted"),
], ids=lambda value: type(value).__name__ if isinstance(value, Exception) else "")
def test_each_library_error_becomes_one_line_with_what_to_do(error, line):
    assert describe(error, "/i") == line


def test_no_line_ends_a_queries_batch(bundled_index_dir, tmp_path, capsys, monkeypatch):
    # year:9999999999 once ended a batch with a traceback; bytes that are not UTF-8 made the file unreadable.
    file = tmp_path / "queries.txt"
    file.write_bytes(b"year:9999999999\nHinton \xff\xfe\nyear:abc..\nBOOM\nBengio\n")
    import search.rank.engine

    real_search = search.rank.engine.search

    def search_failing_on_boom(index, query, **options):
        if query == "BOOM":  # a bug still to be found must not end the batch either
            raise RuntimeError("injected")
        return real_search(index, query, **options)

    monkeypatch.setattr(search.rank.engine, "search", search_failing_on_boom)
    code, out, err = main_output(capsys, "search", "--queries", str(file), "--mode", "keyword", "--json",
                                 "--index", bundled_index_dir)
    answers = [check_contract(line) for line in out.splitlines()]
    assert [a["query"] for a in answers] == ["year:9999999999", "Hinton \ufffd\ufffd", "year:abc..", "BOOM", "Bengio"]
    assert answers[0]["hits"] == [] and answers[1]["hits"] and answers[3]["hits"] == [] and answers[4]["hits"]
    assert code == 1 and "Traceback" not in err
    assert err.splitlines() == [
        f"notesearch: {file} is not all UTF-8: its bad bytes are read as \ufffd",
        "notesearch: year:9999999999 is past 9999: no paper has such a year",
        "notesearch: year:abc.. is not a year or a range like 2012..2017: left out of the query",
        "notesearch: query 4 failed (RuntimeError: injected); its answer is empty",
    ]


CONTROL = ["\x1b[2J", "\x1b]0;pwned\x07", "\x9b31m", "\u202e", "\x08", "\x7f"]


def test_control_characters_of_notes_and_names_are_escaped_on_a_terminal_and_exact_in_json(tmp_path, capsys, embedder):
    from indexer import build

    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "ctl.md").write_text(f"# Title {CONTROL[1]} here\n\nclear {CONTROL[0]} screen {''.join(CONTROL[2:])} end\n",
                                  encoding="utf-8")
    (notes / f"odd\n\r{CONTROL[0]}name.md").write_text("newline in the file name\n", encoding="utf-8")
    index = str(tmp_path / "index")
    build([str(notes)], index, embedder=embedder)
    for query in ("screen", "newline file name", f"screen {CONTROL[0]}"):
        code, out, err = main_output(capsys, "search", query, "--mode", "keyword", "--index", index, "-k", "1",
                                     "--explain")
        assert code == 0, err
        raw = [ch for ch in out + err if ch != "\n" and (ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 or ch == "\u202e")]
        assert raw == [], out
        assert out.count("\n") == 4  # rank and title, path, snippet, explanation: no line broken by a name
    code, out, _err = main_output(capsys, "search", "screen", "--mode", "keyword", "--index", index, "--json")
    assert "\\x1b[2J" in cli_render.render_text(json.loads(out), explain=False, color=False)
    hit = json.loads(out)["hits"][0]
    assert hit["title"] == f"Title {CONTROL[1]} here"
    assert hit["text"] == f"clear {CONTROL[0]} screen {''.join(CONTROL[2:])} end"
    code, out, _err = main_output(capsys, "search", "newline", "--mode", "keyword", "--index", index, "--json")
    assert json.loads(out)["hits"][0]["path"] == str(notes / f"odd\n\r{CONTROL[0]}name.md")


def test_all_shows_the_hits_the_floor_leaves_out(capsys, bundled_index_dir):
    def hits(*extra: str) -> list[dict]:
        code, out, err = main_output(capsys, "search", "扩散模型 采样效率", "-k", "100", "--json", "--no-server",
                                     "--index", bundled_index_dir, *extra)
        assert code == 0, err
        return json.loads(out)["hits"]

    floored, everything = hits(), hits("--all")
    assert len(everything) > 60 and 0 < len(floored) < len(everything) / 2
    assert [hit["line_start"] for hit in floored] == [hit["line_start"] for hit in everything[:len(floored)]]
