from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from .cli_helpers import one_error_line, run
from .run_factory import make_run

BASE = [(5, c) for c in (0, 1, 2, 3, 4, 5)] * 5


def runs(tmp_path: Path) -> dict[str, Path]:
    worse = [(n, max(0, c - 3)) for n, c in BASE]
    make_run(tmp_path / "base", BASE, ks=(1, 5))
    make_run(tmp_path / "same", BASE, ks=(1, 5))
    make_run(tmp_path / "worse", worse, ks=(1, 5))
    make_run(tmp_path / "other", BASE[:-1], ks=(1, 5))
    return {p.name: p for p in tmp_path.iterdir()}


def test_help_has_examples() -> None:
    for cmd in ("compare", "gate", "report"):
        code, out, _ = run(cmd, "--help")
        assert code == 0 and "Example:" in out and f"humaneval-lab {cmd}" in out


def test_compare_prints_tables_and_json(tmp_path: Path) -> None:
    r = runs(tmp_path)
    code, out, err = run("compare", str(r["base"]), str(r["worse"]), "--json", "--resamples", "500")
    assert code == 0, err
    data = json.loads(out)
    assert data["runs"] == ["base", "worse"] and data["ks"] == [1, 5]
    (pair,) = data["pairs"]
    d1 = next(d for d in pair["differences"] if d["k"] == 1)
    assert d1["interval"]["estimate"] == -0.4 and d1["interval"]["high"] < 0 and d1["test"]["p_value"] < 0.01
    assert [f["task_id"] for f in pair["lost"]] == [f"HumanEval/{i}" for i in range(30) if i % 6 in (1, 2, 3)]
    assert "worse - base" in err and "solved only by base (15)" in err and "-40.00 pts" in err


def test_compare_refusals_exit_2_with_one_line(tmp_path: Path) -> None:
    r = runs(tmp_path)
    line = one_error_line(*run("compare", str(r["base"]), str(r["other"]))[::2])
    assert "different problem sets" in line
    line = one_error_line(*run("compare", str(r["base"]), str(r["same"]), "-k", "7")[::2])
    assert "pass@7 cannot be computed for base" in line
    line = one_error_line(*run("compare", str(r["base"]), str(tmp_path / "missing"))[::2])
    assert "no such run folder" in line
    code, _, err = run("compare", str(r["base"]))
    assert code == 2 and "at least two runs" in err


def test_gate_exit_codes_json_and_junit(tmp_path: Path) -> None:
    r = runs(tmp_path)
    junit = tmp_path / "gate.xml"
    code, out, err = run("gate", "--baseline", str(r["base"]), "--candidate", str(r["same"]), "--max-drop", "0.01",
                         "--json", "--junit", str(junit))  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["passed"] is True and err.startswith("PASS: pass@1 (overall)")
    suite = ET.parse(junit).getroot()
    assert suite.get("failures") == "0" and suite.find(".//failure") is None
    assert suite.find(".//testcase").get("name").startswith("pass@1 overall: same vs base")  # type: ignore[union-attr]

    code, out, err = run("gate", "--baseline", str(r["base"]), "--candidate", str(r["worse"]), "--max-drop", "0.01",
                         "--metric", "pass@5", "--json", "--junit", str(junit))  # fmt: skip
    assert code == 1, err
    data = json.loads(out)
    assert (
        data["passed"] is False
        and data["metric"] == "pass@5"
        and data["difference"]["interval"]["upper_bound"] < 0
    )
    assert err.startswith("FAIL (regression): pass@5")
    failure = ET.parse(junit).getroot().find(".//failure")
    assert (
        failure is not None
        and failure.get("type") == "Regression"
        and "FAIL" in (failure.get("message") or "")
    )


def test_gate_bad_usage_exits_2(tmp_path: Path) -> None:
    r = runs(tmp_path)
    b, s = str(r["base"]), str(r["same"])
    code, out, err = run("gate", "--baseline", b, "--candidate", s)
    assert code == 2 and "Missing option '--max-drop'" in err and out == ""
    code, _, err = run("gate", "--baseline", b, "--candidate", s, "--max-drop", "-0.1")
    assert code == 2 and "--max-drop" in err
    code, _, err = run("gate", "--baseline", b, "--candidate", s, "--max-drop", "0.01", "--confidence", "1.5")
    assert code == 2 and "--confidence" in err
    for extra, msg in ((["--metric", "pass@9"], "pass@9 cannot be computed"),
                       (["--metric", "accuracy"], "metric must look like pass@1"),
                       (["--language", "go"], "language 'go' is not in the runs")):  # fmt: skip
        line = one_error_line(
            *run("gate", "--baseline", b, "--candidate", s, "--max-drop", "0.01", *extra)[::2]
        )
        assert msg in line
    line = one_error_line(
        *run("gate", "--baseline", b, "--candidate", str(r["other"]), "--max-drop", "0.01")[::2]
    )
    assert "different problem sets" in line


def test_report_html_and_markdown(tmp_path: Path) -> None:
    r = runs(tmp_path)
    page = tmp_path / "report.html"
    code, out, err = run("report", str(r["base"]), str(r["worse"]), "-o", str(page), "--resamples", "200")
    assert code == 0, err
    assert out == "" and f"wrote {page}" in err
    html = page.read_text()
    assert html.startswith("<!DOCTYPE html>") and 'id="chart-curves"' in html
    code, out, err = run(
        "report", str(r["base"]), str(r["worse"]), "--format", "markdown", "--resamples", "200"
    )
    assert code == 0, err
    assert (
        out.startswith("## humaneval-lab: base vs worse")
        and "| pass@1 | overall | 50.00% | 10.00% | **-40.00 pts**" in out
    )
    code, _, err = run("report", str(r["base"]), "--format", "html")
    assert code == 2 and "html needs -o FILE" in err


def test_runs_judged_by_different_sandboxes_need_a_flag(tmp_path: Path) -> None:
    r = runs(tmp_path)
    spath = r["worse"] / "summary.json"
    data = json.loads(spath.read_text())
    data["sandbox"] = {"executor": "docker", "image_id": "sha256:" + "e" * 64}
    spath.write_text(json.dumps(data))
    for cmd in (["compare", str(r["base"]), str(r["worse"])], ["gate", str(r["base"]), str(r["worse"]),
                "--max-drop", "0.5"], ["report", str(r["base"]), str(r["worse"]), "-o", str(tmp_path / "r.md")]):  # fmt: skip
        code, out, err = run(*cmd, "--resamples", "200")
        line = one_error_line(code, err)
        assert (
            "judged by different sandboxes (executor marker vs docker, image_id None vs eeeeeeeeeeee)" in line
        )
        assert "--allow-mixed-sandboxes" in line and out == ""
        code, out, err = run(*cmd, "--resamples", "200", "--allow-mixed-sandboxes")
        assert code in (0, 1), err
        page = (tmp_path / "r.md").read_text() if cmd[0] == "report" else ""
        assert "different sandboxes" in (err + out if cmd[0] != "report" else page)


def test_the_bootstrap_seed_is_not_called_seed(tmp_path: Path) -> None:
    r = runs(tmp_path)
    base = ["compare", str(r["base"]), str(r["worse"]), "--resamples", "200", "--json"]
    code, out, _ = run(*base, "--bootstrap-seed", "7")
    assert code == 0 and json.loads(out)["seed"] == 7
    assert "--seed" in one_error_line(*run(*base, "--seed", "7")[:3:2])
