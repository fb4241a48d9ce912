"""HumanEval+ and MBPP+ judged through the real sandbox, against EvalPlus's published behaviour."""

from __future__ import annotations

import gzip
import json
import math
import time

import pytest

from humaneval_lab.execution.base import Outcome, Status
from humaneval_lab.problems import ProblemSet, load_problems
from humaneval_lab.problemsets.plus_passk import first_failure, passed_base
from tests.suites.conftest import MBPP_PLUS, job, judge

pytestmark = pytest.mark.docker

# OpenAI's HumanEval canonical solutions that EvalPlus's plus inputs catch: a wrong output or an
# exception in 17, and more than 20 s on a single plus input in 31, 39, 55, 63, 127 (timed out under
# EvalPlus's limits too). Derived with EvalPlus's rules (the datasets README's list, checked there), see
# docs/suites.md: 22 tasks, as EvalPlus reports.
ORIGINAL_FAILS_PLUS = {22, 31, 32, 39, 44, 49, 55, 63, 64, 76, 91, 95, 97, 111, 122, 123, 124, 125, 127,
                       132, 140, 150}  # fmt: skip


def _wrong(ps: ProblemSet) -> dict[str, str]:
    """A wrong answer per problem: the right function's name, returning None (HumanEval+: a body)."""
    return {
        p.task_id: ("    return None\n" if p.task_id.startswith("HumanEval/") else
                    f"def {p.entry_point}(*args):\n    return None\n")
        for p in ps
    }  # fmt: skip


# The whole sets take 20-30 min each on a 2-core host: CI judges every 8th problem (a fixed spread,
# not picked by outcome); `make test-exhaustive` judges them all.
@pytest.mark.slow
@pytest.mark.parametrize(
    ("which", "stride"),
    [
        pytest.param(which, stride, id=f"{which}-{'all' if stride == 1 else f'every-{stride}th'}",
                     marks=[pytest.mark.exhaustive] if stride == 1 else [])
        for which in ("humaneval_plus", "mbpp_plus") for stride in (8, 1)
    ],
)  # fmt: skip
def test_every_canonical_passes_base_and_plus_and_a_wrong_answer_fails(
    which: str, stride: int, request: pytest.FixtureRequest, make_executor: object
) -> None:
    ps: ProblemSet = request.getfixturevalue(which)
    ps = ps.select(tasks=[p.task_id for p in ps][::stride]) if stride > 1 else ps
    wrong = _wrong(ps)
    # Each problem's right and wrong answers side by side: a worker's judge then reuses the canonical
    # outputs it computed for the first.
    jobs = [
        j for p in ps for j in (job(p, p.canonical_solution or "", "ok"), job(p, wrong[p.task_id], "bad"))
    ]
    start = time.monotonic()
    got = judge(make_executor(jobs=2, memory_per_worker=2 << 30), jobs)  # type: ignore[operator]
    print(f"{which}: {len(jobs)} jobs in {time.monotonic() - start:.0f}s")
    failed = {
        j: (o.status.value, o.reason[:160]) for j, o in got.items() if j.startswith("ok:") and not o.passed
    }
    assert not failed, "\n".join(f"{j}: {v}" for j, v in failed.items())
    for p in ps:
        o = got[f"bad:{p.task_id}"]
        # None is right for some base inputs (HumanEval/12: longest([]) is None), never for all of
        # them: a base input catches it, before any plus input runs.
        assert o.status is Status.FAILED and first_failure(o).startswith("base#"), (p.task_id, o.reason)


@pytest.mark.slow
@pytest.mark.parametrize(
    "stride",
    [pytest.param(8, id="every-8th"), pytest.param(1, id="all", marks=[pytest.mark.exhaustive])],
)  # all 164 problems' plus inputs: ~20 min on a loaded 2-core host; CI judges every 8th (a fixed spread)
def test_openai_canonical_solutions_fail_plus_on_exactly_the_22(
    humaneval_plus: ProblemSet, make_executor: object, stride: int
) -> None:
    original = load_problems(suite="humaneval").by_id
    chosen = [p for p in humaneval_plus][::stride]
    jobs = [job(p, original[p.task_id].canonical_solution or "", "orig") for p in chosen]
    got = judge(make_executor(jobs=2, memory_per_worker=2 << 30), jobs)  # type: ignore[operator]
    base_failures = {j: o.reason[:120] for j, o in got.items() if not passed_base(o)}
    assert base_failures == {}
    plus_failures = {int(j.rsplit("/", 1)[1]) for j, o in got.items() if not o.passed}
    assert plus_failures == {int(p.task_id.rsplit("/", 1)[1]) for p in chosen} & ORIGINAL_FAILS_PLUS


