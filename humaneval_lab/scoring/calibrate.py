"""Per-problem time limits from the canonical solution's run time on this host.

A fixed limit is unfair both ways: too tight on a slow or loaded machine (the same samples scored
0.40 on a laptop and 0.23 on a slower CPU elsewhere), too loose for an infinite loop. So each problem
with a canonical solution that passes gets ``clamp(factor x its run time, floor, cap)``; the others get
``--timeout``. The limits are measured once per output folder and stored in ``calibration.json``
(those that fell back to ``--timeout`` too), so a resumed run judges with exactly the limits the first
part used.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from humaneval_lab.errors import ConfigError, ResumeMismatchError
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
) -> dict[str, float | None]:
    """Run every canonical solution once; returns {task_id: limit} for every problem, None for those
    without a canonical solution or whose canonical solution did not pass (they get --timeout)."""
    jobs: dict[str, Job] = {}
    for p in problems:
        if p.canonical_solution is None:
            continue
        program = get_language(p.language).build(p, source_of(p, p.canonical_solution))
        jobs[f"calibrate:{p.task_id}"] = Job(
            f"calibrate:{p.task_id}", program, Limits(timeout_s=policy.cap_s)
        )
    limits: dict[str, float | None] = {p.task_id: None for p in problems}
    for job_id, outcome in executor.run(jobs.values()):
        if outcome.passed:
            limits[job_id.removeprefix("calibrate:")] = policy.limit(outcome.duration_s)
    return limits


def _load(path: Path, policy: CalibrationPolicy) -> dict[str, float | None]:
    """What calibration.json holds: {task_id: limit, or None for "uses --timeout"}; {} when it is
    missing or unreadable (then everything is measured again: nothing was judged with it yet, since
    it is written before the first sample runs). ResumeMismatchError when another policy made it."""
    if not path.exists():
        return {}
    try:
        doc = json.loads(path.read_text())
        stored: dict[str, float | None] = {str(k): float(v) for k, v in doc["limits_s"].items()}
        stored.update({str(t): None for t in doc.get("uncalibrated", [])})
        made_with = doc.get("policy")
    except (ValueError, KeyError, TypeError, AttributeError):
        return {}
    if made_with is not None and made_with != _policy_doc(policy):
        raise ResumeMismatchError(
            f"{path} was measured with calibration policy {made_with}, not {_policy_doc(policy)}; "
            "start afresh with --overwrite, or use another -o folder"
        )
    return stored


def _policy_doc(policy: CalibrationPolicy) -> dict[str, float]:
    return {"factor": policy.factor, "floor_s": policy.floor_s, "cap_s": policy.cap_s}


def limits_for(
    problems: ProblemSet,
    executor: Executor,
    out_dir: str | Path,
    timeout_s: float,
    policy: CalibrationPolicy | None = None,
) -> Callable[[Problem], Limits]:
    """Load or measure this output folder's per-problem limits; returns ``problem -> Limits``.

    Every problem measured is recorded, those that fell back to ``timeout_s`` too, so a resumed run
    judges each problem with exactly the limit the first part used (never measured twice).
    """
    policy = policy or CalibrationPolicy()
    path = Path(out_dir) / CALIBRATION
    stored = _load(path, policy)
    missing = ProblemSet(
        problems.name, tuple(p for p in problems if p.task_id not in stored), problems.source
    )
    if len(missing):
        stored.update(measure(missing, executor, timeout_s, policy))
        doc = {
            "policy": _policy_doc(policy),
            "limits_s": {t: v for t, v in sorted(stored.items()) if v is not None},
            "uncalibrated": sorted(t for t, v in stored.items() if v is None),
        }
        write_json_atomic(path, doc)

    def for_problem(problem: Problem) -> Limits:
        limit = stored.get(problem.task_id)
        return Limits(timeout_s=timeout_s if limit is None else limit)

    return for_problem
