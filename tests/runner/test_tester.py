"""The warm tester on the host: the real tester process (started from the bundle as in the sandbox,
without the uid switch) runs a problem's tests against a real candidate process. No Docker."""

from __future__ import annotations

import dataclasses
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from humaneval_lab.sandbox.runner import limits
from humaneval_lab.sandbox.runner.children import Sabotage
from humaneval_lab.sandbox.runner.context import Context
from humaneval_lab.sandbox.runner.env import base_env
from humaneval_lab.sandbox.runner.steps import start
from humaneval_lab.sandbox.runner.warm import TESTS_SIDE

from humaneval_lab.execution.base import Limits
from humaneval_lab.execution.selftest import PROBLEM
from humaneval_lab.languages import get_language, source_of

LIMITS = limits.parse(dataclasses.asdict(Limits()))._asdict()


def _ask(ctx: Context, body: str, tmp_path: Path) -> dict[str, Any]:
    """One warm round: the candidate (a fresh process, code on fd 5) and this thread's tester."""
    program = get_language("python").build(PROBLEM, source_of(PROBLEM, body))
    files = dict(program.files)
    (tmp_path / "hel_pydriver.py").write_text(files["hel_pydriver.py"])
    req_r, req_w = os.pipe()
    resp_r, resp_w = os.pipe()
    code = os.memfd_create("candidate")
    os.write(code, files["candidate.py"].encode())
    os.lseek(code, 0, os.SEEK_SET)
    argv = ["python3", "-I", "hel_pydriver.py", "--candidate", "candidate.py", PROBLEM.entry_point]
    cand = start(ctx, argv, str(tmp_path), base_env(str(tmp_path), {}), LIMITS, (req_r, resp_w, code))
    for fd in (req_r, resp_w, code):
        os.close(fd)
    sources = (files["hel_pydriver.py"].encode(), files[TESTS_SIDE].encode())
    tester = ctx.tester(sources, "0")
    try:
        tester.send(files["tests.json"].encode(), [req_w, resp_r])
    finally:
        os.close(req_w)
        os.close(resp_r)
    try:
        return tester.answer()
    finally:
        os.killpg(cand.pid, signal.SIGKILL)
        cand.wait(10.0)
        for s in (cand.stdin, cand.stdout, cand.stderr):
            s.close()


def test_the_tester_judges_real_candidates(tmp_path: Path) -> None:
    ctx = Context.local()
    try:
        right = _ask(ctx, "    return a + b\n", tmp_path)
        assert right == {"passed": True, "gone": False, "stderr": ""}
        first = next(iter(ctx.all_testers))
        wrong = _ask(ctx, "    return a - b\n", tmp_path)
        assert wrong["passed"] is False and wrong["gone"] is False
        assert "AssertionError" in wrong["stderr"] and "add(" in wrong["stderr"], wrong
        gone = _ask(ctx, "    import os\n    os._exit(0)\n", tmp_path)
        assert gone["passed"] is False and gone["gone"] is True
        assert ctx.all_testers == {first} and first.running()  # one tester served all three
    finally:
        ctx.drop_tester()
    assert not ctx.all_testers


def test_a_killed_tester_is_sabotage_and_a_new_one_starts(tmp_path: Path) -> None:
    ctx = Context.local()
    try:
        assert _ask(ctx, "    return a + b\n", tmp_path)["passed"]
        tester = next(iter(ctx.all_testers))
        tester.proc.kill()
        tester.proc.wait(10)
        assert not ctx.intact()
        with pytest.raises(Sabotage):
            _ask(ctx, "    return a + b\n", tmp_path)
        ctx.drop_tester()
        assert _ask(ctx, "    return a + b\n", tmp_path)["passed"]
        assert ctx.intact()
    finally:
        ctx.drop_tester()


def test_the_tests_never_reach_the_work_dir(tmp_path: Path) -> None:
    ctx = Context.local()
    try:
        _ask(ctx, "    return a + b\n", tmp_path)
    finally:
        ctx.drop_tester()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hel_pydriver.py"]  # no tests, no code
