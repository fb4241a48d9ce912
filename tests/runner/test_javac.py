"""The warm Java compiler's runner side on the host (no JVM): which javac commands it takes over,
and how it writes the class bytes it got back. The server itself runs in tests/sandbox/test_javac_server.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from humaneval_lab.sandbox.runner import javac

from humaneval_lab.languages import get_language, source_of
from humaneval_lab.problems import Problem


def test_java_specs_compile_step_is_taken_over_with_the_absolute_class_path() -> None:
    problem = Problem(
        task_id="T/0",
        prompt="import java.util.*;\nclass Solution {\n    public int f(int x) {\n",
        tests="public class Main { public static void main(String[] a) { } }\n",
        entry_point="f",
        canonical_solution="        return x;\n    }\n}\n",
        source_format="humaneval-x",
        language="java",
    )
    program = get_language("java").build(problem, source_of(problem, "        return x;\n    }\n}\n"))
    (argv,) = program.compile
    got = javac.request_of(list(argv))
    assert got == ("/usr/share/java/javatuples.jar", ["Solution.java", "tests/Main.java", "HelMain.java"])
    assert all(name in program.files for name in got[1])


@pytest.mark.parametrize(
    "argv",
    [
        ["javac", "-d", "out", "A.java"],  # another output dir: not what the server writes
        ["javac", "-d", ".", "-processor", "P", "A.java"],  # a flag it does not apply
        ["javac", "-d", ".", "-encoding", "latin1", "A.java"],
        ["javac", "-d", "."],  # nothing to compile
        ["scalac", "-d", ".", "A.java"],
        [],
    ],
)
def test_other_commands_run_as_they_are(argv: list[str]) -> None:
    assert javac.request_of(argv) is None


def test_classes_land_where_javac_d_dot_puts_them(tmp_path: Path) -> None:
    javac.write_classes(
        str(tmp_path), {"hel.cand.Solution": b"\xca\xfe", "hel.cand.Solution$1": b"x", "Top": b"y"}, None
    )
    assert (tmp_path / "hel" / "cand" / "Solution.class").read_bytes() == b"\xca\xfe"
    assert (tmp_path / "hel" / "cand" / "Solution$1.class").read_bytes() == b"x"
    assert (tmp_path / "Top.class").read_bytes() == b"y"
    assert (tmp_path / "hel" / "cand" / "Solution.class").stat().st_mode & 0o777 == 0o644


def test_class_files_never_follow_a_link(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    os.symlink(outside, work / "hel")
    with pytest.raises(OSError):
        javac.write_classes(str(work), {"hel.cand.Solution": b"x"}, None)
    (work / "hel").unlink()
    os.symlink(outside / "A.class", work / "A.class")
    with pytest.raises(OSError):
        javac.write_classes(str(work), {"A": b"x"}, None)
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize("name", ["../x", "a..b", "a/b", "", ".", "a.", "a\x00b"])
def test_a_class_name_that_is_no_path_below_the_job_dir_is_refused(name: str) -> None:
    assert not javac._CLASS_NAME.fullmatch(name)


def test_the_switch_reads_the_container_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEL_JAVAC_SERVER", "0")
    assert not javac.enabled()
    monkeypatch.setenv("HEL_JAVAC_SERVER", "1")
    assert javac.enabled()
