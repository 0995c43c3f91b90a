"""A notes folder is untrusted input: every hostile note is indexed, warned about or skipped, and nothing worse.

One folder holds every case of issue 14 and the classics (binary files, NUL
bytes, GB18030, UTF-16 with and without BOM, huge lines, 1,000-level nesting,
YAML bombs, symbolic link loops, FIFOs, unreadable files, odd file names, huge
tables…) beside good notes. `cli.py index` runs on it in a child process, and
then:

- it exits 0 with no traceback, its peak memory under 1 GB;
- each case ends as expected: indexed (and found by its words), indexed with a
  warning on stderr, skipped with its reason, or not a note at all;
- every good note is found by a search;
- nothing outside the folder is indexed (symbolic links out are skipped);
- the index folder is 0700 and its files 0600, after an update too.
"""

from __future__ import annotations

import codecs
import os
import random
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT

from cli_render import shown
from corpus.paths import display_path
from indexer.generations import read_manifest
from search import locate, open_index, search
from search.notes.excerpts import excerpt

CHINESE = "# 扩散模型笔记\n\n扩散模型通过逐步去噪生成图像，代表工作是 DDPM。\n"
ROOT_USER = os.geteuid() == 0
# The child's own peak memory (VmHWM): ru_maxrss would carry that of the pytest process it was forked from.
MEASURED_INDEX = ("import re, sys, cli\n"
                  "code = cli.main(sys.argv[1:])\n"
                  "peak = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)\n"
                  "print('peak-rss-kb', peak, file=sys.stderr)\n"
                  "sys.exit(code)\n")


# One line long enough to be indexed in more pieces than a line may embed (indexer/passage_vectors.py): indexed,
# and `index` says how many of its texts were not embedded.
CUT = "warned: of its texts not embedded"


@dataclass(frozen=True)
class Case:
    """One hostile file (or link, or folder) and what must become of it.

    `expect` is "indexed", "warned: TEXT" (indexed, TEXT on stderr), "skipped: REASON", "absent" (not a
    note: never read, never reported) or "inside" (a folder whose notes are indexed). `query` (keyword
    mode) must find the case's file, or a file inside it, first.
    """

    name: str | bytes
    write: Callable[[Path], None]
    expect: str
    query: str = ""


def text(content: str, encoding: str = "utf-8") -> Callable[[Path], None]:
    return lambda path: path.write_bytes(content.encode(encoding))


def raw(content: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(content)


def link(target: str) -> Callable[[Path], None]:
    return lambda path: path.symlink_to(target)


def sparse(size: int) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        with path.open("wb") as f:
            f.truncate(size)  # no disk space used; the size is refused before any byte is read

    return write


def fifo(path: Path) -> None:
    os.mkfifo(path)


def unreadable(path: Path) -> None:
    path.write_text("# 锁住的笔记\n\nlockednote words\n", encoding="utf-8")
    path.chmod(0)


def unlistable(path: Path) -> None:
    path.mkdir()
    (path / "inside.md").write_text("unlistedfolder words\n", encoding="utf-8")
    path.chmod(0)


def deep_folders(path: Path) -> None:
    folder = path.joinpath(*["d"] * 50)
    folder.mkdir(parents=True)
    (folder / "deep.md").write_text("deepfolder words fifty levels down\n", encoding="utf-8")


def yaml_bomb(levels: int = 8, width: int = 9) -> str:
    lines = ["a: &a [" + ",".join(["x"] * width) + "]"]
    for n in range(1, levels):
        name, previous = "abcdefghij"[n], "abcdefghij"[n - 1]
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * width) + "]")
    return "---\n" + "\n".join(lines) + "\ntitle: *h\n---\n\nyamlbomb body words\n"


def nested_list(depth: int) -> str:
    return "\n".join("  " * level + f"- level{level} nestedlist" for level in range(depth)) + "\n"


def table(rows: int) -> str:
    return ("| 年份 | 作者 | 标题 | 注释 |\n|---|---|---|---|\n"
            + "".join(f"| {1900 + n % 120} | Author{n} | Title number {n} | hugetable note {n} |\n" for n in range(rows)))


