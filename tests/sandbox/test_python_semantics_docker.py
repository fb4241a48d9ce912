"""Python verdicts as plain Python (``==``, definition-time annotations) would give them, and a fixed,
recorded hash seed per sample, through the real sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from humaneval_lab.execution.base import Job, Limits
from humaneval_lab.languages import get_language, source_of
from humaneval_lab.problems import Problem, ProblemSet
from humaneval_lab.records import Sample
from humaneval_lab.scoring import ScoreSettings, score

pytestmark = pytest.mark.docker


def problem(name: str, signature: str, tests: str, **extras: Any) -> Problem:
    return Problem(
        task_id=f"semantics/{name}",
        language="python",
        prompt=f'{signature}\n    """{name}"""\n',
        tests="def check(candidate):\n" + tests,
        entry_point=signature.split("(")[0].removeprefix("def "),
        canonical_solution="",
        source_format="human-eval",
        extras=extras,
    )


COUNT = problem("count", "def count(s):", "    assert candidate('abca') == {'a': 2, 'b': 1, 'c': 1}\n")
POINT = problem(
    "point", "def point(x, y):", "    assert candidate(1, 2) == (1, 2)\n    assert candidate(3, 4)[1] == 4\n"
)
GROUP = problem("group", "def group(xs):", "    assert candidate([1, 2, 1]) == {1: 2, 2: 1}\n")
BIG = problem("big", "def big(n):", "    assert candidate(5000) == 10 ** 5000 + 7\n")
ANNOTATED = problem("annotated", "def f(l: list) -> List[Any]:", "    assert candidate([1]) == [1]\n")
ANNOTATED_IN_PROCESS = problem(
    "annotated-in-process",
    "def f(l: list) -> List[Any]:",
    "    assert candidate([1]) == [1]\n",
    python_isolation=False,
)
# Passes exactly when the candidate's process and the tests' hash str with the same secret.
SAME_SEED = problem("same-seed", "def h(s):", "    assert candidate('hel') == hash('hel')\n")

CASES: list[tuple[Problem, str, str]] = [
    (COUNT, "    import collections\n    return collections.Counter(s)\n", "passed"),
    (COUNT, "    import collections\n    return collections.Counter(s[1:])\n", "failed"),
    (
        POINT,
        "    import collections\n    P = collections.namedtuple('P', 'x y')\n    return P(x, y)\n",
        "passed",
    ),
    (
        POINT,
        "    import collections\n    P = collections.namedtuple('P', 'x y')\n    return P(y, x)\n",
        "failed",
    ),
    (
        GROUP,
        "    import collections\n    d = collections.defaultdict(int)\n    for x in xs:\n"
        "        d[x] += 1\n    return d\n",
        "passed",
    ),  # fmt: skip
    (
        GROUP,
        "    import collections\n    d = collections.OrderedDict()\n    for x in xs:\n"
        "        d[x] = d.get(x, 0) + 1\n    return d\n",
        "passed",
    ),  # fmt: skip
    (GROUP, "    import collections\n    return collections.OrderedDict({1: 1, 2: 1})\n", "failed"),
    (BIG, "    return 10 ** n + 7\n", "passed"),
    (BIG, "    return 10 ** n + 8\n", "failed"),
    # NameError at definition time, as python3 gives it (no harness __future__ flags inherited).
    (ANNOTATED, "    return l\n", "error"),
    (ANNOTATED_IN_PROCESS, "    return l\n", "error"),
    (ANNOTATED, "    return l\nfrom typing import List, Any\n", "error"),  # imported too late, as in python3
]


def _judge(ex: Any, jobs: list[Job]) -> dict[str, Any]:
    out = dict(ex.run(jobs))
    assert sorted(out) == sorted(j.id for j in jobs)
    return out


def test_values_cross_as_equality_judges_them(make_executor: Any) -> None:
    build = get_language("python").build
    jobs = [
        Job(f"{i}:{p.entry_point}", build(p, source_of(p, body)), Limits(timeout_s=20.0))
        for i, (p, body, _) in enumerate(CASES)
    ]
    out = _judge(make_executor(jobs=2), jobs)
    got = {j.id: (out[j.id].status.value, out[j.id].reason) for j in jobs}
    want = {j.id: expect for j, (_, _, expect) in zip(jobs, CASES, strict=True)}
    assert {k: v[0] for k, v in got.items()} == want, got
    assert "NameError" in got["9:f"][1] and "List" in got["9:f"][1]


def host_hash(text: str, seed: int) -> int:
    """hash(text) under PYTHONHASHSEED=seed, by a fresh Python here (3.11 on both sides: siphash13)."""
    env = {**os.environ, "PYTHONHASHSEED": str(seed)}
    out = subprocess.run(
        [sys.executable, "-c", f"print(hash({text!r}))"], env=env, capture_output=True, text=True
    )
    return int(out.stdout)


def test_a_jobs_hash_seed_reaches_the_candidate_and_the_tests(make_executor: Any) -> None:
    """Each job runs with its own seed, both sides (warm with the runner's seed 0, fresh otherwise)."""
    build = get_language("python").build
    jobs = []
    for seed in (None, 0, 1, 12345, 2**32 - 1):
        exact = problem(
            "exact", "def h(s):", f"    assert candidate('hel') == {host_hash('hel', seed or 0)}\n"
        )
        for p in (SAME_SEED, exact):
            jobs.append(
                Job(f"{seed}:{p.task_id}", build(p, source_of(p, "    return hash(s)\n")), Limits(20.0), seed)
            )
    # The control: seed 1's value under another seed is wrong.
    other = problem("other", "def h(s):", f"    assert candidate('hel') == {host_hash('hel', 2)}\n")
    jobs.append(Job("control", build(other, source_of(other, "    return hash(s)\n")), Limits(20.0), 1))
    out = _judge(make_executor(jobs=1), jobs)
    assert {k: o.status.value for k, o in out.items()} == {
        **{j.id: "passed" for j in jobs if j.id != "control"},
        "control": "failed",
    }


def _score(ex: Any, tmp: Path, hash_seeds: str) -> list[dict[str, Any]]:
    ps = ProblemSet("semantics", (SAME_SEED, COUNT), "test")
    bodies = {SAME_SEED.task_id: ["    return hash(s)\n", "    return hash(s) \n"],
              COUNT.task_id: ["    import collections\n    return collections.Counter(s)\n"]}  # fmt: skip
    samples = [Sample(t, c, fields={"task_id": t, "completion": c}) for t, cs in bodies.items() for c in cs]
    score(samples, ps, ex, tmp, ScoreSettings(ks=(1,), hash_seeds=hash_seeds))
    return [json.loads(line) for line in (tmp / "results.jsonl").read_text().splitlines()]


def test_score_records_a_fixed_seed_per_sample_and_rerun_agrees(make_executor: Any, tmp_path: Path) -> None:
    ex = make_executor(jobs=1)
    first = _score(ex, tmp_path / "a", "per-sample")
    again = _score(ex, tmp_path / "b", "per-sample")
    seeds = [r["hash_seed"] for r in first]
    assert [r["hash_seed"] for r in again] == seeds, "a re-run must use the same seeds"
    assert len(set(seeds)) == len(seeds), "each sample has a seed of its own"
    assert all(0 <= s < 2**32 for s in seeds) and seeds != [0] * len(seeds)
    assert [r["verdict"] for r in first] == [r["verdict"] for r in again] == ["passed"] * 3
    fixed = _score(ex, tmp_path / "c", "fixed")
    assert [r["hash_seed"] for r in fixed] == [0, 0, 0]
    assert [r["verdict"] for r in fixed] == ["passed"] * 3
