"""`score` and `problems list` on EvalPlus files, through the real CLI and the real sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_helpers import one_error_line, run
from tests.conftest import write_jsonl
from tests.suites.conftest import HUMANEVAL_PLUS, MBPP, MBPP_PLUS


def test_problems_list_shows_files_with_size_and_version() -> None:
    code, out, err = run("problems", "list", "--json", str(HUMANEVAL_PLUS), str(MBPP_PLUS), str(MBPP))
    assert code == 0, err
    rows = {r["suite"]: r for r in json.loads(out)}
    assert (rows["humaneval+"]["problems"], rows["humaneval+"]["version"]) == (164, "v0.1.10")
    assert (rows["mbpp+"]["problems"], rows["mbpp+"]["version"]) == (378, "v0.2.0")
    assert (rows["mbpp"]["problems"], rows["mbpp"]["version"]) == (500, "google-research (test split)")
    assert rows["humaneval"]["version"] == "built-in"


def test_problems_list_of_a_file_that_is_no_problem_set(tmp_path: Path) -> None:
    bad = write_jsonl(tmp_path / "x.jsonl", [{"hello": 1}])
    code, _, err = run("problems", "list", str(bad))
    assert "unknown problem format" in one_error_line(code, err)


@pytest.mark.docker
def test_score_reports_base_and_plus_side_by_side(tmp_path: Path) -> None:
    right = "def minimum(a, b):\n    return min(a, b)\n"
    small_only = "def minimum(a, b):\n    return min(a, b) if abs(a) < 100 else a\n"  # fails plus #0
    wrong = "def minimum(a, b):\n    return max(a, b)\n"
    rows = [{"task_id": "Mbpp/404", "completion": c} for c in (right, small_only, wrong)]
    samples = write_jsonl(tmp_path / "s.jsonl", rows)
    out_dir = tmp_path / "run"
    code, out, err = run("score", str(samples), "--problems", str(MBPP_PLUS), "--only-sampled", "-k", "1",
                         "-j", "2", "-o", str(out_dir), "--json")  # fmt: skip
    assert code == 0, err
    summary = json.loads(out[out.index("{") :])
    assert summary["pass@k_exact"] == {"pass@1": "1/3"}
    plus = summary["evalplus"]
    assert plus["pass@k_base_exact"] == {"pass@1": "2/3"} and plus["pass@k_plus_exact"] == {"pass@1": "1/3"}
    assert plus["problems"]["Mbpp/404"]["first_failures"] == {"plus#0": 1, "base#0": 1}
    assert summary["problem_set"]["suite"]["version"] == "v0.2.0"
    manifest = json.loads((out_dir / "manifest.json").read_text())
    assert manifest["problem_set"]["suite"]["file_sha256"] == summary["problem_set"]["suite"]["file_sha256"]
    assert "EvalPlus base+plus" in err  # the table goes to stderr when --json takes stdout
