"""Finding, reading and decoding note files: encodings, odd files, front matter."""

from __future__ import annotations

import codecs
import os

import pytest

from corpus.decoding import decode
from corpus.frontmatter import MAX_TAGS, MAX_TITLE_CHARS
from corpus.paths import display_path
from corpus.reading import MAX_NOTE_BYTES, NoteFile, find_note_files, parse_note, read_bytes

CHINESE = "# 扩散模型\n\n扩散模型通过逐步去噪生成图像。\n"
LATIN = "# Café\n\nLe café était très noir, déjà froid à côté de la crêpe.\n"


@pytest.mark.parametrize("data, text", [
    (CHINESE.encode("utf-8"), CHINESE),
    (codecs.BOM_UTF8 + CHINESE.encode("utf-8"), CHINESE),
    (CHINESE.encode("utf-16"), CHINESE),  # with its BOM (little endian here)
    (codecs.BOM_UTF16_BE + CHINESE.encode("utf-16-be"), CHINESE),
    (CHINESE.encode("gbk"), CHINESE),
    ("# 𠮷野家\n\n中文笔记。\n".encode("gb18030"), "# 𠮷野家\n\n中文笔记。\n"),
    (LATIN.encode("latin-1"), LATIN),
    (b"", ""),
    (CHINESE.encode("utf-16-le"), CHINESE),  # UTF-16 without a BOM, told by the NULs of its ASCII
    (CHINESE.encode("utf-16-be"), CHINESE),
    ("# Notes\n\nplain English in UTF-16\n".encode("utf-16-le"), "# Notes\n\nplain English in UTF-16\n"),
])
def test_note_encodings_decode_to_the_same_text(data, text):
    decoded = decode(data)
    assert (decoded.text, decoded.warnings) == (text, ())


@pytest.mark.parametrize("data, text, warning", [
    (CHINESE.encode("utf-8") + b"\xff", CHINESE + "\ufffd", "1 byte is not valid UTF-8"),
    (CHINESE.encode("utf-8") + "中".encode()[:2], CHINESE + "\ufffd", "ends in the middle of a character"),
    (CHINESE.encode("utf-8")[:8] + b"\x80\x80" + (CHINESE * 2).encode("utf-8")[8:],
     CHINESE[:4] + "\ufffd\ufffd" + (CHINESE * 2)[4:], "2 bytes are not valid UTF-8"),
    (CHINESE.encode("utf-16-le") + b"\x0a", CHINESE + "\ufffd", "ends in the middle of a character"),
])
def test_nearly_valid_text_is_decoded_with_replacement_and_a_warning(data, text, warning):
    decoded = decode(data)
    assert decoded.text == text
    assert len(decoded.warnings) == 1 and warning in decoded.warnings[0]


def test_a_stray_byte_in_a_long_chinese_note_keeps_the_note():
    decoded = decode((CHINESE * 25).encode("utf-8") + b"\xff" + (CHINESE * 25).encode("utf-8"))
    assert decoded.encoding == "utf-8" and decoded.text.count("\ufffd") == 1


@pytest.mark.parametrize("data", ["扩散模型".encode() + b"\xff", "# 笔记\n\n掩码".encode() + b"\x80" + "学习。\n".encode(),
                                  b"\xfe" + "自监督".encode()])
def test_a_short_chinese_note_with_one_stray_byte_is_that_note_not_a_binary_file(data):
    decoded = decode(data)
    assert decoded.encoding == "utf-8" and "\ufffd" in decoded.text
    assert decoded.warnings == ("1 byte is not valid UTF-8 (shown as \ufffd)",)


def test_latin1_with_one_accent_is_not_read_as_broken_utf8():
    data = ("plain English text " * 200 + "café").encode("latin-1")
    assert decode(data).text.endswith("café")


@pytest.mark.parametrize("data, reason", [
    (bytes(range(256)) * 4, "binary"),
    (b"\x89PNG\r\n\x1a\n" + bytes(200), "binary"),
    (b"\x00\x01\x00\x02" * 100, "binary"),  # NULs at both offsets: not UTF-16
    (codecs.BOM_UTF16_LE + b"\x00\xd8", "invalid utf-16"),  # a lone surrogate
])
def test_binary_or_broken_data_is_refused_with_a_reason(data, reason):
    with pytest.raises(ValueError, match=reason):
        decode(data)


def _file(path) -> NoteFile:
    return NoteFile(str(path), str(path.parent))


def test_read_bytes_refuses_a_fifo_named_like_a_note_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.md"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="not a regular file"):
        read_bytes(_file(fifo))


def test_read_bytes_names_broken_and_looping_symbolic_links(tmp_path):
    (tmp_path / "broken.md").symlink_to(tmp_path / "missing.md")
    (tmp_path / "a.md").symlink_to(tmp_path / "b.md")
    (tmp_path / "b.md").symlink_to(tmp_path / "a.md")
    with pytest.raises(ValueError, match="broken symbolic link"):
        read_bytes(_file(tmp_path / "broken.md"))
    with pytest.raises(ValueError, match="symbolic link loop"):
        read_bytes(_file(tmp_path / "a.md"))


