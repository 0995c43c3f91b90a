"""The model cache: weights converted once, mapped after, converted again when anything about them changes."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from indexer import model_cache
from indexer.model_cache import ARRAYS, MANIFEST, cache_folder, converted


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "weights.bin"
    path.write_bytes(b"the package's weights, version 1")
    return path


class Converter:
    """Counts its conversions; makes arrays from the source's bytes (so another source, other arrays)."""

    def __init__(self, source):
        self.source, self.calls = source, 0

    def __call__(self) -> dict[str, np.ndarray]:
        self.calls += 1
        data = np.frombuffer(self.source.read_bytes(), dtype=np.uint8)
        return {"table": np.outer(data, np.arange(3, dtype=np.float32)), "scale": np.array([0.5]),
                "keys": np.array([b"a", b"bc"], dtype="S2"), "empty": np.zeros((0, 4), dtype=np.int32)}


def convert_twice(tmp_path, source, layout=1):
    convert = Converter(source)
    first = converted("m", layout, "numpy", [source], convert, tmp_path / "cache")
    again = converted("m", layout, "numpy", [source], convert, tmp_path / "cache")
    return convert, first, again


def test_a_model_is_converted_once_then_mapped(tmp_path, source):
    convert, first, again = convert_twice(tmp_path, source)
    assert convert.calls == 1
    for name, array in convert().items():
        np.testing.assert_array_equal(first[name], array)
        np.testing.assert_array_equal(again[name], array)
        assert again[name].dtype == array.dtype and again[name].shape == array.shape
    assert not again["table"].flags.writeable  # a view of the mapped file, not a copy
    assert sorted(os.listdir(tmp_path / "cache" / "m")) == [ARRAYS, MANIFEST]


@pytest.mark.parametrize("damage", ["flip a byte", "truncate", "zero", "drop the manifest", "garbage manifest",
                                    "foreign manifest", "another version", "another layout"])
def test_a_damaged_or_foreign_conversion_is_never_trusted(tmp_path, source, damage):
    convert, _first, _again = convert_twice(tmp_path, source)
    folder = tmp_path / "cache" / "m"
    data, manifest = (folder / ARRAYS).read_bytes(), json.loads((folder / MANIFEST).read_text())
    if damage == "flip a byte":
        (folder / ARRAYS).write_bytes(data[:40] + bytes([data[40] ^ 1]) + data[41:])
    elif damage == "truncate":
        (folder / ARRAYS).write_bytes(data[:-64])
    elif damage == "zero":
        (folder / ARRAYS).write_bytes(bytes(len(data)))
    elif damage == "drop the manifest":
        (folder / MANIFEST).unlink()
    elif damage == "garbage manifest":
        (folder / MANIFEST).write_bytes(b"\x00{not json")
    elif damage == "foreign manifest":
        (folder / MANIFEST).write_text(json.dumps({**manifest, "arrays": {"table": {"dtype": "|O", "shape": [1],
                                                                                    "offset": 0}}}))
    elif damage == "another version":
        (folder / MANIFEST).write_text(json.dumps({**manifest, "version": "0.0.1"}))
    arrays = converted("m", 2 if damage == "another layout" else 1, "numpy", [source], convert, tmp_path / "cache")
    assert convert.calls == 2
    np.testing.assert_array_equal(arrays["table"], convert()["table"])
    convert.calls = 0
    converted("m", 2 if damage == "another layout" else 1, "numpy", [source], convert, tmp_path / "cache")
    assert convert.calls == 0  # the conversion was written again, and is trusted again


def test_a_changed_source_is_converted_again_and_a_touched_one_is_not(tmp_path, source):
    convert, _first, _again = convert_twice(tmp_path, source)
    os.utime(source, ns=(1, 1))  # the same bytes, another time: a reinstall of the same version
    converted("m", 1, "numpy", [source], convert, tmp_path / "cache")
    assert convert.calls == 1
    source.write_bytes(b"the package's weights, version 2")
    arrays = converted("m", 1, "numpy", [source], convert, tmp_path / "cache")
    assert convert.calls == 2
    np.testing.assert_array_equal(arrays["table"], convert()["table"])


def test_a_touched_source_is_hashed_once_then_trusted_by_its_new_time(tmp_path, source, monkeypatch):
    """A reinstall of the same version (or another environment's copy of it) is hashed at the first load, not at
    every one: 71 MB of e5-small's weights took 60 ms of each cold search."""
    convert, _first, _again = convert_twice(tmp_path, source)
    os.utime(source, ns=(1, 1))
    hashed = []
    real_hash = model_cache.file_sha256
    monkeypatch.setattr(model_cache, "file_sha256", lambda path: hashed.append(path) or real_hash(path))
    for _ in range(3):
        converted("m", 1, "numpy", [source], convert, tmp_path / "cache")
    assert convert.calls == 1 and len(hashed) == 1
    recorded = json.loads((tmp_path / "cache" / "m" / MANIFEST).read_text())["sources"][0]
    assert recorded["mtime_ns"] == 1 and recorded["sha256"] == real_hash(str(source))


def test_an_unwritable_cache_gives_the_arrays_converted_in_memory(tmp_path, source):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would be")
    convert = Converter(source)
    for _ in range(2):
        arrays = converted("m", 1, "numpy", [source], convert, blocker / "cache")
        np.testing.assert_array_equal(arrays["table"], convert()["table"])
    assert convert.calls == 4  # converted every time (two calls each: the test's and the cache's)


def test_the_cache_follows_xdg_cache_home(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_folder() == tmp_path / "xdg" / "notesearch" / "models"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_folder() == tmp_path / "home" / ".cache" / "notesearch" / "models"


def test_arrays_of_python_objects_are_refused(tmp_path, source):
    with pytest.raises(ValueError, match="Python objects"):
        model_cache._write(tmp_path / "m", {"format": 1}, [source], {"bad": np.array([object()])})
