"""Bad input never crashes: odd note files are indexed or skipped with a reason, odd queries answer.

The collection of bad files is built here, in a temp folder, by `bad_notes`.
"""

from __future__ import annotations

import codecs
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import indexer.scan
from corpus.markdown import passages_of
from corpus.reading import parse_note
from indexer import build
from search import MODES, open_index, search
from search.query.compiler import compile_query
from search.query.syntax import MAX_QUERY_CHARS

ROOT = Path(__file__).resolve().parent.parent
CHINESE = "# 扩散模型笔记\n\n**扩散模型**通过逐步去噪生成图像，代表工作是 DDPM。\n"

# name → expected reason (a substring); None when the file must be indexed
EXPECTED = {
    "gbk.md": None, "utf16.md": None, "utf8-bom.md": None, "latin1.md": None, "empty.md": None,
    "table.md": None, "nested.md": None,
    "image.md": "binary", "huge.md": "larger than 2 MB (50 MB)", "one-line.md": "larger than 2 MB (5 MB)",
    "pipe.md": "not a regular file", "broken.md": "broken symbolic link", "loop-a.md": "symbolic link loop",
    "loop-b.md": "symbolic link loop", "vanishing.md": "no such file or directory",
}


def bad_notes(root: Path) -> Path:
    """Write the collection of bad note files into `root`."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "gbk.md").write_bytes(CHINESE.encode("gbk"))
    (root / "utf16.md").write_bytes("# 自监督学习\n\n对比学习从未标注数据中学习表示。\n".encode("utf-16"))
    (root / "utf8-bom.md").write_bytes(codecs.BOM_UTF8 + "# 知识蒸馏\n\n大模型教小模型。\n".encode())
    (root / "latin1.md").write_bytes("# Café\n\nLe café était très noir à côté de la crêpe.\n".encode("latin-1"))
    (root / "empty.md").write_bytes(b"")
    (root / "image.md").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(4096))
    with (root / "huge.md").open("wb") as f:
        block = ("很长的笔记 long note " * 4000 + "\n").encode("utf-8")
        while f.tell() < 50 * 1024 * 1024:
            f.write(block)
    (root / "one-line.md").write_bytes(("中文长行没有换行" * 220_000).encode("utf-8")[:5 * 1024 * 1024])
    os.mkfifo(root / "pipe.md")
    (root / "broken.md").symlink_to(root / "missing.md")
    (root / "loop-a.md").symlink_to(root / "loop-b.md")
    (root / "loop-b.md").symlink_to(root / "loop-a.md")
    (root / "table.md").write_text(
        "# 表格\n\n| 年份 | 论文\n|---|\n| 2020 | DDPM | extra | cells |\n|||\n| 只有一格\n| --- | --- |\n",
        encoding="utf-8")
    (root / "nested.md").write_text("# 嵌套\n\n" + "- " * 1000 + "第 1000 层 level\n", encoding="utf-8")
    (root / "vanishing.md").write_text("# gone\n\nDeleted while the index runs.\n", encoding="utf-8")
    return root


def _deleting(path: Path):
    """find_note_files that lists `path`, then deletes it before it is read (a file deleted during the run)."""
    find = indexer.scan.find_note_files

    def find_then_delete(*args, **kwargs):
        found = find(*args, **kwargs)
        path.unlink()
        return found

    return find_then_delete


@pytest.mark.slow
def test_bad_note_files_are_indexed_or_skipped_with_their_reason(tmp_path, embedder, monkeypatch):
    notes = bad_notes(tmp_path / "notes")
    monkeypatch.setattr(indexer.scan, "find_note_files", _deleting(notes / "vanishing.md"))
    started = time.perf_counter()
    report = build([str(notes)], str(tmp_path / "index"), embedder=embedder)
    assert time.perf_counter() - started < 60
    skipped = {os.path.basename(s.path): s.reason for s in report.skipped}
    assert set(skipped) == {name for name, reason in EXPECTED.items() if reason}
    for name, reason in skipped.items():
        assert EXPECTED[name] in reason, (name, reason)
    assert report.added == sum(reason is None for reason in EXPECTED.values())

    with open_index(str(tmp_path / "index"), embedder=embedder) as index:
        by_file = {}
        for passage in index.passages():
            by_file.setdefault(os.path.basename(passage.path), []).append(passage)
        assert [(p.line_start, p.text) for p in by_file["gbk.md"]] == [(3, "扩散模型通过逐步去噪生成图像，代表工作是 DDPM。")]
        assert by_file["utf16.md"][0].text == "对比学习从未标注数据中学习表示。"
        assert by_file["utf8-bom.md"][0].title == "知识蒸馏"
        assert by_file["latin1.md"][0].text == "Le café était très noir à côté de la crêpe."
        assert "empty.md" not in by_file
        assert "第 1000 层 level" in " ".join(p.text for p in by_file["nested.md"])
        assert any("DDPM" in p.text for p in by_file["table.md"])
        hits = search(index, "扩散模型 去噪", mode="keyword").hits
        assert os.path.basename(hits[0].passage.path) == "gbk.md"


def test_unreadable_note_is_skipped_with_its_reason(tmp_path, embedder):
    if os.geteuid() == 0:
        pytest.skip("root reads files whatever their mode (the FIFO case covers an unreadable note)")
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "ok.md").write_text("# ok\n\nreadable\n", encoding="utf-8")
    locked = notes / "locked.md"
    locked.write_text("# secret\n", encoding="utf-8")
    locked.chmod(0)
    report = build([str(notes)], str(tmp_path / "index"), embedder=embedder)
    assert [(os.path.basename(s.path), s.reason) for s in report.skipped] == [("locked.md", "permission denied")]
    assert report.added == 1


def test_a_list_nested_1000_deep_gives_one_passage_per_item():
    text = "# 嵌套\n\n" + "\n".join("  " * depth + f"- 第 {depth} 层 level" for depth in range(1000)) + "\n"
    passages = passages_of(parse_note("nested.md", text))
    assert [p.line_start for p in passages] == list(range(3, 1003))
    assert passages[-1].text == "第 999 层 level"


def test_a_5_mb_line_of_chinese_splits_into_passages_quickly():
    text = "中文长行没有换行，" * 580_000
    started = time.perf_counter()
    passages = passages_of(parse_note("line.md", text))
    assert time.perf_counter() - started < 30
    assert len(passages) > 100 and all(p.line_start == p.line_end == 1 for p in passages)
    assert sum(len(p.text) for p in passages) >= 0.99 * len(text)


@pytest.mark.slow
def test_cli_index_of_bad_notes_exits_0_reports_each_skip_and_stays_under_1_gb(tmp_path):
    notes = bad_notes(tmp_path / "notes")
    (notes / "vanishing.md").unlink()
    # VmHWM belongs to this process's own memory map; ru_maxrss would carry the high-water mark of
    # the pytest process that forked it (Linux keeps it across execve).
    measure = ("import re, sys, cli\n"
               "code = cli.main(sys.argv[1:])\n"
               "peak = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)\n"
               "print('peak-rss-kb', peak, file=sys.stderr)\n"
               "sys.exit(code)\n")
    done = subprocess.run([sys.executable, "-c", measure, "index", str(notes), "--index", str(tmp_path / "index")],
                          check=False, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    for name, reason in EXPECTED.items():
        if reason and name != "vanishing.md":
            assert f"skipped {notes / name}: " in done.stderr, name
    assert done.stdout.startswith("added 7, updated 0, removed 0, unchanged 0")
    peak_kb = int(done.stderr.split("peak-rss-kb ")[1].split()[0])
    assert peak_kb < 1024 * 1024, f"peak RSS {peak_kb // 1024} MB"


ODD_QUERIES = [
    "", "   ", "\t\n", "的 了 是", "the of and", "a" * 100_000, "扩散" * 50_000, '"扩散模型', "扩散模型\"",
    "(transformer OR", "))) ((", '"(" ")"', "\x00\x07\x1b[31m扩散\x7f", "-", "--", "- -扩散", "year:", "title:",
    "year:3000-1000", "OR AND NOT", "*", "\ud800", "🙂🙂", "title:\"\"",
]


def _spans(result) -> list[tuple]:
    return [(h.passage.path, h.passage.line_start, h.passage.line_end, round(h.score, 9)) for h in result.hits]


@pytest.mark.parametrize("mode", MODES)
def test_odd_queries_answer_or_warn_in_every_mode(bundled_index, mode):
    for query in ODD_QUERIES:
        result = search(bundled_index, query, mode=mode, k=5)
        plan = bundled_index.plan(query)
        assert [h.rank for h in result.hits] == list(range(1, len(result.hits) + 1)), query
        assert len({span[:3] for span in _spans(result)}) == len(result.hits) <= 5, query
        if not plan.text:
            assert result.hits == () and "empty query: nothing to search for" in result.warnings, query
        if any(warning.startswith("could not parse") for warning in plan.warnings):
            # A query that does not parse is searched as its plain words, and says so.
            assert plan.warnings[0] in result.warnings
            assert _spans(result) == _spans(search(bundled_index, " ".join(plan.words), mode=mode, k=5)), query
        if len(query) > MAX_QUERY_CHARS:
            assert any(warning.startswith("query longer than") for warning in result.warnings), query
        if mode == "keyword" and compile_query(plan) is None:
            assert result.hits == (), query  # only stop words or symbols: nothing to look for
        if mode == "semantic" and plan.plain and plan.embed_text.strip():
            assert len(result.hits) == 5, query  # the nearest passages of any text


@pytest.mark.slow
def test_cli_search_with_odd_queries_exits_0_without_a_traceback(bundled_index_dir, tmp_path):
    queries = tmp_path / "queries.txt"
    queries.write_text("\n".join(q for q in ODD_QUERIES if "\n" not in q and "\ud800" not in q), encoding="utf-8")
    done = subprocess.run([sys.executable, "cli.py", "search", "--queries", str(queries), "--index", bundled_index_dir,
                           "--json"], check=False, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stdout.splitlines()) == len(queries.read_text(encoding="utf-8").split("\n"))
