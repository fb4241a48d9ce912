"""Issue 12, data and workflow items: each test does what the user did, through the real CLI.

Scoring runs on ``--sandbox local`` (real Python processes judged by the same runner as the sandbox);
what only the Docker sandbox can show is in tests/sandbox/test_docker_workflows.py.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from humaneval_lab.execution.base import Job, Outcome
from humaneval_lab.problems import load_problems, load_suite

from .cli_helpers import one_error_line, run
from .conftest import write_jsonl
from .run_factory import make_run

LOCAL = ("--sandbox", "local", "--no-calibrate", "-k", "1", "--jobs", "1")


def flat(text: str) -> str:
    """Output with runs of whitespace as one space: a terminal may wrap long lines."""
    return " ".join(text.split())


def rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text().splitlines()]


def sample_fake(out: Path, *args: str) -> Path:
    code, _, err = run("sample", "--backend", "fake", "-o", str(out), *args)
    assert code == 0, err
    return out


# ---------------------------------------------------------------------------------------------- item 1


def test_limit_scores_a_subset_of_a_bigger_sample_file(tmp_path: Path) -> None:
    samples = sample_fake(
        tmp_path / "runs" / "demo" / "samples.jsonl", "--model", "canonical", "--limit", "4", "-n", "2"
    )
    code, out, err = run("score", str(samples), "--limit", "2", *LOCAL, "-o", str(tmp_path / "out"), "--json")
    assert code == 0, err
    summary = json.loads(out)  # stdout is the JSON and nothing else
    assert list(summary["problems"]) == ["HumanEval/0", "HumanEval/1"]
    assert summary["pass@k"] == {"pass@1": 1.0} and summary["samples"]["count"] == 4
    assert summary["executions"]["skipped_outside_selection"] == 4
    note = "skipped 4 of 8 samples: their problems are outside the selection (--limit/--language/--task)"
    assert note in summary["notes"]
    assert flat(err).count(note) == 1  # said once on screen
    assert len(rows(tmp_path / "out" / "results.jsonl")) == 4


def test_language_scores_one_language_of_a_polyglot_file(tmp_path: Path) -> None:
    poly = load_suite("polyglot").select(limit=2)  # two problems of each language
    samples = write_jsonl(tmp_path / "poly.jsonl", [{"task_id": p.task_id, "completion": p.canonical_solution,
                                                     "language": p.language} for p in poly])  # fmt: skip
    languages = {r["language"] for r in rows(samples)}
    assert len(languages) > 1 and "perl" in languages
    code, out, err = run("score", str(samples), "--suite", "polyglot", "--language", "perl", "--limit", "2", *LOCAL,
                         "-o", str(tmp_path / "perl"), "--json")  # fmt: skip
    assert code == 0, err
    summary = json.loads(out)
    assert list(summary["languages"]) == ["perl"] and summary["pass@k"] == {"pass@1": 1.0}
    skipped = len(rows(samples)) - 2
    assert summary["executions"]["skipped_outside_selection"] == skipped
    assert flat(err).count(f"skipped {skipped} of {len(rows(samples))} samples") == 1


def test_a_truly_unknown_task_is_an_error_with_a_right_suggestion(tmp_path: Path) -> None:
    s = write_jsonl(tmp_path / "s.jsonl", [{"task_id": "HumanEval/999", "completion": "x"}])
    code, out, err = run("score", str(s), "--limit", "5", *LOCAL, "-o", str(tmp_path / "o"))
    line = one_error_line(code, err)
    assert out == ""
    assert f"{s}:1: task 'HumanEval/999' is not in problem set 'humaneval' (164 problems)" in line
    assert "--problems FILE" in line and "--suite" not in line

    lua = next(p for p in load_suite("polyglot") if p.language == "lua")
    s2 = write_jsonl(tmp_path / "lua.jsonl", [{"task_id": lua.task_id, "completion": "x"}])
    line = one_error_line(*run("score", str(s2), *LOCAL, "-o", str(tmp_path / "o2"))[::2])
    assert "it is in suite 'polyglot': score with --suite polyglot" in line
    assert not (tmp_path / "o").exists() and not (tmp_path / "o2").exists()


# ---------------------------------------------------------------------------------------------- item 2


@pytest.fixture
def two_runs(tmp_path: Path) -> tuple[Path, Path]:
    a, b = tmp_path / "runs" / "a", tmp_path / "runs" / "b"
    make_run(a, [(2, 1), (2, 2), (2, 0)])
    make_run(b, [(2, 1), (2, 2), (2, 1)])
    return a, b


def test_output_paths_get_their_parent_folders(tmp_path: Path, two_runs: tuple[Path, Path]) -> None:
    a, b = map(str, two_runs)
    junit = tmp_path / "ci-reports" / "nested" / "gate.xml"
    code, out, err = run(
        "gate", "--baseline", a, "--candidate", b, "--max-drop", "0.5", "--junit", str(junit)
    )
    assert code in (0, 1), err  # a verdict, never exit 4
    assert "Traceback" not in err and ET.parse(junit).getroot().tag == "testsuites"

    html = tmp_path / "newdir" / "sub" / "r.html"
    code, out, err = run("report", a, b, "-o", str(html))
    assert code == 0, err
    assert html.read_text().startswith("<!doctype html") or "<html" in html.read_text()

    md = tmp_path / "md" / "comment.md"
    code, out, err = run("report", a, b, "--format", "markdown", "-o", str(md))
    assert code == 0 and out == "", err
    assert md.read_text().startswith("## humaneval-lab")

    samples = sample_fake(tmp_path / "x" / "y" / "s.jsonl", "--model", "canonical", "--task", "HumanEval/0")
    assert samples.exists()
    code, _, err = run(
        "score", str(samples), "--task", "HumanEval/0", *LOCAL, "-o", str(tmp_path / "p" / "q" / "r")
    )
    assert code == 0, err
    assert (tmp_path / "p" / "q" / "r" / "summary.json").exists()


def test_unwritable_output_paths_are_one_line_exit_2(tmp_path: Path, two_runs: tuple[Path, Path]) -> None:
    a, b = map(str, two_runs)
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be")
    line = one_error_line(*run("gate", "--baseline", a, "--candidate", b, "--max-drop", "0.5",
                               "--junit", str(blocker / "gate.xml"))[::2])  # fmt: skip
    assert "cannot create its folder" in line
    line = one_error_line(*run("report", a, b, "-o", str(tmp_path))[::2])
    assert "is a directory" in line  # click's own check of -o
    line = one_error_line(*run("report", a, b, "-o", str(blocker / "r.html"))[::2])
    assert "cannot create its folder" in line
    code, _, err = run("sample", "--backend", "fake", "--model", "canonical", "--task", "HumanEval/0",
                       "-o", str(blocker / "s.jsonl"))  # fmt: skip
    assert "cannot create its folder" in one_error_line(code, err)
    s = write_jsonl(tmp_path / "s.jsonl", [{"task_id": "HumanEval/0", "completion": "    return True\n"}])
    code, _, err = run("score", str(s), "--task", "HumanEval/0", *LOCAL, "-o", str(blocker / "out"))
    assert code == 2 and "Traceback" not in err and str(blocker) in one_error_line(code, err)


# ---------------------------------------------------------------------------------------------- item 3


def test_results_keep_the_samples_own_fields_and_join_on_task_and_index(tmp_path: Path) -> None:
    samples = sample_fake(tmp_path / "d" / "samples.jsonl", "--model", "mixed", "--limit", "3", "-n", "4")
    # The file's order is not the sample order: a resume or a parallel sampler writes in any order.
    shuffled = rows(samples)[::-1]
    sfile = write_jsonl(tmp_path / "d" / "reversed.jsonl", shuffled)
    code, out, err = run("score", str(sfile), "--limit", "3", *LOCAL, "-o", str(tmp_path / "o"), "--json")
    assert code == 0, err
    results = rows(tmp_path / "o" / "results.jsonl")
    assert len(results) == len(shuffled) == 12
    for position, (sample, result) in enumerate(zip(shuffled, results, strict=True), start=1):
        assert {k: result[k] for k in sample} == sample  # every field as it was, sample_index included
        assert result["line"] == position
    assert {(r["task_id"], r["sample_index"]) for r in results} == {
        (s["task_id"], s["sample_index"]) for s in shuffled
    }

    # The report's "first failing sample #N" is the sample's own index, within 0..n-1.
    from humaneval_lab.runs import failing_examples, load_run

    examples = failing_examples(load_run(tmp_path / "o"))
    assert examples, "mixed samples must fail somewhere"
    for task, ex in examples.items():
        first = next(r for r in results if r["task_id"] == task and not r["passed"])
        assert ex.sample_index == first["sample_index"] and 0 <= ex.sample_index < 4


def test_duplicate_sample_identity_is_refused(tmp_path: Path) -> None:
    dup = [{"task_id": "HumanEval/0", "completion": c, "sample_index": 0} for c in ("a", "b")]
    s = write_jsonl(tmp_path / "s.jsonl", dup)
    line = one_error_line(
        *run("score", str(s), "--task", "HumanEval/0", *LOCAL, "-o", str(tmp_path / "o"))[::2]
    )
    assert "sample 0 of HumanEval/0 appears twice in the samples (lines 1 and 2)" in line


# ---------------------------------------------------------------------------------------------- item 4


def test_python_failures_say_which_assert_and_show_the_candidates_frames(tmp_path: Path) -> None:
    s = write_jsonl(tmp_path / "s.jsonl", [
        {"task_id": "HumanEval/0", "completion": "    return False\n"},
        {"task_id": "HumanEval/0", "completion": "    return helper(numbers)\n\ndef helper(n):\n    raise ValueError('boom')\n"},
        {"task_id": "HumanEval/0", "completion": "    while True:\n        pass\n"},
    ])  # fmt: skip
    code, _, err = run(
        "score", str(s), "--task", "HumanEval/0", *LOCAL, "--timeout", "2", "-o", str(tmp_path / "o")
    )
    assert code == 0, err
    wrong, raises, loops = rows(tmp_path / "o" / "results.jsonl")
    assert wrong["verdict"] == "failed"
    assert wrong["reason"].startswith(
        "AssertionError: assert candidate([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3) == True"
    )
    assert "has_close_elements([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3) returned False" in wrong["reason"]
    assert raises["verdict"] == "error" and raises["reason"].startswith(
        "ValueError: boom (in has_close_elements("
    )
    tail = raises["stderr_tail"]
    assert re.search(r'File "candidate\.py", line \d+, in helper\n    raise ValueError\(\'boom\'\)', tail), (
        tail
    )
    assert 'File "test", line 10, in check\n    assert candidate(' in tail
    for row in (wrong, raises):
        assert "hel_pydriver" not in row["stderr_tail"] and "<tests>" not in row["stderr_tail"]
    assert loops["verdict"] == "timeout" and loops["reason"] == "timed out after 2.0 s (--timeout)"


# ---------------------------------------------------------------------------------------------- item 7


def test_the_model_travels_from_the_samples_manifest_to_summary_compare_and_report(tmp_path: Path) -> None:
    samples = sample_fake(tmp_path / "runs" / "demo" / "samples.jsonl", "--model", "mixed", "--limit", "2",
                          "-n", "2", "--temperature", "0.5", "--seed", "3")  # fmt: skip
    a, b = tmp_path / "runs" / "demo" / "score", tmp_path / "runs" / "rc1"
    code, out, err = run("score", str(samples), "--limit", "2", *LOCAL, "-o", str(a), "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert list(summary)[:2] == ["pass@k", "pass@k_exact"]  # the headline first
    assert summary["name"] == "mixed (demo)"  # not the folder's basename, "score"
    model = summary["model"]
    assert (model["name"], model["backend"], model["n"], model["temperature"], model["top_p"],
            model["max_new_tokens"], model["prompt_mode"], model["seed"]) == ("mixed", "fake", 2, 0.5, 0.95, 512, "raw", 3)  # fmt: skip
    assert json.loads((a / "summary.json").read_text())["model"] == model
    code, _, err = run("score", str(samples), "--limit", "2", *LOCAL, "-o", str(b), "--name", "rc1")
    assert code == 0, err

    code, out, err = run("compare", str(a), str(b), "--json")
    assert code == 0, err
    comparison = json.loads(out)
    assert comparison["runs"] == ["mixed (demo)", "rc1"]
    assert comparison["models"]["rc1"]["temperature"] == 0.5
    # The per-run line is human output; which stream carries it is the output-streams work's call.
    assert (
        "mixed (demo): mixed (fake), n=2, temperature 0.5, top_p 0.95, max_new_tokens 512, prompt raw, seed 3"
        in flat(out + err)
    )

    code, out, err = run("report", str(a), str(b), "--format", "markdown")
    assert code == 0, err
    assert (
        "| rc1 | mixed (fake), n=2, temperature 0.5, top_p 0.95, max_new_tokens 512, prompt raw, seed 3 |"
        in out
    )
    html = tmp_path / "r.html"
    assert run("report", str(a), str(b), "-o", str(html))[0] == 0
    assert "mixed (fake), n=2, temperature 0.5" in html.read_text()


def test_samples_without_a_manifest_are_named_by_their_file(tmp_path: Path) -> None:
    s = write_jsonl(
        tmp_path / "ckpt-1200.jsonl", [{"task_id": "HumanEval/0", "completion": "    return True\n"}]
    )
    code, out, err = run(
        "score", str(s), "--task", "HumanEval/0", *LOCAL, "-o", str(tmp_path / "score"), "--json"
    )
    assert code == 0, err
    summary = json.loads(out)
    assert summary["name"] == "ckpt-1200" and summary["model"] is None


# ---------------------------------------------------------------------------------------------- item 8


def test_refusal_names_the_setting_and_overwrite_starts_afresh(tmp_path: Path) -> None:
    p = load_problems().problems[0]
    other = load_problems().problems[1]
    s = write_jsonl(tmp_path / "s.jsonl", [{"task_id": p.task_id, "completion": p.canonical_solution}] * 2
                    + [{"task_id": other.task_id, "completion": other.canonical_solution}])  # fmt: skip
    base = ["score", str(s), "--task", p.task_id, *LOCAL, "-o", str(tmp_path / "o")]
    assert run(*base)[0] == 0
    code, out, err = run(*base, "--timeout", "3")
    line = one_error_line(code, err)
    assert "the settings changed: timeout_s was 10.0, now 3.0" in line and "--overwrite" in line and out == ""

    code, out, err = run(*base, "--task", other.task_id)
    line = one_error_line(code, err)
    assert "the problem set changed: " in line and "size was 1, now 2" in line

    code, out, err = run(*base, "--timeout", "3", "--overwrite", "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["settings"]["timeout_s"] == 3.0
    assert summary["executions"]["executed"] == 1 and summary["executions"]["kept_from_earlier_run"] == 0
    assert len(rows(tmp_path / "o" / "results.jsonl")) == 2  # fresh, not appended to the old lines
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert manifest["verdict_settings"]["timeout_s"] == 3.0
    assert run(*base, "--timeout", "3")[0] == 0  # and it now resumes under the new settings


# ---------------------------------------------------------------------------------------------- item 9 + Ctrl-C


class InterruptAfter:
    """The real local executor, and a Ctrl-C after ``after`` verdicts."""

    def __init__(self, inner: Any, after: int) -> None:
        self.inner, self.after, self.name = inner, after, "interrupting"

    def run(self, jobs: Iterable[Job]) -> Iterator[tuple[str, Outcome]]:
        for i, item in enumerate(self.inner.run(jobs)):
            if i == self.after:
                raise KeyboardInterrupt
            yield item

    def describe(self) -> dict[str, Any]:
        return dict(self.inner.describe())

    def close(self) -> None:
        self.inner.close()


def test_counts_are_parts_of_one_whole_and_ctrl_c_says_what_was_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ps = load_problems().select(limit=4)
    data = []
    for p in ps:  # right, the same right text again (judged once), wrong
        data += [{"task_id": p.task_id, "completion": p.canonical_solution},
                 {"task_id": p.task_id, "completion": p.canonical_solution},
                 {"task_id": p.task_id, "completion": "    return None\n"}]  # fmt: skip
    s = write_jsonl(tmp_path / "s.jsonl", data)
    args = ["score", str(s), "--limit", "3", *LOCAL, "-o", str(tmp_path / "o")]

    import humaneval_lab.execution as execution

    real = execution.make_executor
    monkeypatch.setattr(execution, "make_executor", lambda *a, **k: InterruptAfter(real(*a, **k), 2))
    code, out, err = run(*args)
    assert code == 130 and out == "" and "Traceback" not in err, err
    kept = len(rows(tmp_path / "o" / "results.jsonl"))
    assert 2 <= kept < 9
    assert f"interrupted: {kept} of 9 results kept in {tmp_path / 'o' / 'results.jsonl'}; " \
           "re-run the same command to resume" in flat(err)  # fmt: skip

    monkeypatch.setattr(execution, "make_executor", real)
    code, out, err = run(*args, "--json")
    assert code == 0, err
    ex = json.loads(out)["executions"]
    assert (
        ex["samples"] == 12 and ex["kept_from_earlier_run"] == kept and ex["skipped_outside_selection"] == 3
    )
    assert ex["executed"] > 0 and ex["identical_reused"] > 0
    assert (
        ex["executed"]
        + ex["identical_reused"]
        + ex["kept_from_earlier_run"]
        + ex["skipped_outside_selection"]
        == 12
    )
    m = re.search(r"(\d+) samples: (\d+) executed, (\d+) identical ones reused, (\d+) kept from an earlier run, "
                  r"(\d+) skipped", flat(err))  # fmt: skip
    assert m, err
    total, *parts = map(int, m.groups())
    assert total == 12 and sum(parts) == 12


# ---------------------------------------------------------------------------------------------- item 11


def test_only_sampled_says_so(tmp_path: Path) -> None:
    p = load_problems().problems[0]
    s = write_jsonl(tmp_path / "s.jsonl", [{"task_id": p.task_id, "completion": p.canonical_solution}])
    code, out, err = run(
        "score", str(s), "--limit", "3", "--only-sampled", *LOCAL, "-o", str(tmp_path / "o"), "--json"
    )
    assert code == 0, err
    note = "--only-sampled: scored only the 1 of 3 selected problems that have samples"
    assert note in json.loads(out)["notes"] and flat(err).count(note) == 1


# ---------------------------------------------------------------------------------------------- smaller


def test_sample_says_when_samples_hit_max_new_tokens_and_warns_on_greedy_n(tmp_path: Path) -> None:
    code, out, err = run("sample", "--backend", "fake", "--model", "canonical", "--limit", "2", "--num-samples", "2",
                         "--max-new-tokens", "1", "-o", str(tmp_path / "s.jsonl"), "--json")  # fmt: skip
    assert code == 0, err
    note = "4/4 samples hit --max-new-tokens (1)"
    assert note in flat(err) and any(note in n for n in json.loads(out)["notes"])
    assert len(rows(tmp_path / "s.jsonl")) == 4  # --num-samples is -n

    code, out, err = run("sample", "--backend", "fake", "--model", "canonical", "--limit", "1", "-n", "3",
                         "--temperature", "0", "-o", str(tmp_path / "g.jsonl"))  # fmt: skip
    assert code == 0, err
    warning = "warning: temperature 0 is greedy: the 3 samples of a problem will be (nearly) identical"
    assert flat(err).count(warning) == 1

    code, out, err = run("sample", "--backend", "fake", "--model", "canonical", "--limit", "1", "-n", "1",
                         "--temperature", "0", "-o", str(tmp_path / "g1.jsonl"))  # fmt: skip
    assert code == 0 and "greedy" not in err


def test_sample_help_documents_the_fake_models() -> None:
    code, out, _ = run("sample", "--help")
    assert code == 0 and "--num-samples" in out
    for mode in ("canonical (the canonical solutions)", "mixed (right or wrong by seed)", "bytes", "chat"):
        assert mode in flat(out)


def test_ctrl_c_in_sample_says_what_was_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from humaneval_lab.sampling.fake import FakeBackend

    real = FakeBackend.generate

    def interrupted(self: FakeBackend, items: Any, config: Any) -> Iterator[Any]:
        for i, gen in enumerate(real(self, items, config)):
            if i == 3:
                raise KeyboardInterrupt
            yield gen

    monkeypatch.setattr(FakeBackend, "generate", interrupted)
    out = tmp_path / "s.jsonl"
    args = ["sample", "--backend", "fake", "--model", "canonical", "--limit", "3", "-n", "2", "-o", str(out)]
    code, stdout, err = run(*args)
    assert code == 130 and stdout == "" and "Traceback" not in err
    assert f"interrupted: 3 of 6 samples kept in {out}; re-run the same command to resume" in flat(err)
    monkeypatch.setattr(FakeBackend, "generate", real)
    code, out, err = run(*args)
    assert code == 0 and "3 generated, 3 kept from an earlier run" in flat(out), err


def test_a_selection_with_none_of_the_samples_says_so(tmp_path: Path) -> None:
    s = write_jsonl(tmp_path / "s.jsonl", [{"task_id": "HumanEval/0", "completion": "    return True\n"}])
    code, out, err = run("score", str(s), "--task", "HumanEval/7", *LOCAL, "-o", str(tmp_path / "o"))
    line = one_error_line(code, err)
    assert (
        "none of the 1 samples is of a selected problem (1 selected from 'humaneval')" in line and out == ""
    )


def test_hash_seeds_are_recorded_fixed_or_per_sample(tmp_path: Path) -> None:
    samples = sample_fake(tmp_path / "s.jsonl", "--model", "canonical", "--limit", "3", "-n", "2")
    seeds = {}
    for mode in ("fixed", "per-sample"):
        code, _, err = run(
            "score", str(samples), "--limit", "3", *LOCAL, "-o", str(tmp_path / mode), "--hash-seeds", mode
        )
        assert code == 0, err
        seeds[mode] = [r["hash_seed"] for r in rows(tmp_path / mode / "results.jsonl")]
    assert seeds["fixed"] == [0] * 6
    # derived from the sample (task and completion): the canonical model's two identical completions
    # of a problem are one execution and share theirs; other problems differ
    per = seeds["per-sample"]
    assert per[0::2] == per[1::2] and len(set(per)) == 3 and all(0 <= s < 2**32 for s in per)
    # a resume with the other mode would judge differently: refused, naming the setting
    code, _, err = run(
        "score",
        str(samples),
        "--limit",
        "3",
        *LOCAL,
        "-o",
        str(tmp_path / "fixed"),
        "--hash-seeds",
        "per-sample",
    )
    assert code == 2 and "hash_seeds was" in err


def test_cpu_timeout_stops_a_loop_by_its_cpu_time_and_says_so(tmp_path: Path) -> None:
    """--cpu-timeout (the CPU fallback) beside --timeout (the wall one): the loop is a ``cpu`` timeout,
    the sleeper a ``wall`` one; results.jsonl, summary.json and the manifest say which."""
    s = write_jsonl(tmp_path / "s.jsonl", [
        {"task_id": "HumanEval/0", "completion": "    while True:\n        pass\n"},
        {"task_id": "HumanEval/0", "completion": "    import time\n    time.sleep(1e6)\n"},
        {"task_id": "HumanEval/0", "completion": "    return any(abs(a - b) < threshold for i, a in enumerate(numbers) for b in numbers[i + 1:])\n"},
    ])  # fmt: skip
    args = ("score", str(s), "--task", "HumanEval/0", *LOCAL, "--timeout", "30", "--cpu-timeout", "0.5")
    code, out, err = run(*args, "--json", "-o", str(tmp_path / "o"))
    assert code == 0, err
    loops, sleeps, ok = rows(tmp_path / "o" / "results.jsonl")
    assert (loops["verdict"], loops["timeout"]) == ("timeout", "cpu")
    assert loops["reason"] == "exceeded the CPU time limit of 0.5 s (--cpu-timeout)"
    assert 0.5 <= loops["cpu_s"] < 30 and loops["duration_s"] < 30
    assert (sleeps["verdict"], sleeps["timeout"]) == ("timeout", "wall")
    assert sleeps["reason"] == "timed out after 30.0 s (--timeout)" and sleeps["cpu_s"] < 0.5
    assert ok["verdict"] == "passed" and "timeout" not in ok
    summary = json.loads(out)
    assert summary["timeouts"] == {"cpu": 1, "wall": 1} and summary["verdicts"]["timeout"] == 2
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert manifest["verdict_settings"]["cpu_timeout_s"] == 0.5
    assert manifest["limits_policy"] == {"calibration": None, "cpu_timeout_s": 0.5, "timeout_s": 30.0}
    # A resume keeps each timeout's kind; another CPU limit is another setting.
    code, out, err = run(*args, "--json", "-o", str(tmp_path / "o"))
    assert code == 0 and json.loads(out)["timeouts"] == {"cpu": 1, "wall": 1}, err
    line = one_error_line(*run(*args[:-1], "0.7", "-o", str(tmp_path / "o"))[::2])
    assert "cpu_timeout_s was 0.5, now 0.7" in line


@pytest.mark.parametrize("bad", ["0", "-1"])
def test_a_cpu_timeout_that_is_not_positive_is_refused(tmp_path: Path, bad: str) -> None:
    s = write_jsonl(tmp_path / "s.jsonl", [{"task_id": "HumanEval/0", "completion": "    return True\n"}])
    line = one_error_line(*run("score", str(s), *LOCAL, "--cpu-timeout", bad, "-o", str(tmp_path / "o"))[::2])
    assert line == f"error: --cpu-timeout must be positive, got {float(bad)}"
