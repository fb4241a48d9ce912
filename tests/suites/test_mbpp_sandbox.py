"""MBPP (Google's full test split and the sanitized set) judged through the real sandbox."""

from __future__ import annotations

import time

import pytest

from humaneval_lab.execution.base import Status
from humaneval_lab.problems import load_problems
from tests.suites.conftest import MBPP, MBPP_SANITIZED, job, judge

pytestmark = pytest.mark.docker


@pytest.mark.slow
@pytest.mark.parametrize(
    ("path", "stride"),
    [
        pytest.param(path, stride, id=f"{name}-{'all' if stride == 1 else f'every-{stride}th'}",
                     marks=[pytest.mark.exhaustive] if stride == 1 else [])
        for path, name in ((MBPP, "mbpp-test-split"), (MBPP_SANITIZED, "sanitized")) for stride in (8, 1)
    ],
)  # fmt: skip
def test_reference_code_passes_and_a_wrong_function_fails(
    path: object, stride: int, make_executor: object
) -> None:
    ps = load_problems(path=path)  # type: ignore[arg-type]
    ps = ps.select(tasks=[p.task_id for p in ps][::stride]) if stride > 1 else ps
    # The model writes the whole function after the prompt's docstring; the reference code is that.
    jobs = [job(p, p.canonical_solution or "", "ok") for p in ps]
    jobs += [job(p, f"def {p.entry_point}(*args, **kwargs):\n    return None\n", "bad") for p in ps]
    start = time.monotonic()
    got = judge(make_executor(jobs=2), jobs)  # type: ignore[operator]
    print(f"{path}: {len(jobs)} jobs in {time.monotonic() - start:.0f}s")
    assert {j: o.reason[:120] for j, o in got.items() if j.startswith("ok:") and not o.passed} == {}
    # None is the right answer for no MBPP task; a test that still passes it would be vacuous.
    assert {j for j, o in got.items() if j.startswith("bad:") and o.status is Status.PASSED} == set()


def test_isolated_and_in_process_tasks_both_judge(make_executor: object) -> None:
    ps = load_problems(path=MBPP).select(tasks=["Mbpp/11", "Mbpp/367"])  # 367: tests build Node trees
    assert [p.extras["python_isolation"] for p in ps] == [True, False]
    jobs = [job(p, p.canonical_solution or "", "ok") for p in ps]
    jobs += [job(p, f"def {p.entry_point}(*args):\n    return None\n", "bad") for p in ps]
    got = judge(make_executor(jobs=2), jobs)  # type: ignore[operator]
    # bad:Mbpp/367 is an error, not a failure: its tests' setup needs the Node class it lacks.
    assert {j: o.status for j, o in got.items()} == {
        "ok:Mbpp/11": Status.PASSED, "ok:Mbpp/367": Status.PASSED,
        "bad:Mbpp/11": Status.FAILED, "bad:Mbpp/367": Status.ERROR,
    }  # fmt: skip
