"""Finding, reading and decoding note files: encodings, odd files, front matter."""

from __future__ import annotations

import codecs
import os

import pytest

from corpus.reading import MAX_NOTE_BYTES, NoteFile, decode, find_note_files, parse_note, read_bytes

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
])
def test_note_encodings_decode_to_the_same_text(data, text):
    assert decode(data) == text


@pytest.mark.parametrize("data, reason", [
    (bytes(range(256)) * 4, "binary"),
    (b"\x89PNG\r\n\x1a\n" + bytes(200), "binary"),
    (CHINESE.encode("utf-16-le"), "binary"),  # UTF-16 without a BOM cannot be told from binary
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
