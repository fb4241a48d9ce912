"""The warm JS/TS judge's and the Node snapshot's runner side on the host: which jobs the warm judge
takes, one server per judge source, a worker's server replaced when the source changes, and which
commands start from the snapshot. The judge itself runs in tests/sandbox/test_node_judge.py."""

from __future__ import annotations

import dataclasses
import re
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from humaneval_lab.sandbox.runner import compile_server, node_judge_server, nodejudge, nodestart
from humaneval_lab.sandbox.runner.context import Context

from humaneval_lab.languages import get_language, source_of
from humaneval_lab.problems import Problem

PROBLEM = Problem(
    "T/0",
    "javascript",
    "function add(a, b) {\n",
    "console.assert(add(1, 2) === 3);\n",
    "add",
    source_format="native",
)


def _program(language: str = "javascript", tests: str = PROBLEM.tests) -> dict[str, Any]:
    problem = dataclasses.replace(PROBLEM, language=language, tests=tests)
    program = get_language(language).build(problem, source_of(problem, "  return a + b;\n}\n"))
    return {
        "run": list(program.run),
        "judge": list(program.judge or ()),
        "files": program.files,
        "judge_files": program.judge_files,
    }


@pytest.mark.parametrize("language", ["javascript", "typescript"])
def test_the_warm_judge_takes_javascript_and_typescript_jobs_in_a_container_only(language: str) -> None:
    program = _program(language)
    assert tuple(program["judge"]) == nodejudge.JUDGE_ARGV
    assert nodejudge.eligible(Context(contained=True), program)
    assert not nodejudge.eligible(Context(contained=False), program)


def test_the_warm_judge_is_off_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEL_NODE_JUDGE", "0")
    assert not nodejudge.eligible(Context(contained=True), _program())


def test_a_job_with_other_judge_files_or_command_is_judged_cold() -> None:
    ctx = Context(contained=True)
    extra = _program()
    extra["judge_files"] = {**extra["judge_files"], "helper.js": "module.exports = 1;\n"}
    assert not nodejudge.eligible(ctx, extra)
    other = _program()
    other["judge"] = ["node", "--stack-size=100", "hel_judge.js", "hel_tests.json"]
    assert not nodejudge.eligible(ctx, other)
    assert not nodejudge.eligible(ctx, {**_program(), "judge": None})


def test_one_server_per_judge_source_and_the_md5_shim_only_where_shipped() -> None:
    plain = _program()["judge_files"]
    md5 = _program(tests="const md5 = require('js-md5');\nconsole.assert(add(1, 2) === 3);\n")["judge_files"]
    assert nodejudge.MD5 in md5 and nodejudge.MD5 not in plain
    assert nodejudge.eligible(Context(contained=True), {**_program(), "judge_files": md5})
    a, b = nodejudge.spec_of(plain), nodejudge.spec_of(dict(plain))
    assert a is b  # the tests differ per job, the server does not
    assert dict(a.files) == {"hel_judge.js": plain["hel_judge.js"], "hel_codec.js": plain["hel_codec.js"]}
    assert a.source == node_judge_server.SERVER_JS and "require('./hel_judge.js')" in a.source
    with_md5 = nodejudge.spec_of(md5)
    assert dict(with_md5.files)[nodejudge.MD5] == md5[nodejudge.MD5] and with_md5.home != a.home
    changed = nodejudge.spec_of({**plain, "hel_judge.js": plain["hel_judge.js"] + "\n// v2\n"})
    assert changed.home != a.home and changed.uid == nodejudge.JUDGE_SERVER_UID
    assert nodejudge.JUDGE_SERVER_UID not in (compile_server.COMPILER_UID, 10001)


SERVER_PY = (
    "import struct, sys, time\n"
    f"sys.stdout.buffer.write(struct.pack('>i', {compile_server.HELLO})); sys.stdout.flush()\n"
    "sys.stdin.buffer.read()\n"
)


def test_a_workers_server_is_replaced_when_its_source_changes(tmp_path: Path) -> None:
    def spec(version: str) -> compile_server.Spec:
        return compile_server.Spec(
            kind="fake-judge",
            home=str(tmp_path / version),
            main="server.py",
            source=SERVER_PY + f"# {version}\n",
            argv=(sys.executable,),
            statuses=frozenset({0}),
            crashed=9,
            names=re.compile("(?!)"),
            files=(("sub/extra.txt", version),),
        )

    ctx = Context()
    v1, v2 = spec("v1"), spec("v2")
    first = ctx.compiler(v1)
    assert first is not None and first.wait_ready(time.monotonic() + 30)
    assert (tmp_path / "v1" / "sub" / "extra.txt").read_text() == "v1"
    assert ctx.compiler(v1) is first and ctx.compiler(dataclasses.replace(v1)) is first
    second = ctx.compiler(v2)
    assert second is not None and second is not first and not first.running()
    assert ctx.all_compilers == {second}
    ctx.drop_compiler(v2)
    assert not second.running()


def test_only_node_commands_in_a_container_start_from_the_snapshot(monkeypatch: pytest.MonkeyPatch) -> None:
    program = _program()
    assert nodestart.program(Context(contained=False), program) == program  # a host has no snapshot
    monkeypatch.setattr(nodestart, "_built", ["/snap.blob"])
    ctx = Context(contained=True)
    got = nodestart.program(ctx, program)
    assert got["run"] == ["node", "--snapshot-blob", "/snap.blob", *program["run"][1:]]
    assert got["judge"] == ["node", "--snapshot-blob", "/snap.blob", *program["judge"][1:]]
    assert nodestart.with_snapshot(ctx, ["python3", "x.py"]) == ["python3", "x.py"]
    other = {**program, "judge": ["Rscript", "judge.R"]}
    assert nodestart.program(ctx, other) is other  # another two-process language is left alone
    monkeypatch.setattr(nodestart, "_built", [""])  # the build failed: plain starts
    assert nodestart.program(ctx, program)["run"] == program["run"]
    monkeypatch.setenv("HEL_NODE_SNAPSHOT", "0")
    monkeypatch.setattr(nodestart, "_built", ["/snap.blob"])
    assert nodestart.program(ctx, program)["run"] == program["run"]