OUTSIDE = "outsidesecret"
REASON_OUTSIDE = "skipped: symbolic link to a file outside the indexed folders"
CASES = [
    # Bytes and encodings.
    Case("binary.md", raw(b"\x89PNG\r\n\x1a\n" + random.Random(1).randbytes(4096)), "skipped: binary"),
    Case("nul-bytes.md", raw(b"text\x00with NUL bytes\n"), "skipped: binary file (NUL bytes)"),
    Case("nul-after-8k.md", raw(b"latenul words " * 700 + b"\x00\n"), "indexed", "latenul"),
    Case("random-bytes.md", raw(random.Random(2).randbytes(8192)), "skipped: binary"),
    Case("gb18030.md", text("# 𠮷野家\n\n国标编码的笔记，四字节字符也在。\n", "gb18030"), "indexed", "国标编码"),
    Case("gbk.md", text("# 中文\n\n简体中文编码的旧笔记。\n", "gbk"), "indexed", "简体中文编码"),
    Case("utf16-le-bom.md", text("# 对比学习\n\n带字节序标记的小端笔记 bomle。\n", "utf-16"), "indexed", "bomle"),
    Case("utf16-be-bom.md", raw(codecs.BOM_UTF16_BE + "大端笔记 bombe。\n".encode("utf-16-be")), "indexed", "bombe"),
    Case("utf16-le-no-bom.md", text("# 无标记\n\n没有字节序标记 nobomle。\n", "utf-16-le"), "indexed", "nobomle"),
    Case("utf16-be-no-bom.md", text("没有标记的大端 nobombe。\n", "utf-16-be"), "indexed", "nobombe"),
    Case("utf16-odd-length.md", raw("奇数长度 oddlength。\n".encode("utf-16-le") + b"\x41"),
         "warned: ends in the middle of a character", "oddlength"),
    Case("utf16-lone-surrogate.md", raw(codecs.BOM_UTF16_LE + b"\x00\xd8a\x00"), "skipped: invalid utf-16"),
    Case("utf8-bom.md", raw(codecs.BOM_UTF8 + "# 知识蒸馏\n\n大模型教小模型 distilbom。\n".encode()), "indexed", "distilbom"),
    Case("latin1.md", text("# Café\n\nLe café était très noir, latinone.\n", "latin-1"), "indexed", "latinone"),
    Case("stray-byte.md", raw(CHINESE.encode() + "多余字节 straybyte。\n".encode() + b"\xff"),
         "warned: 1 byte is not valid UTF-8", "straybyte"),
    Case("cut-mid-character.md", raw("截断的文件 cutfile 结尾是半个字".encode()[:-2]),
         "warned: ends in the middle of a character", "cutfile"),
    Case("empty.md", raw(b""), "indexed"),
    Case("whitespace.md", text(" \n\t\n   \n"), "indexed"),
    Case("crlf.md", text("# Windows\r\n\r\ncrlfnote line one\r\nline two\r\n"), "indexed", "crlfnote"),
    Case("cr-only.md", text("# Old Mac\r\rcronly line\r"), "indexed", "cronly"),
    Case("bidi.md", text("bidinote \u202e txet desrever\n"), "indexed", "bidinote"),
    Case("escapes.md", text("# \x1b]0;pwned\x07 Title\n\nescapenote \x1b[2J clears \x1b[31mred\x07\x08\x7f\x9b\n"),
         "indexed", "escapenote"),
    Case("zero-width.md", text("zero\u200bwidth joiner\u200d words zwnote\ufeff\n"), "indexed", "zwnote"),
    Case("emoji.md", text("emojinote 🙂🧪 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \U0001F9D1\u200d\U0001F52C\n"), "indexed", "emojinote"),
    Case("zalgo.md", text("zalgonote " + ("a" + "\u0301" * 200) * 200 + "\n"), CUT, "zalgonote"),
    # Sizes, lines and nesting.
    Case("huge.md", sparse(50 * 1024 * 1024), "skipped: larger than 2 MB (50 MB)"),
    Case("just-over.md", raw(b"x" * (2 * 1024 * 1024 + 1)), "skipped: larger than 2 MB"),
    Case("huge-line.md", text("长行没有换行，" * 10_000 + " hugeline\n"), CUT, "hugeline"),
    Case("long-word.md", text("longword " + "a" * 100_000 + "\n"), CUT, "longword"),
    Case("open-brackets.md", text("bracketline " + "[a" * 40_000 + "\n"), CUT, "bracketline"),
    Case("open-link-targets.md", text("linkline " + "[a](" * 20_000 + "\n"), CUT, "linkline"),
    Case("open-images.md", text("imageline " + "![a" * 25_000 + "\n"), CUT, "imageline"),
    Case("many-links.md", text("manylinks " + "[词](https://x.org/a) " * 5_000 + "\n"), "indexed", "manylinks"),
    Case("heading-hashes.md", text("# hashline " + "# " * 40_000 + "x\n\nbody\n"), CUT, "hashline"),
    Case("emphasis-storm.md", text("emphasisline " + "**a" * 25_000 + "\n"), CUT, "emphasisline"),
    Case("html-storm.md", text("htmlline " + "<div " * 20_000 + "\n"), CUT, "htmlline"),
    Case("backslashes.md", text("slashline " + "\\" * 80_000 + "\n"), CUT, "slashline"),
    Case("nested-list.md", text(nested_list(1000)), "indexed", "level999"),
    Case("nested-list-one-line.md", text("- " * 1000 + "onelinelist\n"), "indexed", "onelinelist"),
    Case("nested-quotes.md", text("".join("> " * d + f"quotedepth{d}\n" for d in range(1000))), "indexed",
         "quotedepth999"),
    Case("nested-brackets.md", text("nestedbrackets " + "[" * 1000 + "x" + "]" * 1000 + "(" * 1000 + ")" * 1000),
         "indexed", "nestedbrackets"),
    Case("nested-emphasis.md", text("nestedemphasis " + "*" * 1000 + "x" + "*" * 1000 + "\n"), "indexed",
         "nestedemphasis"),
    Case("many-headings.md", text("".join(f"{'#' * (1 + n % 6)} heading{n} manyheadings\n" for n in range(300))),
         "indexed", "heading299"),
    Case("unclosed-fence.md", text("fenceopen words\n\n```\n" + "code line\n" * 3000), "indexed", "fenceopen"),
    Case("setext-storm.md", text("setextnote\n" + "===\n---\n" * 2000), "indexed", "setextnote"),
    Case("huge-table.md", text(table(1000)), "indexed", "author:author999"),
    Case("wide-table.md", text("| " + " | ".join(f"c{n}" for n in range(10_000)) + " |\n|---|\n| widetable |\n"),
         "indexed", "widetable"),
    Case("italic-cells.md", text("| Year | Authors / Title | Notes |\n|---|---|---|\n| 2020 | " + "_a " * 20_000
                                 + "| italiccells |\n"), CUT, "italiccells"),
    Case("glossary-hyphens.md", text("glossaryline " + "a-" * 40_000 + "（中文）\n"), CUT, "glossaryline"),
    Case("only-punctuation.md", text("。，、；：？！…—·「」『』（）【】\n" * 100), "indexed"),
    # Front matter.
    Case("yaml-bomb.md", text(yaml_bomb()), "warned: YAML aliases are not allowed", "yamlbomb"),
    Case("yaml-merge.md", text("---\nbase: &b {t: 1}\nx:\n  <<: *b\n---\nyamlmerge words\n"),
         "warned: YAML aliases are not allowed", "yamlmerge"),
    Case("yaml-huge.md", text("---\n" + "key: value\n" * 7_000 + "---\nyamlhuge words\n"),
         "warned: front matter over 64 KB", "yamlhuge"),
    Case("yaml-invalid.md", text("---\ntitle: [unclosed\n---\nyamlinvalid words\n"), "warned: front matter not read",
         "yamlinvalid"),
    Case("yaml-python-tag.md", text("---\ntitle: !!python/object/apply:os.system [echo pwned]\n---\nyamltag\n"),
         "warned: front matter not read", "yamltag"),
    Case("yaml-huge-int.md", text("---\ntitle: " + "9" * 5000 + "\n---\nyamlint words\n"),
         "warned: front matter not read", "yamlint"),
    Case("yaml-deep.md", text("---\ntitle: " + "[" * 3000 + "]" * 3000 + "\n---\nyamldeep words\n"),
         "warned: front matter not read", "yamldeep"),
    Case("yaml-surrogates.md", text('---\ntitle: "yamlsurrogate \\udcff \\x1b"\n---\nbody\n'), "indexed", "yamlsurrogate"),
    Case("yaml-bad-date.md", text("---\ntitle: yamldate\ndate: 2024-13-45\n---\nbody\n"), "indexed", "yamldate"),
    Case("yaml-many-tags.md", text("---\ntags: [" + ", ".join(f"tag{n}" for n in range(5000)) + "]\n---\nmanytags\n"),
         "indexed", "manytags"),
    Case("yaml-list.md", text("---\n- just\n- a list\n---\nyamllist words\n"), "indexed", "yamllist"),
    Case("yaml-unclosed-fence.md", text("---\ntitle: never closed\nyamlunclosed words\n"), "indexed", "yamlunclosed"),
    Case("front-matter-only.md", text("---\ntitle: frontonly card\ntags: [frontonlytag]\n---\n"), "indexed",
         "frontonlytag"),
    Case("headings-only.md", text("# headingsonly\n\n## 第一章 chapterone\n\n## 第二章\n"), "indexed", "chapterone"),
    Case("paper-columns.md", text("| Year | Authors | Title | Notes |\n|---|---|---|---|\n"
                                  "| 2014 | Ian Goodfellow | Columnar Adversarial Nets | x |\n"), "indexed",
         "author:goodfellow title:columnar"),
    # Files that are not regular notes.
    Case("pipe.md", fifo, "skipped: not a regular file"),
    Case("broken-link.md", link("missing-target.md"), "skipped: broken symbolic link"),
    Case("loop-a.md", link("loop-b.md"), "skipped: symbolic link loop"),
    Case("loop-b.md", link("loop-a.md"), "skipped: symbolic link loop"),
    Case("self-loop.md", link("self-loop.md"), "skipped: symbolic link loop"),
    Case("link-outside.md", link(f"../outside/{OUTSIDE}.md"), REASON_OUTSIDE),
    Case("link-outside-absolute.md", lambda p: p.symlink_to(p.parent.parent / "outside" / f"{OUTSIDE}.md"),
         REASON_OUTSIDE),
    Case("link-passwd.md", link("/etc/passwd"), REASON_OUTSIDE),
    Case("link-inside.md", lambda p: ((p.parent / "inside-target.dat").write_text("insidelink words\n"),
                                      p.symlink_to("inside-target.dat")), "indexed", "insidelink"),
    Case("linked-folder-outside", link("../outside"), "absent"),
    Case("linked-folder-loop", link("."), "absent"),
    Case("unreadable.md", unreadable, "indexed" if ROOT_USER else "skipped: permission denied"),
    Case("unlistable", unlistable, "inside" if ROOT_USER else "skipped: cannot list folder"),
    Case("dir.md", lambda p: p.mkdir(), "absent"),
    Case(".hidden", lambda p: (p.mkdir(), (p / "hidden.md").write_text("hiddenfolder\n")), "absent"),
    Case("notes.docx", text("not a note suffix\n"), "absent"),
    Case("notes.pdf", text("text that is no PDF\n"), "skipped: not a PDF pypdf can read"),
    Case("notes.ipynb", text("{ not json\n"), "skipped: not a notebook nbformat can read"),
    # Odd file names.
    Case(b"bad\xff\xfename.md", text("badbytesname words\n"), "indexed", "badbytesname"),
    Case("new\nline.md", text("newlinename words\n"), "indexed", "newlinename"),
    Case("esc\x1b[2Jname.md", text("escname words\n"), "indexed", "escname"),
    Case("-rf.md", text("leadingdash words\n"), "indexed", "leadingdash"),
    Case("--index.md", text("doubledash words\n"), "indexed", "doubledash"),
    Case("长" * 80 + ".md", text("longname words\n"), "indexed", "longname"),
    Case(" spaced\tname .md", text("spacedname words\n"), "indexed", "spacedname"),
    Case("glob[x]*?.md", text("globname words\n"), "indexed", "globname"),
    Case(".hidden-file.md", text("hiddenfile words\n"), "indexed", "hiddenfile"),
    Case("UPPER.MD", text("uppersuffix words\n"), "indexed", "uppersuffix"),
    Case("plain.txt", text("txtsuffix words\n"), "indexed", "txtsuffix"),
    Case("CON.md", text("reservedname words\n"), "indexed", "reservedname"),
    Case("deep", deep_folders, "inside", "deepfolder"),
]
GOOD = {f"good/good-{n}.md": f"# 好笔记 {n}\n\n这是第 {n} 篇正常的笔记，goodnote{n} 独一无二。\n" for n in range(1, 6)}


