from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from humaneval_lab.compare import compare, gate, parse_metric
from humaneval_lab.errors import InputFileError, PassAtKError, UserInputError
from humaneval_lab.runs import failing_examples, load_run

from .run_factory import make_run, problem_set


def random_counts(rng: np.random.Generator, problems: int, n: int) -> list[tuple[int, int]]:
    return [(n, int(c)) for c in rng.integers(0, n + 1, size=problems)]


def test_load_run_reads_what_score_wrote(tmp_path: Path) -> None:
    run = make_run(tmp_path / "ckpt-1", [(4, 0), (4, 2), (4, 4)], ks=(1, 2))
    assert run.name == "ckpt-1" and run.ks == (1, 2) and run.min_n == 4 and run.samples == 12
    assert [(p.n, p.c) for p in run.problems] == [(4, 0), (4, 2), (4, 4)]
    assert run.pass_at_k == {"pass@1": 0.5, "pass@2": pytest.approx((1 + 5 / 6 + 0) / 3)}
    assert run.problems[1].verdicts == {"passed": 2, "timeout": 1, "failed": 1}
    ex = failing_examples(run)
    assert set(ex) == {"HumanEval/0", "HumanEval/1"}  # HumanEval/2 never fails
    assert "hel-verdict:timeout sample 2" in ex["HumanEval/1"].completion
    assert ex["HumanEval/1"].verdict == "timeout" and "AssertionError" in ex["HumanEval/1"].stderr_tail


def test_missing_and_incomplete_folders_are_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="no such run folder"):
        load_run(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputFileError, match="not a run folder"):
        load_run(tmp_path / "empty")
    make_run(tmp_path / "r", [(3, 1), (3, 2)])
    cut = tmp_path / "cut"
    shutil.copytree(tmp_path / "r", cut)
    lines = (cut / "results.jsonl").read_text().splitlines(keepends=True)
    (cut / "results.jsonl").write_text("".join(lines[:-2]))
    with pytest.raises(InputFileError, match="incomplete or modified run: 4 result lines for 6 samples"):
        load_run(cut)
    (cut / "summary.json").unlink()
    with pytest.raises(InputFileError, match="incomplete run: results.jsonl but no summary.json"):
        load_run(cut)
    edited = tmp_path / "edited"
    shutil.copytree(tmp_path / "r", edited)
    data = json.loads((edited / "summary.json").read_text())
    data["pass@k"]["pass@1"] = 0.99
    (edited / "summary.json").write_text(json.dumps(data))
    with pytest.raises(InputFileError, match="does not follow from the per-problem counts"):
        load_run(edited)
    (edited / "summary.json").write_text("[1, 2]")
    with pytest.raises(InputFileError, match="expected a JSON object"):
        load_run(edited)


def test_compare_reports_scores_differences_and_flips(tmp_path: Path) -> None:
    a = make_run(tmp_path / "a", [(4, 0), (4, 1), (4, 4), (4, 2), (4, 0)], ks=(1, 4))
    b = make_run(tmp_path / "b", [(4, 2), (4, 0), (4, 4), (4, 2), (4, 0)], ks=(1, 4))
    c = compare([a, b], resamples=500)
    assert c.ks == (1, 4) and c.runs == ("a", "b")
    by = {(s.run, s.k): s for s in c.scores}
    assert by[("a", 1)].value == a.pass_at_k["pass@1"] and by[("a", 1)].exact == "7/20"
    assert by[("b", 1)].exact == "2/5"
    (pair,) = c.pairs
    d1 = next(d for d in pair.differences if d.k == 1)
    assert d1.estimate == pytest.approx(0.05) and d1.interval.low <= 0.05 <= d1.interval.high
    assert [f.task_id for f in pair.gained] == ["HumanEval/0"]
    assert [f.task_id for f in pair.lost] == ["HumanEval/1"]
    assert pair.lost[0].baseline_rate == 0.25 and pair.lost[0].candidate_rate == 0.0


