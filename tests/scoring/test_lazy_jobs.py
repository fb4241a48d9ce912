"""score() builds jobs lazily: the executor pulls them, so memory does not grow with the samples.

The executors here are the real scheduler over scripted boxes (what DockerExecutor runs) and
small ones that pull in odd orders; verdicts come from markers in the completions.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from humaneval_lab.errors import InfrastructureError
from humaneval_lab.execution.base import Job, Outcome, Status
from humaneval_lab.execution.fake import FakePool, verdict_from_marker
from humaneval_lab.execution.scheduler import Deaths, Policy, schedule
from humaneval_lab.problems import ProblemSet, load_problems
from humaneval_lab.records import Sample
from humaneval_lab.scoring import ScoreSettings, score
from humaneval_lab.scoring import jobs as scoring_jobs


class SchedulerExecutor:
    """The real scheduler over FakeBoxes that answer at once: it pulls a few jobs per worker ahead."""

    name = "fake-scheduled"

    def __init__(self, jobs: int = 4) -> None:
        self.jobs = jobs
        self.pool = FakePool(lambda job, attempt: verdict_from_marker(job))

    def run(self, jobs: Iterable[Job]) -> Iterator[tuple[str, Outcome]]:
        policy = Policy(tick_s=0.01)
        pool: Any = self.pool  # FakePool is a Pool of FakeBoxes
        yield from schedule(jobs, pool, policy, self.jobs, 1, Deaths(), pool.all_boxes)

    def describe(self) -> dict[str, Any]:
        return {"executor": self.name}

    def close(self) -> None:
        pass


class LiveJobs:
    """Counts Job objects alive at once (CPython frees one when its last reference goes)."""

    def __init__(self) -> None:
        self.live = self.peak = self.made = 0

    def make(self, *args: Any) -> Job:
        job = Job(*args)
        self.live += 1
        self.made += 1
        self.peak = max(self.peak, self.live)
        weakref.finalize(job, self._gone)
        return job

    def _gone(self) -> None:
        self.live -= 1


def _one_problem() -> ProblemSet:
    return load_problems().select(limit=1)


def _distinct(ps: ProblemSet, n: int) -> list[Sample]:
    p = ps.problems[0]
    texts = (f"    # hel-verdict:{'passed' if i % 4 else 'failed'} {i}\n" for i in range(n))
    return [Sample(p.task_id, t, fields={"task_id": p.task_id, "completion": t}) for t in texts]


def test_a_long_run_never_holds_more_than_a_few_jobs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ps = _one_problem()
    n = 30_000
    samples = _distinct(ps, n)
    counter = LiveJobs()
    monkeypatch.setattr(scoring_jobs.Job, "of", counter.make)  # how score() builds its jobs
    ex = SchedulerExecutor(jobs=4)
    summary = score(samples, ps, ex, tmp_path / "o", ScoreSettings(ks=(1,)))
    assert counter.made == n and summary.executions["executed"] == n
    # 4 boxes x 2 jobs in flight each, plus the one being handed over: never the whole run.
    assert counter.peak <= 16, counter.peak
    assert summary.problems[ps.problems[0].task_id]["c"] == n - n // 4
    assert sum(1 for _ in (tmp_path / "o" / "results.jsonl").open()) == n


class PullAllThenAnswerBackwards:
    """Pulls every job before answering any, then answers in reverse: the worst order for score()."""

    name = "fake-backwards"

    def __init__(self) -> None:
        self.executed: list[str] = []

    def run(self, jobs: Iterable[Job]) -> Iterator[tuple[str, Outcome]]:
        pulled = list(jobs)
        self.executed += [j.id for j in pulled]
        for job in reversed(pulled):
            yield job.id, verdict_from_marker(job)

    def describe(self) -> dict[str, Any]:
        return {"executor": self.name}

    def close(self) -> None:
        pass


def test_identical_samples_in_flight_are_judged_once_and_written_in_sample_order(tmp_path: Path) -> None:
    ps = load_problems().select(limit=2)
    a, b = ps.problems
    rows = [
        (a, "passed 1"),
        (a, "failed 2"),
        (a, "passed 1"),
        (b, "failed 3"),
        (b, "passed 4"),
        (b, "failed 3"),
    ]
    samples = [
        Sample(
            p.task_id,
            f"    # hel-verdict:{t}\n",
            fields={"task_id": p.task_id, "completion": f"    # hel-verdict:{t}\n"},
        )
        for p, t in rows
    ]
    ex = PullAllThenAnswerBackwards()
    summary = score(samples, ps, ex, tmp_path / "o", ScoreSettings(ks=(1,)))
    assert len(ex.executed) == len(set(ex.executed)) == 4
    assert summary.executions["identical_reused"] == 2
    got = [json.loads(x) for x in (tmp_path / "o" / "results.jsonl").read_text().splitlines()]
    assert [(r["task_id"], r["verdict"]) for r in got] == [(p.task_id, t.split()[0]) for p, t in rows]


class Misbehaving:
    """An executor that yields ``answers(jobs)`` instead of one outcome per job."""

    name = "fake-misbehaving"

    def __init__(self, answers: Any) -> None:
        self.answers = answers

    def run(self, jobs: Iterable[Job]) -> Iterator[tuple[str, Outcome]]:
        return iter(self.answers(list(jobs)))

    def describe(self) -> dict[str, Any]:
        return {"executor": self.name}

    def close(self) -> None:
        pass


PASSED = Outcome(Status.PASSED, "")


@pytest.mark.parametrize(
    "answers, says",
    [
        (lambda jobs: [(j.id, PASSED) for j in jobs[:-1]], "returned no verdict for sample 2"),
        (lambda jobs: [(jobs[0].id, PASSED), (jobs[0].id, PASSED)], "a verdict for an unknown job"),
        (lambda jobs: [("not-a-job", PASSED)], "a verdict for an unknown job"),
    ],
    ids=["lost", "twice", "foreign"],
)
def test_an_executor_that_loses_or_repeats_a_job_is_an_infrastructure_error(
    tmp_path: Path, answers: Any, says: str
) -> None:
    ps = _one_problem()
    samples = _distinct(ps, 3)
    with pytest.raises(InfrastructureError, match=says):
        score(samples, ps, Misbehaving(answers), tmp_path / "o", ScoreSettings(ks=(1,)))
    # What was judged before the failure is kept for a resume; nothing after it.
    kept = (tmp_path / "o" / "results.jsonl").read_text().splitlines()
    assert all(json.loads(x)["verdict"] == "passed" for x in kept)
