"""The runner's work-dir handling and tree removal, on the host (no Docker).

The removal runs as an unprivileged uid where the host test runs as root: a sample's uid has no
DAC_OVERRIDE, so the fallback (give a dir back its owner's rights, then open it) is what runs.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from humaneval_lab.sandbox.runner import guard

NOBODY = 65534


def _build_and_remove(top: str, outside: str) -> bool:
    """What a sample may leave in its work dir, then the runner's removal of it."""
    d = os.path.join(top, "a")
    chain = []
    for _ in range(3):  # nested dirs, each with a file, every permission taken off (innermost first)
        os.makedirs(d)
        open(os.path.join(d, "f"), "w").close()
        chain.append(d)
        d = os.path.join(d, "b")
    cur = os.path.join(top, "deep")
    os.mkdir(cur)
    for _ in range(1200):  # deeper than the recursion limit, one level at a time
        os.mkdir(os.path.join(cur, "d"))
        cur = os.path.join(cur, "d")
    os.symlink(outside, os.path.join(top, "link"))
    for path in reversed(chain):
        os.chmod(path, 0)
    return guard.remove_tree(top)


def test_remove_tree_takes_mode_000_nested_dirs_and_deep_trees() -> None:
    # A dir a sample's uid can reach (pytest's tmp dirs are root's, 0700).
    base = tempfile.mkdtemp(prefix="hel-test-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    try:
        os.chmod(base, 0o755)
        outside = os.path.join(base, "outside")
        os.mkdir(outside)
        with open(os.path.join(outside, "keep"), "w") as f:
            f.write("not the sample's")
        top = os.path.join(base, "job0")
        os.mkdir(top)
        if os.geteuid() == 0:
            os.chown(top, NOBODY, NOBODY)
            os.chown(base, NOBODY, NOBODY)  # it removes job0 itself too
        pid = os.fork()
        if pid == 0:  # as the tree's owner, a sample's uid without DAC_OVERRIDE: chmod, then open
            code = 1
            try:
                if os.geteuid() == 0:
                    os.setgroups([])
                    os.setresgid(NOBODY, NOBODY, NOBODY)
                    os.setresuid(NOBODY, NOBODY, NOBODY)
                code = 0 if _build_and_remove(top, outside) else 1
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert not os.path.exists(top)
        with open(os.path.join(outside, "keep")) as f:
            assert f.read() == "not the sample's"  # never through the symlink
    finally:
        guard.remove_tree(base)


def test_remove_tree_of_a_file_a_link_or_nothing(tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_text("x")
    link = tmp_path / "l"
    link.symlink_to(tmp_path)
    assert guard.remove_tree(str(f)) and not f.exists()
    assert guard.remove_tree(str(link)) and not link.is_symlink() and tmp_path.is_dir()
    assert guard.remove_tree(str(tmp_path / "absent"))


def test_new_dir_replaces_a_leftover(tmp_path: Path) -> None:
    old = tmp_path / "job0"
    (old / "sub").mkdir(parents=True)
    (old / "sub" / "left").write_text("x")
    got = guard.new_dir(str(old), None)
    assert got == str(old) and os.listdir(got) == []
    assert (os.stat(got).st_mode & 0o777) == 0o700


def test_write_files_refuses_to_escape_and_to_follow_links(tmp_path: Path) -> None:
    work = tmp_path / "w"
    work.mkdir()
    guard.write_files(str(work), {"a/b/c.txt": "deep", "top.py": "é"}, None)
    assert (work / "a" / "b" / "c.txt").read_text() == "deep" and (work / "top.py").read_text() == "é"
    with pytest.raises(ValueError, match="escapes"):
        guard.write_files(str(work), {"../evil": "x"}, None)
    (work / "trap").symlink_to(tmp_path / "target")
    with pytest.raises(OSError):
        guard.write_files(str(work), {"trap": "x"}, None)
    assert not (tmp_path / "target").exists()


def test_each_slot_has_uids_of_its_own() -> None:
    slots = [guard.uids(n) for n in range(8)]
    every = [u for pair in slots for u in pair]
    assert len(set(every)) == len(every) and guard.TESTER_UID not in every and 0 not in every
