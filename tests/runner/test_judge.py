"""``execute_job`` with the host's context (what ``--sandbox local`` runs): real processes, no Docker.

The verdict table itself is test_verdict.py; here the facts come from real steps.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from humaneval_lab.sandbox.runner.context import Context
from humaneval_lab.sandbox.runner.judge import execute_job

from humaneval_lab.execution.base import Job, Limits
from humaneval_lab.execution.selftest import PROBLEM
from humaneval_lab.languages import get_language, source_of


def judge(body: str, tmp_path: Path, timeout_s: float = 10.0) -> dict[str, Any]:
    program = get_language("python").build(PROBLEM, source_of(PROBLEM, body))
    return execute_job(
        Job("j", program, Limits(timeout_s=timeout_s)).to_wire(), str(tmp_path), Context.local()
    )


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        ("    return a + b\n", "passed", ""),
        ("    return a - b\n", "failed", ""),
        ("    import sys\n    sys.exit(0)\n", "failed", ""),
        ("    raise ValueError('no')\n", "error", "ValueError: no"),
        ("    while True:\n        pass\n", "timeout", "run exceeded the time limit"),
    ],
    ids=["right", "wrong", "early-exit", "raises", "loops"],
)
def test_local_verdicts(tmp_path: Path, body: str, status: str, reason: str) -> None:
    out = judge(body, tmp_path, timeout_s=3.0)
    assert out["status"] == status, out
    assert reason in out["reason"]
    assert out["duration_s"] > 0
    assert list(tmp_path.iterdir()) == []  # its dirs are gone


def test_the_harness_must_be_what_run_starts(tmp_path: Path) -> None:
    """A warm plan only for the driver the run command names (checked where a zygote exists)."""
    from humaneval_lab.sandbox.runner import warm

    program = get_language("python").build(PROBLEM, source_of(PROBLEM, "    return a + b\n"))
    assert program.harness == program.run[2] == "hel_pydriver.py"
    wire = Job("j", program).to_wire()["program"]
    assert warm.plan(Context.local(), wire, "0") is None  # no zygote here: run as it is

    class FakeZygote:  # only its presence matters to the plan
        env: dict[str, str] = {}

    ctx = Context(zygote=FakeZygote())  # type: ignore[arg-type]
    plan = warm.plan(ctx, wire, "0")
    assert plan is not None and plan.argv == [
        "python3",
        "-I",
        "hel_pydriver.py",
        "--candidate",
        "candidate.py",
        "add",
    ]
    with pytest.raises(ValueError, match="harness"):
        warm.plan(ctx, {**wire, "harness": "other.py"}, "0")
    files = {k: v for k, v in wire["files"].items() if k != warm.TESTS_SIDE}
    with pytest.raises(ValueError, match="comes without hel_pytests.py"):
        warm.plan(ctx, {**wire, "files": files}, "0")


def test_bad_limits_are_the_runners_error(tmp_path: Path) -> None:
    program = get_language("python").build(PROBLEM, source_of(PROBLEM, "    return a + b\n"))
    job = Job("j", program).to_wire()
    job["limits"] = {**dataclasses.asdict(Limits()), "cpu_s": -1}
    with pytest.raises(ValueError, match="cpu_s"):
        execute_job(job, str(tmp_path), Context.local())
