"""EvalPlus's rules as the trusted judge applies them (the judge file imported as a module here),
and the base / base+plus pass@k read from verdicts."""

from __future__ import annotations

import importlib.util
import math
from types import ModuleType

import pytest

from humaneval_lab.execution.base import Outcome, Status
from humaneval_lab.problems import ProblemSet
from humaneval_lab.problemsets import plus_passk
from humaneval_lab.problemsets.evalplus import judge_source


@pytest.fixture(scope="module")
def judge() -> ModuleType:
    spec = importlib.util.spec_from_loader("hel_evalplus_under_test", loader=None)
    assert spec is not None
    mod = importlib.util.module_from_spec(spec)
    # As in the sandbox: the values half, then the judge, in one namespace.
    exec(compile(judge_source("hel_evalplus_values.py"), "hel_evalplus_values.py", "exec"), mod.__dict__)
    exec(compile(judge_source(), "hel_evalplus.py", "exec"), mod.__dict__)
    return mod


def test_mbpp_inputs_are_converted_per_task(judge: ModuleType) -> None:
    assert judge.mbpp_inputs(2, [[[3, 4], [5]]]) == [[(3, 4), (5,)]]
    assert judge.mbpp_inputs(63, [[[[1, 2], [3, 4]]]]) == [[[(1, 2), (3, 4)]]]
    assert judge.mbpp_inputs(259, [[[[1, 2]], [[3]]]]) == [[((1, 2),), ((3,),)]]
    assert judge.mbpp_inputs(250, [[[1, 2], 1]]) == [[(1, 2), 1]]
    assert judge.mbpp_inputs(106, [[[1], [2]]]) == [[[1], (2,)]]
    assert judge.mbpp_inputs(115, [[[[1], []]]]) == [[[{1}, {}]]]
    assert judge.mbpp_inputs(124, [["0", "1j"]]) == [[0.0, 1j]]
    assert judge.mbpp_inputs(252, [["(1+2j)"]]) == [[1 + 2j]]
    assert judge.mbpp_inputs(722, [[{"a": [1, 2]}, 1]]) == [[{"a": (1, 2)}, 1]]
    assert judge.mbpp_inputs(580, [[[1, [2, [3]]]]]) == [[(1, (2, (3,)))]]
    assert judge.mbpp_inputs(11, [[[1]]]) == [[[1]]]  # others as they are


def _run(judge: ModuleType, dataset: str, entry: str, atol: float) -> object:
    return judge._Run({"dataset": dataset, "entry_point": entry, "atol": atol})


def test_floats_within_atol_and_everything_else_exact(judge: ModuleType) -> None:
    run = _run(judge, "humaneval", "f", 0)
    assert run.same([], 0.5 + 1e-7, 0.5)  # atol 0 and a float expected: 1e-6
    assert not run.same([], 0.5 + 1e-5, 0.5)
    assert not run.same([], 1, 1.0000001) and run.same([], 1.0, 1)  # type must match when not equal
    assert run.same([], [1.0, 2.0 + 1e-9], [1.0, 2.0]) and not run.same([], [1.0], [1.0, 2.0])
    assert not _run(judge, "humaneval", "f", 0).same([], "a", "b")
    assert _run(judge, "humaneval", "f", 0).same([], math.inf, math.inf)
    assert not _run(judge, "humaneval", "f", 0).same([], [1, 2], (1, 2))


def test_special_oracles(judge: ModuleType) -> None:
    assert _run(judge, "humaneval", "find_zero", 1e-4).same([[-6, 11, -6, 1]], 1.0, 99.0)  # poly(1) = 0
    assert not _run(judge, "humaneval", "find_zero", 1e-4).same([[-6, 11, -6, 1]], 1.5, 1.5)
    assert _run(judge, "mbpp", "similar_elements", 0).same([], (5, 4), (4, 5))
    assert _run(judge, "mbpp", "check_str", 0).same([], judge.OPAQUE, "match")
    assert not _run(judge, "mbpp", "check_str", 0).same([], False, "match")
    assert _run(judge, "mbpp", "check_str", 0).same([], None, None)
    assert _run(judge, "mbpp", "digit_distance_nums", 0).same([123, 4], 4, 99)  # 123 vs 004: 1 + 2 + 1


def _o(status: Status, reason: str = "") -> Outcome:
    return Outcome(status, reason)


def test_base_and_plus_pass_at_k_from_verdicts(humaneval_plus: ProblemSet) -> None:
    p0, p1 = humaneval_plus.select(tasks=["HumanEval/0", "HumanEval/1"])
    fail_plus = _o(Status.FAILED, "EvalPlusAssertionError: plus input #7 of 20: expected 1, got 2 (in f(1))")
    fail_base = _o(Status.FAILED, "EvalPlusAssertionError: base input #0 of 3: expected 1, got 2")
    # A candidate that cannot reach the reason's start: its own text is not read as the judge's.
    forged = _o(Status.ERROR, "EvalPlusAssertionError: plus input #1 of 2: x")
    tasks = ["HumanEval/0"] * 2 + ["HumanEval/1"] * 2
    outs = [_o(Status.PASSED), fail_plus, fail_base, forged]
    s = plus_passk.summarize(tasks, outs, [p0, p1], [1])
    assert s is not None
    assert s["pass@k_base_exact"] == {"pass@1": "1/2"} and s["pass@k_plus_exact"] == {"pass@1": "1/4"}
    assert s["problems"]["HumanEval/0"] == {"n": 2, "c_base": 2, "c_plus": 1, "first_failures": {"plus#7": 1}}
    assert s["problems"]["HumanEval/1"]["first_failures"] == {"base#0": 1, "error": 1}
    assert plus_passk.summarize(["x"], [_o(Status.PASSED)], [], [1]) is None
