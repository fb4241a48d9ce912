"""Per-problem limits from the canonical solution's run on this host: CPU time and wall clock.

A fixed limit is unfair both ways: too tight on a slow or loaded machine (the same samples scored
0.40 on a laptop and 0.23 on a slower CPU elsewhere), too loose for an infinite loop. So each problem
with a canonical solution that passes gets two limits:

- ``cpu_s = clamp(cpu_factor x its CPU time, cpu_floor_s, cap_s)``: the CPU time of the job's whole
  process tree (the runner's count, see sandbox/runner/cputime.py). It stops runaway code after a
  fraction of a second and does not depend on the host's load. Defaults 4x, floor 0.5 s: a HumanEval
  canonical solution uses ~10-40 ms of CPU in the sandbox (a compiled one its compile, ~0.5-1.5 s), so
  the floor decides for most, and 4x leaves a slower sample, a slower host and the count's
  granularity room (measured: benchmarks/bench_timeouts.py);
- ``wall_s = clamp(factor x its run time, floor_s, cap_s)``: the wall clock, generous (20x, 5-60 s),
  only for code that sleeps or blocks; a wall timeout that may be the host's load is judged again alone.

On an executor with several machines that implements ``EveryNode`` (``--ray``), every canonical
solution runs on every machine and the largest time of each is kept (the limit must be fair on the
slowest machine that may judge the problem); one that fails on any machine is not calibrated.

The others get ``--cpu-timeout`` / ``--timeout``. The limits are measured once per output folder and
stored in ``calibration.json`` (those that fell back too), so a resumed run judges with exactly the
limits the first part used. Its format::

    {"policy": {...}, "limits": {"HumanEval/0": {"cpu_s": 0.5, "wall_s": 5.0}}, "uncalibrated": [...]}

A file from before CPU limits (``"limits_s": {task: wall seconds}``) is still read: its problems keep
their wall limit and no CPU limit (``cpu_s`` null), as they were judged.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, Protocol, runtime_checkable

from humaneval_lab.errors import ConfigError, ResumeMismatchError
from humaneval_lab.execution.base import Executor, Job, Limits, Outcome
from humaneval_lab.languages import get_language, source_of
from humaneval_lab.problems import Problem, ProblemSet
from humaneval_lab.resume import write_json_atomic

CALIBRATION = "calibration.json"


@dataclass(frozen=True)
class CalibrationPolicy:
    factor: float = 20.0  # wall clock: x the canonical solution's run time
    floor_s: float = 5.0
    cap_s: float = 60.0  # both limits
    cpu_factor: float = 4.0  # CPU time: x the canonical solution's CPU time
    cpu_floor_s: float = 0.5

    def __post_init__(self) -> None:
        if not 0 < self.floor_s <= self.cap_s:
            raise ConfigError(f"need 0 < floor <= cap, got floor {self.floor_s}, cap {self.cap_s}")
        if not 0 < self.cpu_floor_s <= self.cap_s:
            raise ConfigError(f"need 0 < CPU floor <= cap, got {self.cpu_floor_s}, cap {self.cap_s}")
        if not (self.factor > 0 and self.cpu_factor > 0):
            raise ConfigError(f"factors must be positive, got {self.factor}, {self.cpu_factor}")

    def limit(self, seconds: float) -> float:
        """The wall-clock limit for a canonical run of ``seconds``."""
        return round(min(self.cap_s, max(self.floor_s, self.factor * seconds)), 3)

    def cpu_limit(self, cpu_seconds: float) -> float:
        """The CPU-time limit for a canonical run that used ``cpu_seconds`` of CPU."""
        return round(min(self.cap_s, max(self.cpu_floor_s, self.cpu_factor * cpu_seconds)), 3)


class Measured(NamedTuple):
    wall_s: float
    cpu_s: float | None  # None: a file from before CPU limits measured it (no CPU limit then)


def measure(
    problems: ProblemSet, executor: Executor, timeout_s: float, policy: CalibrationPolicy
) -> dict[str, Measured | None]:
    """Run every canonical solution once; returns {task_id: limits} for every problem, None for those
    without a canonical solution or whose canonical solution did not pass (they get the fallbacks)."""
    jobs: dict[str, Job] = {}
    for p in problems:
        if p.canonical_solution is None:
            continue
        program = get_language(p.language).build(p, source_of(p, p.canonical_solution))
        jobs[f"calibrate:{p.task_id}"] = Job(
            f"calibrate:{p.task_id}", program, Limits(timeout_s=policy.cap_s)
        )
    runs: dict[str, list[Outcome]] = {p.task_id: [] for p in problems}
    verdicts = (
        executor.run_on_every_node(list(jobs.values()))
        if isinstance(executor, EveryNode)
        else executor.run(jobs.values())
    )
    for job_id, outcome in verdicts:
        runs[job_id.removeprefix("calibrate:")].append(outcome)
    limits: dict[str, Measured | None] = {}
    for task_id, outcomes in runs.items():
        passed = bool(outcomes) and all(o.passed for o in outcomes)
        limits[task_id] = (
            Measured(
                policy.limit(max(o.duration_s for o in outcomes)),
                policy.cpu_limit(max(o.cpu_s for o in outcomes)),
            )
            if passed
            else None
        )
    return limits


@runtime_checkable
class EveryNode(Protocol):
    """An executor over several machines that can run each job on every one of them (``--ray``):
    yields (job id, outcome) once per job per machine that judged it, in any order."""

    def run_on_every_node(self, jobs: Sequence[Job]) -> Iterator[tuple[str, Outcome]]: ...


def _load(path: Path, policy: CalibrationPolicy) -> dict[str, Measured | None]:
    """What calibration.json holds: {task_id: limits, or None for "uses the fallbacks"}; {} when it is
    missing or unreadable (then everything is measured again: nothing was judged with it yet, since
    it is written before the first sample runs). ResumeMismatchError when another policy made it."""
    if not path.exists():
        return {}
    try:
        doc = json.loads(path.read_text())
        stored: dict[str, Measured | None] = {}
        old = "limits" not in doc and "limits_s" in doc
        if old:  # before CPU limits: wall seconds only, judged without a CPU limit
            stored = {str(k): Measured(float(v), None) for k, v in doc["limits_s"].items()}
        else:
            for k, v in doc["limits"].items():
                cpu = v["cpu_s"]
                stored[str(k)] = Measured(float(v["wall_s"]), None if cpu is None else float(cpu))
        stored.update({str(t): None for t in doc.get("uncalibrated", [])})
        made_with = doc.get("policy")
    except (ValueError, KeyError, TypeError, AttributeError):
        return {}
    want = _policy_doc(policy)
    if old and isinstance(made_with, dict):
        want = {k: want[k] for k in ("factor", "floor_s", "cap_s")}  # it had no CPU policy
    if made_with is not None and made_with != want:
        raise ResumeMismatchError(
            f"{path} was measured with calibration policy {made_with}, not {want}; "
            "start afresh with --overwrite, or use another -o folder"
        )
    return stored


def _policy_doc(policy: CalibrationPolicy) -> dict[str, float]:
    return {
        "factor": policy.factor,
        "floor_s": policy.floor_s,
        "cap_s": policy.cap_s,
        "cpu_factor": policy.cpu_factor,
        "cpu_floor_s": policy.cpu_floor_s,
    }


def limits_policy_doc(settings: Any, policy: CalibrationPolicy | None) -> dict[str, Any]:
    """How a run's limits are made, for its manifest: the calibration policy (None: not calibrated)
    and the fallbacks (``settings``: a ScoreSettings)."""
    return {
        "calibration": _policy_doc(policy or CalibrationPolicy()) if settings.calibrated else None,
        "cpu_timeout_s": settings.cpu_timeout_s,
        "timeout_s": settings.timeout_s,
    }


def limits_for(
    problems: ProblemSet,
    executor: Executor,
    out_dir: str | Path,
    timeout_s: float,
    policy: CalibrationPolicy | None = None,
    cpu_timeout_s: float | None = None,
) -> Callable[[Problem], Limits]:
    """Load or measure this output folder's per-problem limits; returns ``problem -> Limits``.

    Every problem measured is recorded, those that fell back to ``timeout_s`` / ``cpu_timeout_s``
    too, so a resumed run judges each problem with exactly the limits the first part used (never
    measured twice).
    """
    policy = policy or CalibrationPolicy()
    path = Path(out_dir) / CALIBRATION
    stored = _load(path, policy)
    missing = ProblemSet(
        problems.name, tuple(p for p in problems if p.task_id not in stored), problems.source
    )
    if len(missing):
        stored.update(measure(missing, executor, timeout_s, policy))
        limits: dict[str, Any] = {
            t: {"cpu_s": v.cpu_s, "wall_s": v.wall_s} for t, v in sorted(stored.items()) if v is not None
        }
        doc = {
            "policy": _policy_doc(policy),
            "limits": limits,
            "uncalibrated": sorted(t for t, v in stored.items() if v is None),
        }
        write_json_atomic(path, doc)

    def for_problem(problem: Problem) -> Limits:
        m = stored.get(problem.task_id)
        if m is None:
            return Limits(timeout_s=timeout_s, cpu_time_s=cpu_timeout_s)
        return Limits(timeout_s=m.wall_s, cpu_time_s=m.cpu_s)

    return for_problem
