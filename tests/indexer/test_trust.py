"""An index folder from elsewhere writes nowhere else and is refused when it is not yours alone:
the lock is opened without following links and never truncated; a folder of another user's, or one
others can write to, is refused with one line, as ssh refuses a key with loose permissions."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import ROOT

from corpus.errors import UntrustedIndex
from indexer import build
from indexer.generations import writer_lock
from search import open_index

NOTES = {"a.md": "# 扩散模型\n\n扩散模型通过逐步去噪生成图像。\n"}
BASHRC = b"export PATH=$HOME/bin:$PATH\n"


@pytest.fixture
def victim(tmp_path):
    path = tmp_path / "bashrc"
    path.write_bytes(BASHRC)
    return path


def test_a_lock_that_is_a_symbolic_link_leaves_its_target_untouched(tmp_path, victim, notes_dir, embedder):
    index = tmp_path / "index"
    index.mkdir(mode=0o700)
    os.symlink(victim, index / "lock")
    with pytest.raises(UntrustedIndex, match="lock file .* is a symbolic link: remove it"):
        build([str(notes_dir(NOTES))], str(index), embedder=embedder)
    assert victim.read_bytes() == BASHRC and sorted(os.listdir(index)) == ["lock"]


def test_a_lock_that_is_a_hard_link_leaves_the_other_file_untouched(tmp_path, victim):
    index = tmp_path / "index"
    index.mkdir(mode=0o700)
    os.link(victim, index / "lock")
    with pytest.raises(UntrustedIndex, match="not a plain file of yours with one name"), writer_lock(str(index)):
        pass
    assert victim.read_bytes() == BASHRC


def test_the_lock_is_never_truncated_or_written(tmp_path):
    index = tmp_path / "index"
    index.mkdir(mode=0o700)
    (index / "lock").write_bytes(b"29339")
    with writer_lock(str(index), wait=0):
        pass
    assert (index / "lock").read_bytes() == b"29339"


@pytest.fixture
def built(tmp_path, notes_dir, embedder) -> str:
    index = str(tmp_path / "index")
    build([str(notes_dir(NOTES))], index, embedder=embedder)
    return index


@pytest.mark.parametrize("mode", [0o777, 0o720, 0o702])
def test_an_index_folder_others_can_write_to_is_refused_by_search_and_build(built, mode, embedder):
    os.chmod(built, mode)
    with pytest.raises(UntrustedIndex, match=rf"others can write to it \(mode {mode:03o}\): make it yours alone "
                                            rf"with 'chmod go-w {built}'"):
        open_index(built, embedder=embedder)
    with pytest.raises(UntrustedIndex):
        build(None, built, embedder=embedder)
    assert os.stat(built).st_mode & 0o777 == mode  # not "fixed" behind the user's back


def test_a_new_index_in_a_folder_others_can_write_to_is_made_private(tmp_path, notes_dir, embedder):
    index = tmp_path / "index"
    index.mkdir()
    os.chmod(index, 0o775)  # an empty folder the user made under umask 002: nothing in it to trust yet
    build([str(notes_dir(NOTES))], str(index), embedder=embedder)
    assert os.stat(index).st_mode & 0o777 == 0o700


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a folder to another user needs root")
def test_an_index_folder_of_another_user_is_refused(built, embedder):
    os.chown(built, 65534, -1)
    try:
        with pytest.raises(UntrustedIndex, match="it belongs to another user .uid 65534."):
            open_index(built, embedder=embedder)
    finally:
        os.chown(built, 0, -1)


def test_the_command_line_says_why_in_one_line(built):
    os.chmod(built, 0o777)
    done = subprocess.run([sys.executable, str(ROOT / "cli.py"), "search", "扩散模型", "--index", built,
                           "--no-server", "--mode", "keyword"], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [(
        f"notesearch: refusing the index at {built}: others can write to it (mode 777): make it yours alone with "
        f"'chmod go-w {built}'")]


def test_making_the_index_private_does_not_follow_a_link_out(built, tmp_path, victim, notes_dir, embedder):
    os.chmod(victim, 0o644)
    os.symlink(victim, os.path.join(built, "planted"))
    build(None, built, embedder=embedder)
    assert os.stat(victim).st_mode & 0o777 == 0o644
