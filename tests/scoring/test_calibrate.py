"""Calibrated limits: measured once per output folder, before the first sample runs, reused on resume."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from humaneval_lab.errors import ResumeMismatchError
from humaneval_lab.execution.base import Job, Outcome, Status
from humaneval_lab.execution.fake import verdict_from_marker
from humaneval_lab.problems import load_problems
from humaneval_lab.records import Sample
from humaneval_lab.scoring import ScoreSettings, dedup_key, score
from humaneval_lab.scoring.calibrate import CalibrationPolicy

CANONICAL_S = {"HumanEval/0": 0.5, "HumanEval/1": 2.0}  # HumanEval/2's canonical solution fails here


class Recording:
    """Canonical solutions pass in CANONICAL_S seconds; samples by marker. Records every job and
    refuses to be entered twice at once (calibration must not run inside the scoring run)."""

    name = "fake-recording"

    def __init__(self, interrupt_after: int | None = None) -> None:
        self.jobs: list[Job] = []
        self.running = False
        self.interrupt_after = interrupt_after

    def run(self, jobs: Iterable[Job]) -> Iterator[tuple[str, Outcome]]:
        assert not self.running, "run() entered while another run() is in progress"
        self.running = True
        try:
            for job in jobs:
                self.jobs.append(job)
                task = job.id.removeprefix("calibrate:")
                if job.id.startswith("calibrate:"):
                    seconds = CANONICAL_S.get(task)
                    yield job.id, Outcome(Status.PASSED if seconds else Status.FAILED, "", "", seconds or 0.1)
                    continue
                scored = sum(1 for j in self.jobs if not j.id.startswith("calibrate:"))
                if self.interrupt_after is not None and scored > self.interrupt_after:
                    raise KeyboardInterrupt
                yield job.id, verdict_from_marker(job)
        finally:
            self.running = False

    def calibrated(self) -> list[str]:
        return [j.id for j in self.jobs if j.id.startswith("calibrate:")]

    def sample_limits(self) -> set[float]:
        return {j.limits.timeout_s for j in self.jobs if not j.id.startswith("calibrate:")}

    def describe(self) -> dict[str, Any]:
        return {"executor": self.name}

    def close(self) -> None:
        pass


def _samples() -> tuple[list[Sample], Any]:
    ps = load_problems().select(limit=3)
    out = []
    for p in ps:
        for i in range(4):
            text = f"    # hel-verdict:{'passed' if i % 2 else 'failed'} {i}\n"
            out.append(Sample(p.task_id, text, fields={"task_id": p.task_id, "completion": text}))
    return out, ps


SETTINGS = ScoreSettings(ks=(1,), calibrated=True, timeout_s=3.0)


def test_limits_come_from_the_canonical_solutions_and_are_kept(tmp_path: Path) -> None:
    samples, ps = _samples()
    ex = Recording()
    score(samples, ps, ex, tmp_path / "o", SETTINGS)
    assert ex.calibrated() == [f"calibrate:HumanEval/{i}" for i in range(3)]
    assert ex.jobs[:3] == [j for j in ex.jobs if j.id.startswith("calibrate:")]  # all before any sample
    doc = json.loads((tmp_path / "o" / "calibration.json").read_text())
    # 20 x 0.5 s = 10 s; 20 x 2 s = 40 s; HumanEval/2 failed: no entry, --timeout applies.
    assert doc["limits_s"] == {"HumanEval/0": 10.0, "HumanEval/1": 40.0}
    assert doc["uncalibrated"] == ["HumanEval/2"]  # recorded too: a resume must not measure it again
    by_task = {j.id: j.limits.timeout_s for j in ex.jobs}
    per_problem: dict[str, set[float]] = {s.task_id: set() for s in samples}
    for s in samples:
        per_problem[s.task_id].add(by_task[dedup_key(s)])
    assert per_problem == {"HumanEval/0": {10.0}, "HumanEval/1": {40.0}, "HumanEval/2": {3.0}}


def test_a_resumed_run_reuses_the_calibration_and_judges_with_the_same_limits(tmp_path: Path) -> None:
    samples, ps = _samples()
    first = Recording(interrupt_after=5)
    with pytest.raises(KeyboardInterrupt):
        score(samples, ps, first, tmp_path / "o", SETTINGS)
    assert len(first.calibrated()) == 3
    kept = len((tmp_path / "o" / "results.jsonl").read_text().splitlines())
    assert 0 < kept < len(samples)

    second = Recording()
    summary = score(samples, ps, second, tmp_path / "o", SETTINGS)
    assert second.calibrated() == []  # nothing measured again
    assert summary.executions["kept_from_earlier_run"] == kept
    assert second.sample_limits() <= {10.0, 40.0, 3.0}

    whole = Recording()
    uninterrupted = score(samples, ps, whole, tmp_path / "whole", SETTINGS)
    a = [json.loads(x)["verdict"] for x in (tmp_path / "o" / "results.jsonl").read_text().splitlines()]
    b = [json.loads(x)["verdict"] for x in (tmp_path / "whole" / "results.jsonl").read_text().splitlines()]
    assert a == b and summary.pass_at_k == uninterrupted.pass_at_k


def test_a_complete_run_resumed_measures_nothing(tmp_path: Path) -> None:
    samples, ps = _samples()
    score(samples, ps, Recording(), tmp_path / "o", SETTINGS)
    (tmp_path / "o" / "calibration.json").unlink()  # even without it: no sample needs a limit
    again = Recording()
    score(samples, ps, again, tmp_path / "o", SETTINGS)
    assert again.jobs == []


def test_a_garbled_calibration_file_is_measured_again(tmp_path: Path) -> None:
    samples, ps = _samples()
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "calibration.json").write_text("{not json")
    ex = Recording()
    score(samples, ps, ex, tmp_path / "o", SETTINGS)
    assert len(ex.calibrated()) == 3
    assert json.loads((tmp_path / "o" / "calibration.json").read_text())["limits_s"]["HumanEval/1"] == 40.0


def test_the_calibration_policy_is_the_callers(tmp_path: Path) -> None:
    samples, ps = _samples()
    ex = Recording()
    policy = CalibrationPolicy(factor=2.0, floor_s=1.5, cap_s=3.5)
    score(samples, ps, ex, tmp_path / "o", SETTINGS, calibration=policy)
    doc = json.loads((tmp_path / "o" / "calibration.json").read_text())
    assert doc["limits_s"] == {"HumanEval/0": 1.5, "HumanEval/1": 3.5}  # floor, then cap
    assert doc["policy"] == {"factor": 2.0, "floor_s": 1.5, "cap_s": 3.5}


def test_without_calibration_every_job_gets_the_timeout(tmp_path: Path) -> None:
    samples, ps = _samples()
    ex = Recording()
    score(samples, ps, ex, tmp_path / "o", ScoreSettings(ks=(1,), timeout_s=4.0))
    assert ex.calibrated() == [] and ex.sample_limits() == {4.0}
    assert not (tmp_path / "o" / "calibration.json").exists()


def test_a_folder_calibrated_with_another_policy_is_refused(tmp_path: Path) -> None:
    samples, ps = _samples()
    first = Recording(interrupt_after=2)
    with pytest.raises(KeyboardInterrupt):
        score(samples, ps, first, tmp_path / "o", SETTINGS)
    other = CalibrationPolicy(factor=5.0)
    with pytest.raises(ResumeMismatchError, match="measured with calibration policy .*factor.: 20.0"):
        score(samples, ps, Recording(), tmp_path / "o", SETTINGS, calibration=other)
