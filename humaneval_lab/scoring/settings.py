"""What can change a verdict or a number (``ScoreSettings``), and the time-limit policy built on it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from humaneval_lab.errors import ConfigError
from humaneval_lab.execution.base import Executor, Limits, Outcome, Status
from humaneval_lab.problems import Problem, ProblemSet
from humaneval_lab.problemsets import job_limits as problemset_limits
from humaneval_lab.problemsets import job_limits_note
from humaneval_lab.scoring.calibrate import CalibrationPolicy, limits_for

DEFAULT_KS = (1, 10, 100)


@dataclass(frozen=True)
class ScoreSettings:
    """Everything that can change a verdict or a number; recorded in the manifest and summary.

    Raises ConfigError (a ValueError too) for a value out of range.
    """

    ks: tuple[int, ...] = DEFAULT_KS
    ks_explicit: bool = False  # asked for by the user: then k > n is an error, not a silent drop
    timeout_s: float = 10.0  # wall clock, the fallback (calibrated problems get their own)
    # CPU time of a job's whole process tree, the fallback (calibrated problems get their own);
    # None: no such limit where none was calibrated.
    cpu_timeout_s: float | None = None
    jobs: int = 1
    only_sampled: bool = False
    calibrated: bool = False  # per-problem limits from the canonical solutions (calibration.json)
    # PYTHONHASHSEED: "fixed" (0 for every sample: the sandbox's warm processes run them) or
    # "per-sample" (derived from the sample, see hash_seed_of: each Python sample then needs fresh
    # interpreters, since Python fixes its hash secret when it starts; several times slower).
    hash_seeds: str = "fixed"

    def __post_init__(self) -> None:
        if not self.ks or any(k < 1 for k in self.ks):
            raise ConfigError(f"k values must be positive integers, got {list(self.ks)}")
        if not self.timeout_s > 0:
            raise ConfigError(f"--timeout must be positive, got {self.timeout_s}")
        if self.cpu_timeout_s is not None and not self.cpu_timeout_s > 0:
            raise ConfigError(f"--cpu-timeout must be positive, got {self.cpu_timeout_s}")
        if self.jobs < 1:
            raise ConfigError(f"--jobs must be at least 1, got {self.jobs}")
        if self.hash_seeds not in ("fixed", "per-sample"):
            raise ConfigError(f"hash seeds must be 'fixed' or 'per-sample', got {self.hash_seeds!r}")

    def verdict_relevant(self) -> dict[str, Any]:
        """Settings that change verdicts (a resume must match them); jobs and ks do not."""
        return {
            "timeout_s": self.timeout_s,
            "cpu_timeout_s": self.cpu_timeout_s,
            "calibrated": self.calibrated,
            "hash_seeds": self.hash_seeds,
        }


class LimitsPolicy:
    """Each problem's time limits, wall clock and CPU time: ``settings.timeout_s`` and
    ``settings.cpu_timeout_s``, or with ``settings.calibrated`` the limits measured from its canonical
    solution on ``executor`` (see calibrate.py; a problem it could not time falls back to those).

    ``prepare()`` measures what calibration.json in ``out_dir`` lacks; call it before the run
    starts, when some sample needs executing (never from inside ``executor.run``: calibration runs
    on the same executor). ``limits`` then answers without running anything.
    """

    def __init__(
        self,
        settings: ScoreSettings,
        problems: ProblemSet,
        executor: Executor,
        out_dir: str | Path,
        calibration: CalibrationPolicy | None = None,
    ) -> None:
        self.settings, self.problems, self.executor = settings, problems, executor
        self.out_dir, self.calibration = Path(out_dir), calibration
        self._calibrated: dict[str, Limits] | None = None
        self._own_notes: dict[Limits, str] = {}  # problem sets' own limits -> what they are

    def prepare(self) -> None:
        if self.settings.calibrated and self._calibrated is None:
            # Problems that bring their own limits (EvalPlus: per input, from the canonical's time
            # inside the judge) are not calibrated: that would run their canonical solutions for nothing.
            timed = [p for p in self.problems if problemset_limits(p) is None]
            if not timed:
                self._calibrated = {}
                return
            subset = ProblemSet(self.problems.name, tuple(timed), self.problems.source, self.problems.meta)
            of = limits_for(
                subset,
                self.executor,
                self.out_dir,
                self.settings.timeout_s,
                self.calibration,
                self.settings.cpu_timeout_s,
            )
            self._calibrated = {p.task_id: of(p) for p in timed}

    def _fallback(self) -> Limits:
        return Limits(timeout_s=self.settings.timeout_s, cpu_time_s=self.settings.cpu_timeout_s)

    def limits(self, problem: Problem) -> Limits:
        own = problemset_limits(problem)
        if own is not None:
            self._own_notes[own] = own_limit_note(problem)
            return own
        if not self.settings.calibrated:
            return self._fallback()
        if self._calibrated is None:
            raise RuntimeError("LimitsPolicy.limits before prepare() with calibration on")  # a bug
        return self._calibrated.get(problem.task_id, self._fallback())

    def explain_timeout(self, o: Outcome, limits: Limits) -> Outcome:
        """``explain_timeout(self.settings, o, limits, own)``, ``own`` the note of a problem set's
        own limit when ``limits`` is one."""
        return explain_timeout(self.settings, o, limits, self._own_notes.get(limits, ""))


def own_limit_note(problem: Problem) -> str:
    """What a problem set's own limit is (e.g. EvalPlus's job backstop), "" when it has none: the
    note a timeout's reason gives instead of "(calibrated)" or the fallback flag."""
    if problemset_limits(problem) is None:
        return ""
    return job_limits_note(problem) or "the problem set's own limit"


def explain_timeout(settings: ScoreSettings, o: Outcome, limits: Limits, own: str = "") -> Outcome:
    """A timeout's reason names the limit that was hit (CPU time or wall clock) and where it came
    from (calibrated, the --cpu-timeout / --timeout fallback, or ``own``: the problem set's own
    limit, see ``own_limit_note``). A pure function of its arguments: the driver and a Ray node
    (which writes the result line) give the same reason."""
    if o.status is not Status.TIMEOUT or (o.timeout == "cpu" and "job's CPU time" not in o.reason):
        return o  # RLIMIT_CPU (one process) is another limit; its reason says so already
    if o.timeout == "cpu" and limits.cpu_time_s is not None:
        t, flag, fallback = limits.cpu_time_s, "--cpu-timeout", settings.cpu_timeout_s
        what = "exceeded the CPU time limit of"
    else:
        t, flag, fallback = limits.timeout_s, "--timeout", settings.timeout_s
        what = "timed out after"
    # A calibrated limit differs from the fallback; a problem calibration could not time (no
    # canonical solution, or it failed) falls back to it.
    calibrated = settings.calibrated and t != fallback
    reason = f"{what} {f'{t:.1f}' if float(t).is_integer() else f'{t:g}'} s "
    reason += f"({own})" if own else "(calibrated)" if calibrated else f"({flag})"
    if o.reason and "the time limit" not in o.reason and "CPU time limit" not in o.reason:
        reason += f"; {o.reason}"  # how it was stopped, when that says more (e.g. the host stopped it)
    return replace(o, reason=reason)