def test_read_bytes_refuses_files_over_the_size_limit_without_reading_them_whole(tmp_path):
    big = tmp_path / "big.md"
    with big.open("wb") as f:
        f.truncate(MAX_NOTE_BYTES * 3)  # sparse: no disk space used
    with pytest.raises(ValueError, match=r"larger than 2 MB \(6 MB\)"):
        read_bytes(_file(big))
    edge = tmp_path / "edge.md"
    edge.write_bytes(b"a" * MAX_NOTE_BYTES)
    assert len(read_bytes(_file(edge))) == MAX_NOTE_BYTES


def test_read_bytes_of_a_deleted_file_raises_os_error(tmp_path):
    gone = tmp_path / "gone.md"
    gone.write_text("x", encoding="utf-8")
    found = _file(gone)
    gone.unlink()
    with pytest.raises(FileNotFoundError):
        read_bytes(found)


def test_find_note_files_skips_other_suffixes_hidden_folders_and_excluded_globs(tmp_path):
    for name in ("a.md", "b.txt", "c.markdown", "d.py", ".hidden/e.md", "sub/f_origin.md", "sub/g.md"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x", encoding="utf-8")
    (tmp_path / "dir.md").mkdir()  # a folder named like a note is walked, not read
    (tmp_path / "dir.md" / "h.md").write_text("x", encoding="utf-8")
    files, skipped = find_note_files([tmp_path, tmp_path / "nowhere"], exclude=["*_origin.md"])
    names = [os.path.relpath(f.path, tmp_path) for f in files]
    assert names == ["a.md", "b.txt", "c.markdown", os.path.join("dir.md", "h.md"), os.path.join("sub", "g.md")]
    assert [s.reason for s in skipped] == ["no such file or folder"]


def test_front_matter_is_metadata_and_line_numbers_stay_those_of_the_file():
    note = parse_note("n.md", "---\ntitle: 标题\ntags: [a, b]\n---\n正文\n")
    assert (note.title, note.tags, note.body_line, note.text) == ("标题", ("a", "b"), 5, "正文\n")


def test_broken_front_matter_is_dropped_not_read_as_body():
    note = parse_note("n.md", "---\ntitle: [unclosed\n---\n正文\n")
    assert (note.body_line, note.text, note.title) == (4, "正文\n", "n")
    assert note.warnings and note.warnings[0].startswith("front matter not read (")


def _yaml_bomb(levels: int = 8, width: int = 9) -> str:
    """The issue's 349-byte header: each level a list of aliases of the one before, so it expands width**levels times."""
    lines = ["a: &a [" + ",".join(["x"] * width) + "]"]
    names = "abcdefghijklmnop"
    for n in range(1, levels):
        lines.append(f"{names[n]}: &{names[n]} [" + ",".join([f"*{names[n - 1]}"] * width) + "]")
    lines.append(f"title: *{names[levels - 1]}")
    return "---\n" + "\n".join(lines) + "\n---\n# 正文\n\nbody text\n"


@pytest.mark.parametrize("text, problem", [
    (_yaml_bomb(), "aliases are not allowed"),
    ("---\nbase: &b {t: 1}\nother:\n  <<: *b\n---\nbody text\n", "aliases are not allowed"),
    ("---\ntitle: " + "9" * 5000 + "\n---\nbody text\n", "front matter not read"),
    ("---\ntitle: " + "[" * 2000 + "]" * 2000 + "\n---\nbody text\n", "front matter not read"),
    ("---\ntitle: !!python/object:os.system x\n---\nbody text\n", "front matter not read"),
    ("---\n" + "k: v\n" * 20_000 + "---\nbody text\n", "front matter over 64 KB"),
    ("---\n? [a, b]\n: c\n---\nbody text\n", "front matter not read"),
])
def test_a_hostile_front_matter_is_skipped_with_a_reason_and_the_body_kept(text, problem):
    note = parse_note("n.md", text)
    assert "body text" in note.text and "---" not in note.text
    assert note.title in ("n", "正文")
    assert len(note.warnings) == 1 and problem in note.warnings[0]


def test_the_yaml_bomb_of_the_issue_is_small_and_read_at_once():
    assert len(_yaml_bomb().split("\n---\n")[0]) < 400
    note = parse_note("n.md", _yaml_bomb())
    assert note.body_line == 12 and note.title == "正文"


def test_front_matter_fields_shown_in_every_passage_are_bounded():
    text = "---\ntitle: " + "长" * 5000 + "\ntags: [" + ", ".join(f"t{n}" for n in range(1000)) + "]\n---\nbody\n"
    note = parse_note("n.md", text)
    assert len(note.title) == MAX_TITLE_CHARS and len(note.tags) == MAX_TAGS


@pytest.mark.parametrize("path, shown", [
    ("/notes/plain.md", "/notes/plain.md"),
    ("/notes/中文.md", "/notes/中文.md"),
    (os.fsdecode(b"/notes/bad\xff.md"), "/notes/bad\\xff.md"),
    (os.fsdecode(b"/n\xfe\xfe/x.md"), "/n\\xfe\\xfe/x.md"),
])
def test_display_path_writes_bytes_that_are_not_utf8_as_escapes(path, shown):
    assert display_path(path) == shown
    display_path(path).encode("utf-8")


def test_a_note_whose_name_is_not_utf8_is_found_under_its_shown_name(tmp_path):
    (tmp_path / "ok.md").write_text("x", encoding="utf-8")
    raw = os.path.join(os.fsencode(tmp_path), b"bad\xff.md")
    with open(raw, "wb") as f:
        f.write(b"# bad name\n")
    files, skipped = find_note_files([tmp_path])
    assert skipped == []
    assert [f.path for f in files] == [f"{tmp_path}/bad\\xff.md", f"{tmp_path}/ok.md"]
    assert read_bytes(files[0]) == b"# bad name\n"


def test_symbolic_links_to_files_outside_the_indexed_folders_are_skipped(tmp_path):
    notes, outside = tmp_path / "notes", tmp_path / "outside"
    (notes / "sub").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.md").write_text("secret", encoding="utf-8")
    (notes / "real.md").write_text("real", encoding="utf-8")
    (notes / "sub" / "inner.md").symlink_to(notes / "real.md")
    (notes / "shadow.md").symlink_to("/etc/shadow")
    (notes / "secret.md").symlink_to(outside / "secret.md")
    (notes / "relative.md").symlink_to("../outside/secret.md")
    files, skipped = find_note_files([notes])
    assert sorted(os.path.relpath(f.path, notes) for f in files) == ["real.md", os.path.join("sub", "inner.md")]
    reason = "symbolic link to a file outside the indexed folders: not followed"
    assert sorted((os.path.basename(s.path), s.reason) for s in skipped) == [
        ("relative.md", reason), ("secret.md", reason), ("shadow.md", reason)]
    # Indexed together with the folder it points into, or named by itself, it is read.
    files, skipped = find_note_files([notes, outside])
    assert "secret.md" in {os.path.basename(f.path) for f in files if f.path.startswith(str(notes))}
    files, skipped = find_note_files([notes / "secret.md"])
    assert [f.path for f in files] == [str(notes / "secret.md")] and skipped == []


def test_front_matter_escapes_give_no_lone_surrogates():
    note = parse_note("n.md", '---\ntitle: "a\\udcff b"\ntags: ["\\ud800", ok]\ndate: 2024-13-45\n---\nbody\n')
    assert (note.title, note.tags, note.date) == ("a\ufffd b", ("\ufffd", "ok"), "2024-13-45")
    note.title.encode("utf-8")


def test_a_note_is_read_only_when_the_file_opened_lies_in_the_folders(tmp_path):
    from corpus.errors import OutsideFolders
    from corpus.reading import resolved_roots

    notes, outside = tmp_path / "notes", tmp_path / "outside"
    notes.mkdir()
    outside.mkdir()
    (outside / "secret.md").write_text("secret\n", encoding="utf-8")
    (notes / "a.md").write_text("mine\n", encoding="utf-8")
    (notes / "inner.md").symlink_to(notes / "a.md")
    (notes / "out.md").symlink_to(outside / "secret.md")
    folders = resolved_roots([notes])
    assert read_bytes(NoteFile(str(notes / "a.md"), str(notes)), folders) == b"mine\n"
    assert read_bytes(NoteFile(str(notes / "inner.md"), str(notes)), folders) == b"mine\n"  # a link inside is fine
    with pytest.raises(OutsideFolders, match="outside the indexed folders"):
        read_bytes(NoteFile(str(notes / "out.md"), str(notes)), folders)


def test_a_note_swapped_for_a_link_out_after_it_was_found_is_skipped_not_indexed(tmp_path, monkeypatch):
    from indexer import scan as scanning

    notes, outside = tmp_path / "notes", tmp_path / "outside"
    notes.mkdir()
    outside.mkdir()
    (outside / "secret.md").write_text("secret\n", encoding="utf-8")
    (notes / "a.md").write_text("mine\n", encoding="utf-8")
    found = scanning.find_note_files

    def swap_after_finding(*args):
        files, skipped = found(*args)
        (notes / "a.md").unlink()
        (notes / "a.md").symlink_to(outside / "secret.md")
        return files, skipped

    monkeypatch.setattr(scanning, "find_note_files", swap_after_finding)
    result = scanning.scan([str(notes)], (), None)
    assert result.files == {} and [(s.path, s.reason) for s in result.skipped] == [
        (str(notes / "a.md"), "a symbolic link to a file outside the indexed folders: not read")]
