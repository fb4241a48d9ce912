"""The warm TypeScript compiler's runner side on the host (no Node): which tsc commands it takes over,
what it sends, and which output names it accepts. The server itself runs in
tests/sandbox/test_tsc_server.py."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from humaneval_lab.sandbox.runner import compile_server, tsc

from humaneval_lab.languages import get_language, source_of
from humaneval_lab.problems import Problem


def _program_files_and_argv() -> tuple[dict[str, str], list[str]]:
    problem = Problem(
        task_id="T/0",
        prompt="function f(x: number): number {\n",
        tests="declare var require: any;\nconst assert = require('node:assert');\nassert.deepEqual(f(1), 1);\n",
        entry_point="f",
        canonical_solution="  return x;\n}\n",
        source_format="multipl-e",
        language="typescript",
    )
    program = get_language("typescript").build(problem, source_of(problem, "  return x;\n}\n"))
    (argv,) = program.compile
    return program.files, list(argv)


def test_typescript_specs_compile_step_is_taken_over() -> None:
    files, argv = _program_files_and_argv()
    assert tsc.request_of(argv, files) == argv[1:]


@pytest.mark.parametrize(
    "argv",
    [
        ["tsc", "--target", "es5", "--outDir", ".", "main.ts"],  # a value the server was not checked on
        ["tsc", "--outDir", "out", "main.ts"],
        ["tsc", "--strict", "--outDir", ".", "main.ts"],  # a flag it does not take
        ["tsc", "-p", "."],
        ["tsc", "--watch", "main.ts"],
        ["tsc", "--outDir", ".", "other.ts"],  # not among the job's files
        ["tsc", "--outDir", "."],  # nothing to compile
        ["tsc", "--pretty"],  # a flag with its value missing
        ["node", "main.ts"],
        [],
    ],
)
def test_other_commands_run_as_they_are(argv: list[str]) -> None:
    files, _ = _program_files_and_argv()
    assert tsc.request_of(argv, files) is None


def test_the_request_carries_the_args_the_dir_and_the_files_as_written() -> None:
    req = tsc.request(["--outDir", "."], "/work/job0", {"main.ts": "let s = '\ud800';\n", "a/b.js": ""})
    assert req.startswith(struct.pack(">i", 2) + compile_server.blob(b"--outDir") + compile_server.blob(b"."))
    assert compile_server.blob(b"/work/job0") + struct.pack(">i", 2) in req
    # Bytes as guard.write_files writes the file: UTF-8, a lone surrogate kept as tsc would read it.
    assert compile_server.blob("let s = '\ud800';\n".encode("utf-8", "surrogatepass")) in req
    assert compile_server.blob(b"a/b.js") + compile_server.blob(b"") in req


@pytest.mark.parametrize("name", ["main.js", "a/b/c.js", "usr/share/x.js", ".hidden.js", "a..b.js"])
def test_output_names_below_the_job_dir_are_taken(name: str) -> None:
    assert tsc._OUTPUT.fullmatch(name)


@pytest.mark.parametrize(
    "name", ["", "/main.js", "../x.js", "a/../../x.js", "a//b.js", ".", "a/./b", "a\x00b", "a/"]
)
def test_an_output_name_that_is_no_path_below_the_job_dir_is_refused(name: str) -> None:
    assert not tsc._OUTPUT.fullmatch(name)


def test_outputs_land_below_the_dir_and_never_follow_a_link(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    compile_server.write_outputs(str(work), {("main.js",): b"1", ("a", "b.js"): b"2"}, None)
    assert (work / "main.js").read_bytes() == b"1" and (work / "a" / "b.js").read_bytes() == b"2"
    outside = tmp_path / "outside"
    outside.mkdir()
    (work / "link").symlink_to(outside)
    with pytest.raises(OSError):
        compile_server.write_outputs(str(work), {("link", "x.js"): b"x"}, None)
    (work / "f.js").symlink_to(outside / "f.js")
    with pytest.raises(OSError):
        compile_server.write_outputs(str(work), {("f.js",): b"x"}, None)
    assert list(outside.iterdir()) == []


def test_the_switch_reads_the_container_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEL_TSC_SERVER", "0")
    assert not tsc.enabled()
    monkeypatch.setenv("HEL_TSC_SERVER", "1")
    assert tsc.enabled()
