"""Per-problem time limits from the canonical solution's run time on this host.

A fixed limit is unfair both ways: too tight on a slow or loaded machine (the same samples scored
0.40 on a laptop and 0.23 on a slower CPU elsewhere), too loose for an infinite loop. So each problem
with a canonical solution that passes gets ``clamp(factor x its run time, floor, cap)``; the others get
``--timeout``. The limits are measured once per output folder and stored in ``calibration.json``,
so a resumed run judges with exactly the limits the first part used.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from humaneval_lab.errors import ConfigError
from humaneval_lab.execution.base import Executor, Job, Limits
from humaneval_lab.languages import get_language, source_of
from humaneval_lab.problems import Problem, ProblemSet
from humaneval_lab.resume import write_json_atomic

CALIBRATION = "calibration.json"


@dataclass(frozen=True)
class CalibrationPolicy:
    factor: float = 20.0
    floor_s: float = 5.0
    cap_s: float = 60.0

    def __post_init__(self) -> None:
        if not 0 < self.floor_s <= self.cap_s:
            raise ConfigError(f"need 0 < floor <= cap, got floor {self.floor_s}, cap {self.cap_s}")

    def limit(self, seconds: float) -> float:
        return round(min(self.cap_s, max(self.floor_s, self.factor * seconds)), 3)


def measure(
    problems: ProblemSet, executor: Executor, timeout_s: float, policy: CalibrationPolicy
) -> dict[str, float]:
    """Run every canonical solution once; returns {task_id: limit} for those that pass."""
    jobs: dict[str, Job] = {}
    for p in problems:
        if p.canonical_solution is None:
            continue
        program = get_language(p.language).build(p, source_of(p, p.canonical_solution))
        jobs[f"calibrate:{p.task_id}"] = Job(
            f"calibrate:{p.task_id}", program, Limits(timeout_s=policy.cap_s)
        )
    limits: dict[str, float] = {}
    for job_id, outcome in executor.run(jobs.values()):
        if outcome.passed:
            limits[job_id.removeprefix("calibrate:")] = policy.limit(outcome.duration_s)
    return limits


def limits_for(
    problems: ProblemSet,
    executor: Executor,
    out_dir: str | Path,
    timeout_s: float,
    policy: CalibrationPolicy | None = None,
) -> Callable[[Problem], Limits]:
    """Load or measure this output folder's per-problem limits; returns ``problem -> Limits``."""
    policy = policy or CalibrationPolicy()
    path = Path(out_dir) / CALIBRATION
    stored: dict[str, float] = {}
    if path.exists():
        try:
            stored = {str(k): float(v) for k, v in json.loads(path.read_text())["limits_s"].items()}
        except (ValueError, KeyError, TypeError, AttributeError):
            stored = {}
    missing = ProblemSet(
        problems.name, tuple(p for p in problems if p.task_id not in stored), problems.source
    )
    if len(missing):
        stored.update(measure(missing, executor, timeout_s, policy))
        doc = {"policy": {"factor": policy.factor, "floor_s": policy.floor_s, "cap_s": policy.cap_s},
               "limits_s": dict(sorted(stored.items()))}  # fmt: skip
        write_json_atomic(path, doc)

    def for_problem(problem: Problem) -> Limits:
        return Limits(timeout_s=stored.get(problem.task_id, timeout_s))

    return for_problem
