"""Issue 12 through the real sandbox: why a Python sample failed, timeouts that name their limit,
and one language of a polyglot file scored alone (what the user typed)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from humaneval_lab.cli import main
from humaneval_lab.problems import load_suite

pytestmark = pytest.mark.docker


def run_cli(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stdout, r.stderr


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_python_reasons_in_the_sandbox(tmp_path: Path, sandbox_image: str) -> None:
    s = write_jsonl(tmp_path / "s.jsonl", [
        {"task_id": "HumanEval/0", "completion": "    return False\n"},
        {"task_id": "HumanEval/0", "completion": "    return helper(numbers)\n\ndef helper(n):\n    raise ValueError('boom')\n"},
        {"task_id": "HumanEval/0", "completion": "    while True:\n        pass\n"},
        {"task_id": "HumanEval/0", "completion": "    return False\nundefined_name()\n"},
    ])  # fmt: skip
    code, out, err = run_cli("score", str(s), "--task", "HumanEval/0", "-k", "1", "--jobs", "1",
                             "--image", sandbox_image, "-o", str(tmp_path / "o"), "--json")  # fmt: skip
    assert code == 0, err
    wrong, raises, loops, load = [
        json.loads(x) for x in (tmp_path / "o" / "results.jsonl").read_text().splitlines()
    ]
    assert wrong["verdict"] == "failed"
    assert wrong["reason"].startswith(
        "AssertionError: assert candidate([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3) == True"
    )
    assert "has_close_elements([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3) returned False" in wrong["reason"]
    assert raises["verdict"] == "error" and raises["reason"].startswith(
        "ValueError: boom (in has_close_elements("
    )
    assert re.search(
        r'File "candidate\.py", line \d+, in helper\n    raise ValueError\(\'boom\'\)', raises["stderr_tail"]
    )
    assert load["verdict"] == "error" and load["reason"] == "NameError: name 'undefined_name' is not defined"
    assert re.search(
        r'File "candidate\.py", line \d+, in <module>\n    undefined_name\(\)', load["stderr_tail"]
    )
    for row in (wrong, raises, load):
        assert "hel_pydriver" not in row["stderr_tail"] and "<tests>" not in row["stderr_tail"], row[
            "stderr_tail"
        ]
    # Calibrated: the limits measured from the canonical solution on this host, as stored for the
    # folder; the loop is stopped by its CPU-time limit, not the (far longer) wall clock.
    limits = json.loads((tmp_path / "o" / "calibration.json").read_text())["limits"]["HumanEval/0"]
    cpu = limits["cpu_s"]
    assert 0 < cpu < limits["wall_s"]
    shown = f"{cpu:.1f}" if float(cpu).is_integer() else f"{cpu:g}"
    assert (loops["verdict"], loops["timeout"]) == ("timeout", "cpu")
    assert loops["reason"] == f"exceeded the CPU time limit of {shown} s (calibrated)"
    assert cpu <= loops["cpu_s"] < limits["wall_s"]
    summary = json.loads(out)
    assert summary["timeouts"] == {"cpu": 1}


def test_one_language_of_a_polyglot_file(tmp_path: Path, sandbox_image: str) -> None:
    poly = load_suite("polyglot")
    s = write_jsonl(
        tmp_path / "poly.jsonl", [{"task_id": p.task_id, "completion": p.canonical_solution} for p in poly]
    )
    code, out, err = run_cli("score", str(s), "--suite", "polyglot", "--language", "lua", "--limit", "3", "-k", "1",
                             "--jobs", "1", "--image", sandbox_image, "-o", str(tmp_path / "lua"), "--json")  # fmt: skip
    assert code == 0, err
    summary = json.loads(out)
    assert list(summary["languages"]) == ["lua"] and summary["pass@k"] == {"pass@1": 1.0}
    assert summary["executions"]["skipped_outside_selection"] == len(poly) - 3
    note = f"skipped {len(poly) - 3} of {len(poly)} samples"
    assert " ".join(err.split()).count(note) == 1 and any(note in n for n in summary["notes"])