def write_folder(root: Path) -> tuple[Path, Path]:
    """The notes folder with every case and the good notes, and a folder outside it."""
    notes, outside = root / "notes", root / "outside"
    (notes / "good").mkdir(parents=True)
    outside.mkdir()
    (outside / f"{OUTSIDE}.md").write_text(f"# secret\n\n{OUTSIDE} must never be indexed\n", encoding="utf-8")
    for name, content in GOOD.items():
        (notes / name).write_text(content, encoding="utf-8")
    for case in CASES:
        path = Path(os.fsdecode(os.path.join(os.fsencode(notes), os.fsencode(case.name))))
        case.write(path)
    return notes, outside


def index_in_child(notes: Path, index: Path) -> tuple[subprocess.CompletedProcess, int]:
    done = subprocess.run([sys.executable, "-c", MEASURED_INDEX, "index", str(notes), "--index", str(index),
                           "--no-server", "--quiet"], cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, HF_HUB_OFFLINE="1"), check=False)
    peak = re.search(r"peak-rss-kb (\d+)", done.stderr)
    return done, int(peak.group(1)) if peak else -1


def check_private(index: Path) -> None:
    loose = {}
    for folder, _dirs, files in os.walk(index):
        for path in [folder, *(os.path.join(folder, name) for name in files)]:
            mode = os.lstat(path).st_mode & 0o777
            if mode != (0o700 if os.path.isdir(path) else 0o600):
                loose[path] = oct(mode)
    assert loose == {}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The folder of cases indexed once by `cli.py index` in a child: (notes, index, completed run, peak KB)."""
    root = tmp_path_factory.mktemp("hostile")
    notes, _outside = write_folder(root)
    done, peak = index_in_child(notes, root / "index")
    yield notes, root / "index", done, peak
    for case in CASES:  # let pytest remove what the cases locked
        path = notes / os.fsdecode(case.name)
        if path.exists() and not path.is_symlink():
            path.chmod(0o700)


def test_the_hostile_folder_holds_at_least_70_cases():
    assert len(CASES) >= 70
    assert len({os.fsdecode(case.name) for case in CASES}) == len(CASES)


@pytest.mark.slow
def test_indexing_the_hostile_folder_exits_0_without_a_traceback_under_1_gb(hostile):
    _notes, _index, done, peak = hostile
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert 0 < peak < 1024 * 1024, f"peak RSS {peak // 1024} MB"
    assert done.stdout.startswith("added ") and len(done.stdout.splitlines()) == 1


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=lambda case: re.sub(r"\W", "_", os.fsdecode(case.name))[:40])
def test_each_hostile_case_ends_as_expected(hostile, embedder, case):
    notes, index, done, _peak = hostile
    path = display_path(os.path.join(str(notes), os.fsdecode(case.name)))
    manifest = read_manifest(str(index))
    reported = [line for line in done.stderr.splitlines() if shown(path) in line]
    kind, _sep, detail = case.expect.partition(": ")
    if kind == "skipped":
        assert path not in manifest.files
        assert detail in manifest.skipped.get(path, ""), manifest.skipped.get(path)
        assert [line.startswith(f"notesearch: skipped {shown(path)}: ") for line in reported] == [True]
    elif kind in ("indexed", "warned"):
        assert path in manifest.files and path not in manifest.skipped
        warnings = [line for line in reported if not line.startswith("notesearch: skipped")]
        assert [detail in line for line in warnings] == ([True] if kind == "warned" else [])
    elif kind == "inside":
        assert any(name.startswith(path + "/") for name in manifest.files)
    else:
        assert not any(name == path or name.startswith(path + "/") for name in [*manifest.files, *manifest.skipped])
        assert reported == []
    if case.query:
        with open_index(str(index), embedder=embedder) as opened:
            hits = search(opened, case.query, mode="keyword", k=3).hits
            found = hits[0].passage.path if hits else ""
            assert found == path or (kind == "inside" and found.startswith(path + "/")), \
                (case.query, [h.passage.path for h in hits])


@pytest.mark.slow
def test_good_notes_beside_the_hostile_ones_are_all_found(hostile, embedder):
    notes, index, _done, _peak = hostile
    with open_index(str(index), embedder=embedder) as opened:
        for name in GOOD:
            number = name.split("-")[-1].removesuffix(".md")
            for mode in ("keyword", "hybrid"):
                hits = search(opened, f"goodnote{number}", mode=mode).hits
                assert hits and hits[0].passage.path == str(notes / name), (name, mode)


@pytest.mark.slow
def test_nothing_outside_the_folder_is_indexed(hostile, embedder):
    notes, index, _done, _peak = hostile
    manifest = read_manifest(str(index))
    assert all(path.startswith(str(notes) + os.sep) for path in manifest.files)
    with open_index(str(index), embedder=embedder) as opened:
        assert search(opened, OUTSIDE, mode="keyword").hits == ()
        assert not any(OUTSIDE in p.text or "root:" in p.text for p in opened.passages())


@pytest.mark.slow
def test_the_index_of_hostile_notes_is_private_and_stays_so_after_an_update(hostile):
    notes, index, _done, _peak = hostile
    check_private(index)
    (notes / "good" / "good-1.md").write_text(GOOD["good/good-1.md"] + "\n更新 updatedgood。\n", encoding="utf-8")
    done, _peak = index_in_child(notes, index)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-3000:]
    assert done.stdout.startswith("added 0, updated 1, removed 0"), done.stdout
    assert read_manifest(str(index)).generation == 2
    check_private(index)


@pytest.mark.slow
def test_searching_and_opening_hostile_notes_prints_no_raw_control_character(hostile):
    notes, index, _done, _peak = hostile
    commands = [["search", query, "--mode", "keyword", "-k", "3", "--no-server"]
                for query in ("escapenote", "escname", "newlinename", "bidinote", "yamlsurrogate")]
    commands += [["get", f"{notes}/escapes.md:3"], ["get", f"{notes}/esc\x1b[2Jname.md:1"],
                 ["get", f"{notes}/bidi.md:1", "--context", "5"]]
    for command in commands:
        done = subprocess.run([sys.executable, str(ROOT / "cli.py"), *command, "--index", str(index)], cwd=ROOT,
                              capture_output=True, text=True, timeout=120, env=dict(os.environ, NO_COLOR="1"),
                              check=False)
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
        assert not [ch for ch in done.stdout + done.stderr
                    if ch != "\n" and (ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 or ch == "\u202e")], done.stdout


@pytest.mark.slow
def test_a_name_that_is_not_utf8_round_trips_through_path_line(hostile, embedder):
    notes, index, _done, _peak = hostile
    raw_path = os.fsdecode(os.path.join(os.fsencode(notes), b"bad\xff\xfename.md"))
    with open_index(str(index), embedder=embedder) as opened:
        shown_path = search(opened, "badbytesname", mode="keyword").hits[0].passage.path
        assert shown_path == f"{notes}/bad\\xff\\xfename.md"
        for given in (shown_path, raw_path, "bad\\xff\\xfename.md"):  # the last relative to the notes folder
            found = locate(opened, f"{given}:1", cwd=str(notes))
            assert found.path == shown_path, given
        for given in (shown_path, raw_path):  # `get PATH:LINE` reads the note from disk
            assert excerpt(opened, given, 1).lines == ("badbytesname words",), given