# Problems whose judging has a rule of its own: HumanEval/32 (|poly(x)| <= atol), /38 (a prompt helper
# the canonical needs), /2 (floats, atol 1e-6 for atol 0); MBPP+ input conversions (2: tuples, 124:
# float and complex, 252: complex, 722: dict values to tuples, 580: tuples at every depth), special
# oracles (581 surface_Area, 737 check_str returns a re.Match that cannot cross, 2 compares sets), and
# 126's function is named sum (it must not shadow the judge's own sum), and
# the data defects (404: bare Infinity in the inputs; 793: plus_input is {}, so plus checks nothing).
SPECIAL = {"HumanEval": ["HumanEval/2", "HumanEval/32", "HumanEval/38"],
           "Mbpp": ["Mbpp/2", "Mbpp/124", "Mbpp/126", "Mbpp/252", "Mbpp/404", "Mbpp/580", "Mbpp/581", "Mbpp/722",
                    "Mbpp/737", "Mbpp/793"]}  # fmt: skip


def test_canonicals_pass_and_wrong_answers_fail_on_the_special_cases(
    humaneval_plus: ProblemSet, mbpp_plus: ProblemSet, make_executor: object
) -> None:
    ps = [*humaneval_plus.select(tasks=SPECIAL["HumanEval"]), *mbpp_plus.select(tasks=SPECIAL["Mbpp"])]
    wrong = {**_wrong(humaneval_plus), **_wrong(mbpp_plus)}
    jobs = [job(p, p.canonical_solution or "", "ok") for p in ps] + [
        job(p, wrong[p.task_id], "bad") for p in ps
    ]
    got = judge(make_executor(jobs=2), jobs)  # type: ignore[operator]
    assert {j: o.reason[:120] for j, o in got.items() if j.startswith("ok:") and not o.passed} == {}
    assert {j for j, o in got.items() if j.startswith("bad:") and first_failure(o) != "base#0"} == set()


def test_plus_inputs_catch_what_base_misses_and_a_hang_is_cut_per_input(
    mbpp_plus: ProblemSet, make_executor: object
) -> None:
    (p,) = mbpp_plus.select(tasks=["Mbpp/404"])  # minimum(a, b); base: small ints, plus #0: (1000, 999)
    small_only = "def minimum(a, b):\n    return min(a, b) if abs(a) < 100 else a\n"
    hangs = "def minimum(a, b):\n    while a == 1000:\n        pass\n    return min(a, b)\n"
    got = judge(make_executor(jobs=2), [job(p, small_only, "small"), job(p, hangs, "hang")])  # type: ignore[operator]
    small, hang = got["small:Mbpp/404"], got["hang:Mbpp/404"]
    assert small.status is Status.FAILED and first_failure(small) == "plus#0" and passed_base(small)
    assert "expected 999, got 1000" in small.reason
    assert hang.status is Status.FAILED and first_failure(hang) == "plus#0" and passed_base(hang)
    assert "no answer within 4.0s" in hang.reason


@pytest.mark.slow
@pytest.mark.exhaustive  # Mbpp/255's plus #85: 1.7M tuples of 77 strings; ~9 min at load 20 on 2 cores
def test_a_huge_answer_is_compared_by_digest_and_judged_exactly(
    mbpp_plus: ProblemSet, make_executor: object
) -> None:
    # The expected output (~1 GB as objects) is held only as its digest and the candidate answers with
    # its own (hel_pydriver.digest); a value without one crosses whole and meets the canonical's again.
    (p,) = mbpp_plus.select(tasks=["Mbpp/255"])
    with gzip.open(MBPP_PLUS, "rt") as f:
        rec = next(r for r in map(json.loads, f) if r["task_id"] == "Mbpp/255")
    sizes = [math.comb(len(items) + n - 1, n) if items and n >= 0 else 0 for items, n in rec["plus_input"]]
    huge = sizes.index(max(sizes))
    assert sizes[huge] > 1_000_000 and sorted(sizes)[-2] < 1_000_000  # one huge input: the digest path
    head = "from itertools import combinations_with_replacement\ndef combinations_colors(l, n):\n"
    last_differs = head + (
        "    out = list(combinations_with_replacement(l, n))\n"
        "    if len(out) > 1_000_000:\n        out[-1] = out[0]\n    return out\n"
    )
    as_lists = head + "    return [list(c) for c in combinations_with_replacement(l, n)]\n"
    cases = {"ok": p.canonical_solution or "", "lists": as_lists, "last": last_differs}
    # One worker each: its tester computes the expected outputs (~1.1 GB while it does, then digests)
    # and each candidate holds its own ~1.1 GB answer. A second huge candidate in the same warm worker
    # ran out of 3 GiB here (the tester's memory is not all given back): "last" gets a fresh box.
    got: dict[str, Outcome] = {}
    for tags in (("ok", "lists"), ("last",)):
        got |= judge(
            make_executor(jobs=1, memory_per_worker=3 << 30),  # type: ignore[operator]
            [job(p, cases[tag], tag) for tag in tags],
        )
    ok, last, lists = (got[f"{tag}:Mbpp/255"] for tag in ("ok", "last", "lists"))
    assert ok.passed, ok.reason
    assert first_failure(last) == f"plus#{huge}" and passed_base(last), last.reason
    assert "compared by sha256" in last.reason
    assert first_failure(lists) == "base#0", lists.reason  # [['Red'], ...] != [('Red',), ...]