def test_compare_per_language_scopes_and_stratified_overall(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ps = problem_set(6, ("python", "cpp"))
    a = make_run(tmp_path / "a", [(2, 1)] * 6, ps, monkeypatch=monkeypatch)
    b = make_run(tmp_path / "b", [(2, 2), (2, 1)] * 3, ps, monkeypatch=monkeypatch)
    c = compare([a, b], resamples=500)
    scopes = {(d.scope, d.estimate) for d in c.pairs[0].differences}
    assert scopes == {("overall", 0.25), ("python", 0.5), ("cpp", 0.0)}
    cpp = next(d for d in c.pairs[0].differences if d.scope == "cpp")
    assert (cpp.interval.low, cpp.interval.high, cpp.test.p_value) == (0.0, 0.0, 1.0)


def test_refuses_different_problem_sets(tmp_path: Path) -> None:
    a = make_run(tmp_path / "a", [(2, 1)] * 4)
    b = make_run(tmp_path / "b", [(2, 1)] * 5)
    with pytest.raises(
        UserInputError, match="different problem sets: a on humaneval .4 problems.*b on humaneval .5"
    ):
        compare([a, b])
    with pytest.raises(UserInputError, match="different problem sets"):
        gate(a, b, 0.01)


def test_refuses_different_k_unless_a_common_k_is_chosen(tmp_path: Path) -> None:
    a = make_run(tmp_path / "a", [(5, 1)] * 3, ks=(1, 5))
    b = make_run(tmp_path / "b", [(2, 1)] * 3, ks=(1, 2))
    with pytest.raises(
        UserInputError, match="different k: a reports pass@1, pass@5, b reports pass@1, pass@2"
    ):
        compare([a, b])
    assert compare([a, b], ks=[1, 2], resamples=200).ks == (1, 2)  # n differs; pass@k is unbiased for both
    with pytest.raises(
        PassAtKError, match="pass@5 cannot be computed for b: its smallest per-problem sample count is 2"
    ):
        compare([a, b], ks=[5])
    with pytest.raises(PassAtKError, match="pass@5 cannot be computed for b"):
        gate(a, b, 0.01, metric="pass@5")


def test_identical_runs_never_fail_the_gate(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    for i in range(25):
        counts = random_counts(rng, int(rng.integers(1, 30)), int(rng.integers(1, 6)))
        a = make_run(tmp_path / f"a{i}", counts)
        b = make_run(tmp_path / f"b{i}", counts)  # scored separately, same outcomes
        for max_drop in (0.0, 0.01, 0.2):
            for confidence in (0.5, 0.95, 0.999):
                d = gate(a, b, max_drop, confidence=confidence, seed=i, resamples=300)
                assert d.passed, d.verdict
                assert d.verdict.startswith("PASS")


def test_a_clear_regression_always_fails_the_gate(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    for i in range(20):
        base = [(10, int(c)) for c in rng.integers(6, 11, size=40)]
        cand = [(n, max(0, c - int(rng.integers(4, 7)))) for n, c in base]  # -4 to -6 of 10 on every problem
        a = make_run(tmp_path / f"a{i}", base)
        b = make_run(tmp_path / f"b{i}", cand)
        d = gate(a, b, 0.05, seed=i, resamples=500)
        assert not d.passed and d.verdict.startswith("FAIL (regression)"), d.verdict
        assert d.difference.interval.upper_bound < -0.05


def test_gate_is_non_inferiority_small_noisy_evals_are_inconclusive(tmp_path: Path) -> None:
    # Three problems, one sample each, one flip: the point estimate is a -33 pt drop, but the
    # evidence cannot bound it either way: the gate fails and says why.
    a = make_run(tmp_path / "a", [(1, 1), (1, 1), (1, 0)])
    b = make_run(tmp_path / "b", [(1, 1), (1, 0), (1, 0)])
    d = gate(a, b, 0.01)
    assert not d.passed and d.verdict.startswith("FAIL (inconclusive)")
    # A real improvement passes, and so does a drop that stays provably within max_drop.
    base = [(10, c) for c in range(11)] * 4
    up = [(10, min(10, c + 2)) for _, c in base]
    assert gate(make_run(tmp_path / "c", base), make_run(tmp_path / "d", up), 0.0).passed
    small_drop = [(10, c - 1 if i % 10 == 0 and c else c) for i, (_, c) in enumerate(base)]
    g = gate(make_run(tmp_path / "e", base), make_run(tmp_path / "f", small_drop), 0.05)
    assert g.passed and -0.05 <= g.difference.interval.lower_bound < 0


def test_gate_rejects_bad_settings(tmp_path: Path) -> None:
    a = make_run(tmp_path / "a", [(2, 1)] * 3)
    for kwargs, match in (
        ({"max_drop": -0.1}, "max-drop must be a non-negative"),
        ({"max_drop": 5.0}, "fraction of 1"),
        ({"max_drop": 0.01, "metric": "acc"}, "metric must look like pass@1"),
        ({"max_drop": 0.01, "language": "cobol"}, "language 'cobol' is not in the runs"),
        ({"max_drop": 0.01, "confidence": 1.0}, "confidence must be between 0 and 1"),
    ):
        with pytest.raises(UserInputError, match=match):
            gate(a, a, **kwargs)  # type: ignore[arg-type]
    assert parse_metric("pass@10") == 10


def _with_sandbox(run_dir: Path, sandbox: dict[str, object] | None) -> None:
    """Rewrite what a run's summary says judged it (None: a run from before this was recorded)."""
    spath = run_dir / "summary.json"
    data = json.loads(spath.read_text())
    if sandbox is None:
        data.pop("sandbox", None)
    else:
        data["sandbox"] = sandbox
    spath.write_text(json.dumps(data))


def test_runs_judged_by_different_sandboxes_are_refused_unless_allowed(tmp_path: Path) -> None:
    a_dir, b_dir = tmp_path / "a", tmp_path / "b"
    make_run(a_dir, [(2, 1)] * 4)
    make_run(b_dir, [(2, 1)] * 4)
    assert load_run(a_dir).sandbox == {"executor": "marker"}  # what score recorded
    box = {
        "executor": "docker",
        "image_id": "sha256:" + "a" * 64,
        "judge_sha256": "1" * 64,
        "limits": {"m": 1},
    }
    _with_sandbox(a_dir, box)
    _with_sandbox(b_dir, {**box, "judge_sha256": "2" * 64})
    a, b = load_run(a_dir), load_run(b_dir)
    with pytest.raises(
        UserInputError, match=r"different sandboxes \(judge_sha256 1{12} vs 2{12}\).*--allow-mixed"
    ):
        compare([a, b])
    with pytest.raises(UserInputError, match="different sandboxes"):
        gate(a, b, 0.01)
    mixed = compare([a, b], allow_mixed_sandboxes=True, resamples=200)
    assert any("different sandboxes" in n for n in mixed.notes)
    assert any(
        "different sandboxes" in n for n in gate(a, b, 0.01, allow_mixed_sandboxes=True, resamples=200).notes
    )
    _with_sandbox(b_dir, box)
    assert not compare([a, load_run(b_dir)], resamples=200).notes  # the same sandbox: nothing to say
    _with_sandbox(b_dir, None)
    old = compare([a, load_run(b_dir)], resamples=200)
    assert old.notes == ("b: the sandbox that judged it is not recorded",)
