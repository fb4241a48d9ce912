"""Calibrated limits: measured once per output folder, before the first sample runs, reused on resume."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
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
CANONICAL_CPU_S = {"HumanEval/0": 0.05, "HumanEval/1": 1.5}  # its CPU time, as the runner counts it


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
                    status = Status.PASSED if seconds else Status.FAILED
                    yield (
                        job.id,
                        Outcome(status, "", "", seconds or 0.1, cpu_s=CANONICAL_CPU_S.get(task, 0.1)),
                    )
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

    def sample_cpu_limits(self) -> set[float | None]:
        return {j.limits.cpu_time_s for j in self.jobs if not j.id.startswith("calibrate:")}

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
    # Wall: 20 x 0.5 s = 10 s; 20 x 2 s = 40 s. CPU: 4 x 0.05 s under the 0.5 s floor; 4 x 1.5 s = 6 s.
    # HumanEval/2 failed: no entry, --timeout (and --cpu-timeout, none here) apply.
    assert doc["limits"] == {
        "HumanEval/0": {"cpu_s": 0.5, "wall_s": 10.0},
        "HumanEval/1": {"cpu_s": 6.0, "wall_s": 40.0},
    }
    assert doc["uncalibrated"] == ["HumanEval/2"]  # recorded too: a resume must not measure it again
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert manifest["limits_policy"] == {
        "calibration": {"factor": 20.0, "floor_s": 5.0, "cap_s": 60.0, "cpu_factor": 4.0, "cpu_floor_s": 0.5},
        "cpu_timeout_s": None,
        "timeout_s": 3.0,
    }
    by_task = {j.id: (j.limits.timeout_s, j.limits.cpu_time_s) for j in ex.jobs}
    per_problem: dict[str, set[tuple[float, float | None]]] = {s.task_id: set() for s in samples}
    for s in samples:
        per_problem[s.task_id].add(by_task[dedup_key(s)])
    assert per_problem == {
        "HumanEval/0": {(10.0, 0.5)},
        "HumanEval/1": {(40.0, 6.0)},
        "HumanEval/2": {(3.0, None)},
    }


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
    doc = json.loads((tmp_path / "o" / "calibration.json").read_text())
    assert doc["limits"]["HumanEval/1"] == {"cpu_s": 6.0, "wall_s": 40.0}


def test_the_calibration_policy_is_the_callers(tmp_path: Path) -> None:
    samples, ps = _samples()
    ex = Recording()
    policy = CalibrationPolicy(factor=2.0, floor_s=1.5, cap_s=3.5, cpu_factor=2.0, cpu_floor_s=0.2)
    score(samples, ps, ex, tmp_path / "o", SETTINGS, calibration=policy)
    doc = json.loads((tmp_path / "o" / "calibration.json").read_text())
    assert doc["limits"] == {  # floor, then cap (wall); floor (2 x 0.05), then 2 x 1.5 (CPU)
        "HumanEval/0": {"cpu_s": 0.2, "wall_s": 1.5},
        "HumanEval/1": {"cpu_s": 3.0, "wall_s": 3.5},
    }
    assert doc["policy"] == {
        "factor": 2.0,
        "floor_s": 1.5,
        "cap_s": 3.5,
        "cpu_factor": 2.0,
        "cpu_floor_s": 0.2,
    }


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


def test_a_calibration_file_from_before_cpu_limits_is_read_as_it_was_judged(tmp_path: Path) -> None:
    """The old format (wall seconds only, its 3-key policy): its problems keep their wall limit and
    get no CPU limit, as the first part of the run judged them; the rest is measured with both and
    the file is written back in the new format."""
    samples, ps = _samples()
    (tmp_path / "o").mkdir()
    old = {
        "policy": {"factor": 20.0, "floor_s": 5.0, "cap_s": 60.0},
        "limits_s": {"HumanEval/0": 7.5},
        "uncalibrated": [],
    }
    (tmp_path / "o" / "calibration.json").write_text(json.dumps(old))
    ex = Recording()
    score(samples, ps, ex, tmp_path / "o", SETTINGS)
    assert ex.calibrated() == ["calibrate:HumanEval/1", "calibrate:HumanEval/2"]
    by_task = {j.id: (j.limits.timeout_s, j.limits.cpu_time_s) for j in ex.jobs}
    assert {by_task[dedup_key(s)] for s in samples if s.task_id == "HumanEval/0"} == {(7.5, None)}
    doc = json.loads((tmp_path / "o" / "calibration.json").read_text())
    assert doc["limits"] == {
        "HumanEval/0": {"cpu_s": None, "wall_s": 7.5},
        "HumanEval/1": {"cpu_s": 6.0, "wall_s": 40.0},
    }
    again = Recording()  # the new file round-trips: nothing measured, the same limits
    score(samples, ps, again, tmp_path / "again", SETTINGS)
    (tmp_path / "again" / "results.jsonl").unlink()
    (tmp_path / "again" / "calibration.json").write_text(json.dumps(doc))
    third = Recording()
    score(samples, ps, third, tmp_path / "again", SETTINGS)
    assert third.calibrated() == []
    assert {(j.limits.timeout_s, j.limits.cpu_time_s) for j in third.jobs} == {
        (7.5, None),
        (40.0, 6.0),
        (3.0, None),
    }


def test_an_old_calibration_file_made_with_another_wall_policy_is_refused(tmp_path: Path) -> None:
    samples, ps = _samples()
    (tmp_path / "o").mkdir()
    old = {"policy": {"factor": 5.0, "floor_s": 5.0, "cap_s": 60.0}, "limits_s": {"HumanEval/0": 7.5}}
    (tmp_path / "o" / "calibration.json").write_text(json.dumps(old))
    with pytest.raises(ResumeMismatchError, match="factor.: 5.0"):
        score(samples, ps, Recording(), tmp_path / "o", SETTINGS)


def test_the_cpu_timeout_is_the_fallback_where_nothing_was_calibrated(tmp_path: Path) -> None:
    samples, ps = _samples()
    plain = Recording()
    score(samples, ps, plain, tmp_path / "plain", ScoreSettings(ks=(1,), timeout_s=4.0, cpu_timeout_s=1.5))
    assert plain.sample_limits() == {4.0} and plain.sample_cpu_limits() == {1.5}
    cal = Recording()
    score(
        samples,
        ps,
        cal,
        tmp_path / "cal",
        ScoreSettings(ks=(1,), calibrated=True, timeout_s=3.0, cpu_timeout_s=1.5),
    )
    assert cal.sample_cpu_limits() == {0.5, 6.0, 1.5}  # HumanEval/2 could not be calibrated


class TwoMachines(Recording):
    """An executor over two machines (calibrate.EveryNode): each canonical solution runs on both;
    the second is slower on HumanEval/0 and fails HumanEval/1's, which passes on the first."""

    name = "fake-two-machines"

    def run_on_every_node(self, jobs: Sequence[Job]) -> Iterator[tuple[str, Outcome]]:
        for job in jobs:
            self.jobs.append(job)
            task = job.id.removeprefix("calibrate:")
            seconds = CANONICAL_S.get(task)
            for machine in (1, 2):
                if seconds is None or (machine == 2 and task == "HumanEval/1"):
                    yield job.id, Outcome(Status.FAILED, "", "", 0.1)
                    continue
                slower = 3 if machine == 2 else 1
                yield (
                    job.id,
                    Outcome(Status.PASSED, "", "", seconds * slower, cpu_s=CANONICAL_CPU_S[task] * slower),
                )


def test_on_several_machines_each_limit_is_the_slowest_machines(tmp_path: Path) -> None:
    samples, ps = _samples()
    ex = TwoMachines()
    score(samples, ps, ex, tmp_path / "o", SETTINGS)
    assert ex.calibrated() == [f"calibrate:HumanEval/{i}" for i in range(3)]
    doc = json.loads((tmp_path / "o" / "calibration.json").read_text())
    # HumanEval/0: machine 2 took 1.5 s (wall 20 x 1.5 = 30 s) and 0.15 s CPU (4 x = 0.6 s), not machine 1's
    # 0.5 s / 0.05 s (10 s and the 0.5 s floor). HumanEval/1 failed on machine 2: not calibrated.
    assert doc["limits"] == {"HumanEval/0": {"cpu_s": 0.6, "wall_s": 30.0}}
    assert doc["uncalibrated"] == ["HumanEval/1", "HumanEval/2"]
    assert ex.sample_limits() == {30.0, 3.0}
