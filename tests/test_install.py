"""Installed as a user installs it: a wheel built from a clean copy of the tracked files, and `pip install` of that
copy, each into a fresh virtual environment outside the checkout, run from another folder.

A clean copy holds only what `git ls-files` lists (with the working tree's edits), so a stray file of the
checkout cannot make a broken package work. The commands run with HOME and XDG_CACHE_HOME in a temporary
folder and no path into the checkout, so they can only use what was installed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from importlib.metadata import version
from pathlib import Path

import anyio
import pytest
from conftest import ROOT
from mcp import ClientSession, StdioServerParameters, stdio_client

pytestmark = pytest.mark.slow

PACKAGES = ("corpus", "indexer", "search")
NOTES = {
    "papers.md": "# 论文\n\n|年份|作者/标题|注释|\n|---|---|---|\n"
                 "|2014|Ian J. Goodfellow和Yoshua Bengio，*Generative Adversarial Nets*|生成器与判别器对抗训练，GAN。|\n"
                 "|2015|Kaiming He和Jian Sun，*Deep Residual Learning for Image Recognition*|残差连接让很深的网络能够训练。|\n"
                 "|2017|Ashish Vaswani和Noam Shazeer，*Attention is All You Need*|Transformer 只用注意力，不用循环。|\n"
                 "|2019|Jacob Devlin和Kenton Lee，*BERT: Pre-training of Deep Bidirectional Transformers*|"
                 "在 Transformer 上做掩码语言模型预训练。|\n",
    "trends.md": "# 趋势\n\n## 自监督\n\n掩码自编码器（MAE）让视觉模型在无标注图像上做**自监督**预训练。\n\n"
                 "Contrastive learning pulls two views of one image together.\n",
}


def _tracked_copy(target: Path) -> Path:
    """The files `git ls-files` lists, as they are in the working tree, copied into `target`."""
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        pytest.skip("needs a git checkout to tell the tracked files from stray ones")
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, listed.split(b"\0")):
        source = ROOT / os.fsdecode(name)
        if source.is_file():  # a tracked file deleted in the working tree stays out, as in a commit of its deletion
            (target / os.fsdecode(name)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / os.fsdecode(name))
    return target


def _pip(*args: str) -> None:
    """pip of the test's environment, with its configuration and cache (installs need no network here)."""
    done = subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
                          capture_output=True, text=True, check=False, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def _fresh_env(folder: Path, requirement: str) -> Path:
    """A new virtual environment in `folder` with `requirement` installed; its bin folder."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True, timeout=120)
    _pip("--python", str(folder / "bin" / "python"), "install", "--quiet", requirement)
    return folder / "bin"


class User:
    """Runs the installed commands from a folder of their own, with a home and caches of their own."""

    def __init__(self, bin_dir: Path, home: Path):
        self.bin = bin_dir
        self.cwd = home / "elsewhere"
        self.cwd.mkdir(parents=True)
        self.env = {"PATH": f"{bin_dir}{os.pathsep}/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
                    "XDG_CACHE_HOME": str(home / "cache"), "HF_HUB_OFFLINE": "1", "NO_COLOR": "1",
                    "PYTHONHASHSEED": "0", "TMPDIR": str(home)}

    def run(self, *args: str) -> str:
        done = subprocess.run([str(self.bin / "notesearch"), *args], cwd=self.cwd, env=self.env, capture_output=True,
                              text=True, check=False, timeout=600)
        assert done.returncode == 0, f"notesearch {' '.join(args)}: {done.stderr}"
        return done.stdout

    def json(self, *args: str) -> dict:
        return json.loads(self.run(*args, "--json"))

    def imported_from(self) -> dict[str, str]:
        """Where the installed interpreter finds the top-level modules and packages."""
        code = ("import json, importlib; print(json.dumps({name: importlib.import_module(name).__file__ "
                f"for name in {(*PACKAGES, 'cli', 'cli_render', 'cli_served')!r}}}))")
        done = subprocess.run([str(self.bin / "python"), "-c", code], cwd=self.cwd, env=self.env, capture_output=True,
                              text=True, check=True, timeout=60)
        return json.loads(done.stdout)

    def mcp_tools(self, index: str) -> set[str]:
        """The tools `notesearch mcp` lists to a real MCP client over stdio."""

        async def main():
            params = StdioServerParameters(command=str(self.bin / "notesearch"), args=["mcp", "--index", index],
                                           cwd=str(self.cwd), env=self.env)
            async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
                await session.initialize()
                return {tool.name for tool in (await session.list_tools()).tools}

        return anyio.run(main)


@pytest.fixture(scope="module")
def clean_copy(tmp_path_factory) -> Path:
    return _tracked_copy(tmp_path_factory.mktemp("clone") / "notesearch")


@pytest.fixture(scope="module")
def notes(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("user") / "notes"
    folder.mkdir()
    for name, text in NOTES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _packages_of(folder: Path) -> set[str]:
    """Every package under `folder` (a folder with an __init__.py) as a dotted name."""
    return {".".join(init.parent.relative_to(folder).parts) for package in PACKAGES
            for init in (folder / package).rglob("__init__.py")}


def test_a_wheel_from_a_clean_copy_holds_every_package_and_runs_from_another_folder(clean_copy, notes, tmp_path):
    _pip("wheel", "--quiet", "--no-deps", "--wheel-dir", str(tmp_path / "dist"), str(clean_copy))
    (wheel,) = (tmp_path / "dist").glob("notesearch-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    in_wheel = {os.path.dirname(name).replace("/", ".") for name in names if name.endswith("/__init__.py")}
    assert in_wheel == _packages_of(clean_copy)
    assert {f"{package}/py.typed" for package in PACKAGES} <= names
    assert {f"corpus/notes/{note.name}" for note in (clean_copy / "corpus" / "notes").glob("*.md")} <= names
    assert "corpus/bundled_vectors.npz" in names  # the demo index's vectors: a new user's first search embeds nothing
    assert "indexer/e5_maxima.npz" in names  # the 8-bit queries' smoothing: no 20 s measurement at a first query

    user = User(_fresh_env(tmp_path / "env", f"{wheel}[mcp]"), tmp_path / "home")
    assert all(path.startswith(str(tmp_path / "env")) for path in user.imported_from().values())
    assert user.run("--version") == f"notesearch {version('notesearch')}\n"
    index = str(tmp_path / "home" / "index")
    user.run("index", str(notes), "--index", index, "--quiet")
    assert "(4 paper records)" in user.run("stats", "--index", index)
    found = user.json("search", "自监督 视觉", "--index", index)["hits"]
    assert found[0]["path"].endswith("trends.md") and "**自监督**" in found[0]["snippet"]
    related = user.json("related", "Attention is All You Need", "--index", index, "-k", "2")
    assert related["anchor"]["year"] == 2017 and len(related["hits"]) == 2
    got = user.json("get", f"{found[0]['path']}:{found[0]['line_start']}", "--index", index)
    assert got["text"] == found[0]["text"]
    assert user.mcp_tools(index) == {"search", "related", "get", "status"}


def test_pip_install_of_a_clean_copy_indexes_and_searches_from_another_folder(clean_copy, notes, tmp_path):
    user = User(_fresh_env(tmp_path / "env", str(clean_copy)), tmp_path / "home")
    assert all(path.startswith(str(tmp_path / "env")) for path in user.imported_from().values())
    index = str(tmp_path / "home" / "index")
    user.run("index", str(notes), "--index", index, "--quiet")
    found = user.json("search", "Generative Adversarial Nets", "--index", index, "--mode", "keyword")["hits"]
    assert found[0]["title"] == "Generative Adversarial Nets" and found[0]["path"].endswith("papers.md")
