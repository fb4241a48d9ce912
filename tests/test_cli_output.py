"""Where each command's output goes, how it looks outside a terminal, and one number format (issue 12).

Each test does what a user did, through the real CLI: stdout and stderr are asserted apart. Click's
test runner gives the command pipes, not a terminal, i.e. what a CI log or a redirect sees.
"""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from rich.console import Console

from humaneval_lab import console as console_mod
from humaneval_lab.console import PlainProgress, summary_table
from humaneval_lab.problems import load_problems

from .cli_helpers import one_error_line, run
from .conftest import write_jsonl
from .run_factory import make_run

# 20 problems, 4 samples each: pass@1 1/80 = 1.25% for the baseline, 32/80 = 40.00% for the candidate
# (the issue's own numbers), and a run that loses 40 points against BASE.
LOW = [(4, 1)] + [(4, 0)] * 19
HIGH = [(4, 4)] * 8 + [(4, 0)] * 12
BASE = [(5, c) for c in (0, 1, 2, 3, 4, 5)] * 5
WORSE = [(n, max(0, c - 3)) for n, c in BASE]
# What the same numbers looked like before one format was used everywhere.
OTHER_FORMATS = re.compile(r"0\.0125|0\.4000|\b1\.2%|\b1\.3%|\b40\.0%|\b38\.8")


@pytest.fixture
def low_high(tmp_path: Path) -> tuple[str, str]:
    make_run(tmp_path / "low", LOW)
    make_run(tmp_path / "high", HIGH)
    return str(tmp_path / "low"), str(tmp_path / "high")


@pytest.fixture
def base_worse(tmp_path: Path) -> tuple[str, str]:
    make_run(tmp_path / "base", BASE, ks=(1, 5))
    make_run(tmp_path / "worse", WORSE, ks=(1, 5))
    return str(tmp_path / "base"), str(tmp_path / "worse")


def canonical_samples(tmp_path: Path, count: int) -> Path:
    rows = [
        {"task_id": p.task_id, "completion": p.canonical_solution} for p in load_problems().problems[:count]
    ]
    return write_jsonl(tmp_path / "canonical.jsonl", rows)


# ---------------------------------------------------------------------------------------------- item 5


def test_problems_list_table_goes_to_stdout() -> None:
    code, out, err = run("problems", "list")
    assert code == 0, err
    assert err == ""
    assert re.search(r"humaneval\s.*164", out) and "polyglot" in out


def test_compare_tables_go_to_stdout_json_replaces_them(base_worse: tuple[str, str]) -> None:
    code, out, err = run("compare", *base_worse, "--resamples", "200")
    assert code == 0, err
    assert err == ""
    assert "worse - base" in out and "solved only by base (15)" in out and "-40.00 pts" in out

    code, out, err = run("compare", *base_worse, "--resamples", "200", "--json")
    assert code == 0, err
    assert json.loads(out)["runs"] == ["base", "worse"]  # stdout is the JSON, nothing else
    assert "worse - base" in err  # the human tables still reach the log


def test_gate_verdict_goes_to_stdout(base_worse: tuple[str, str], tmp_path: Path) -> None:
    code, out, err = run("gate", *base_worse, "--max-drop", "0.01", "--resamples", "200")
    assert code == 1
    assert err == ""
    assert out.startswith("FAIL (regression): pass@1 (overall) 50.00% -> 10.00% (-40.00 pts); 95% one-sided")

    code, out, err = run("gate", *base_worse, "--max-drop", "0.01", "--resamples", "200", "--json")
    assert code == 1
    assert json.loads(out)["passed"] is False
    assert err.startswith("FAIL (regression)")


def test_score_table_goes_to_stdout_notes_to_stderr(tmp_path: Path) -> None:
    samples = canonical_samples(tmp_path, 3)
    o = tmp_path / "o"
    code, out, err = run("score", str(samples), "--limit", "3", "--sandbox", "local", "-k", "1", "-o", str(o))
    assert code == 0, err
    assert re.search(r"python\s.*\s3\s.*100\.00%", out) and "3 samples" in out
    assert "warning" not in out and "wrote" not in out and "scored" not in out
    assert "warning" in err and f"wrote {o}/results.jsonl" in err and "100.00%" not in err

    code, out, err = run(
        "score", str(samples), "--limit", "3", "--sandbox", "local", "-k", "1", "-o", str(o), "--json"
    )
    assert code == 0, err
    assert json.loads(out)["pass@k"] == {"pass@1": 1.0}
    assert "100.00%" in err  # the table moved to stderr, beside the notes


def test_report_file_note_on_stderr_markdown_on_stdout(base_worse: tuple[str, str], tmp_path: Path) -> None:
    page = tmp_path / "r.html"
    code, out, err = run("report", *base_worse, "-o", str(page), "--resamples", "200")
    assert code == 0, err
    assert out == "" and err.strip() == f"wrote {page}"
    code, out, err = run("report", *base_worse, "--format", "markdown", "--resamples", "200")
    assert code == 0, err
    assert out.startswith("## humaneval-lab:") and err == ""


def test_sample_summary_goes_to_stdout(tmp_path: Path) -> None:
    s = tmp_path / "s.jsonl"
    code, out, err = run(
        "sample", "--backend", "fake", "--model", "canonical", "--limit", "2", "-n", "2", "-o", str(s)
    )
    assert code == 0, err
    assert out.startswith(f"4 samples in {s} (4 generated, 0 kept")
    assert "samples in" not in err


# ---------------------------------------------------------------------------------------------- item 6


def test_plain_progress_lines_every_interval() -> None:
    now = [0.0]
    lines: list[str] = []
    p = PlainProgress("scored", 10.0, lines.append, clock=lambda: now[0])
    for t, done in ((0, 0), (5, 10), (10, 40), (15, 50), (25, 100), (26, 100)):
        now[0] = t
        p.update(done, 100)
    # One line at 10 s, none before, one at the end and no second end line.
    assert lines == ["scored 40/100 (40%), 4.0/s, eta 15s", "scored 100/100 (100%), 4.0/s, took 25s"]


def test_plain_progress_counts_only_new_work_on_resume() -> None:
    now = [0.0]
    lines: list[str] = []
    p = PlainProgress("sampled", 10.0, lines.append, clock=lambda: now[0])
    p.update(3000, 3280, "0.0 tokens/s")  # kept from an earlier run
    now[0] = 100.0
    p.update(3200, 3280, "512.3 tokens/s")
    assert lines == ["sampled 3200/3280 (97%), 2.0/s, 512.3 tokens/s, eta 40s"]


LINE = r"\d+\.\d/s(, [\d.]+ tokens/s)?(, (eta|took) \d+[hms]\S*)?"  # no eta before the first result


def test_score_prints_plain_progress_outside_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console_mod, "PLAIN_PROGRESS_INTERVAL_S", 0.0)  # every update, not every 10 s
    samples = canonical_samples(tmp_path, 4)
    code, out, err = run(
        "score", str(samples), "--limit", "4", "--sandbox", "local", "-k", "1", "-o", str(tmp_path / "o")
    )
    assert code == 0, err
    progress = [ln for ln in err.splitlines() if ln.startswith("scored ")]
    assert progress and all(re.fullmatch(rf"scored [0-4]/4 \(\d+%\), {LINE}", ln) for ln in progress), (
        progress
    )
    assert progress[-1].startswith("scored 4/4 (100%), ") and "took" in progress[-1]
    assert "\x1b[" not in err and "━" not in err  # no escape codes, no bar drawing in a log
    assert not any(ln.startswith("scored") for ln in out.splitlines())


def test_sample_prints_plain_progress_outside_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console_mod, "PLAIN_PROGRESS_INTERVAL_S", 0.0)
    s = tmp_path / "s.jsonl"
    code, out, err = run(
        "sample", "--backend", "fake", "--model", "canonical", "--limit", "3", "-n", "2", "-o", str(s)
    )
    assert code == 0, err
    progress = [ln for ln in err.splitlines() if ln.startswith("sampled ")]
    assert progress and all(re.fullmatch(rf"sampled [0-6]/6 \(\d+%\), {LINE}", ln) for ln in progress), (
        progress
    )
    assert progress[-1].startswith("sampled 6/6 (100%)") and "tokens/s" in progress[-1]


def test_no_hard_wrap_at_80_columns_in_logs(tmp_path: Path) -> None:
    long_a = tmp_path / ("checkpoint-" + "a" * 70)
    long_b = tmp_path / ("checkpoint-" + "b" * 70)
    make_run(long_a, BASE, ks=(1, 5))
    make_run(long_b, WORSE, ks=(1, 5))
    code, out, err = run("compare", str(long_a), str(long_b), "--resamples", "200")
    assert code == 0, err
    # Each run's row holds its whole name and its numbers on one line (rich would fold it at 80).
    for name, value in ((long_a.name, "50.00%"), (long_b.name, "10.00%")):
        assert any(name in ln and value in ln for ln in out.splitlines()), out
    samples = canonical_samples(tmp_path, 1)
    o = tmp_path / ("score-" + "o" * 60)
    code, out, err = run("score", str(samples), "--limit", "1", "--sandbox", "local", "-k", "1", "-o", str(o))
    assert code == 0, err
    assert f"wrote {o}/results.jsonl and {o}/summary.json" in err.splitlines()


# ---------------------------------------------------------------------------------------------- item 10


def test_one_number_format_everywhere(low_high: tuple[str, str], tmp_path: Path) -> None:
    the_change = "1.25% -> 40.00% (+38.75 pts)"
    texts = {}
    code, out, err = run("compare", *low_high, "--resamples", "200")
    assert code == 0, err
    assert the_change in out and re.search(r"low\s.*1\.25%", out) and re.search(r"high\s.*40\.00%", out)
    texts["compare"] = out

    junit = tmp_path / "gate.xml"
    code, out, err = run("gate", *low_high, "--max-drop", "0.01", "--resamples", "200", "--junit", str(junit))
    assert code == 0, err
    assert out.startswith(f"PASS: pass@1 (overall) {the_change}; 95% one-sided lower bound +")
    assert out.rstrip().endswith("the candidate drops by at most 1.00 pts")
    texts["gate"] = out
    case = ET.parse(junit).getroot().find(".//testcase")
    assert case is not None and case.get("name", "").endswith("(max drop 1.00 pts)")
    system_out = case.find("system-out")
    assert system_out is not None and the_change in (system_out.text or "")
    props = {p.get("name"): p.get("value") for p in ET.parse(junit).getroot().iter("property")}
    assert props["change"] == the_change and props["baseline_value"] == "0.0125"  # exact values stay too
    # The human text of the JUnit file; its <property> values stay exact floats, for machines.
    texts["junit"] = f"{case.get('name')} {system_out.text}"

    code, md, err = run("report", *low_high, "--format", "markdown", "--resamples", "200")
    assert code == 0, err
    model = "unknown (no samples.manifest.json)"  # the runs' samples have no manifest
    assert f"| low | {model} | 80 | 1.25% |" in md and f"| high | {model} | 80 | 40.00% |" in md
    assert "| pass@1 | overall | 1.25% | 40.00% | **+38.75 pts** |" in md
    texts["markdown"] = md

    page = tmp_path / "r.html"
    assert run("report", *low_high, "-o", str(page), "--resamples", "200")[0] == 0
    html = page.read_text()
    assert "<td>1.25%</td><td>40.00%</td>" in html and "+38.75 pts" in html
    texts["html"] = html.split('<script type="application/json"', 1)[0]  # the numbers a reader sees

    table = io.StringIO()
    Console(file=table, width=200).print(
        summary_table(json.loads((Path(low_high[0]) / "summary.json").read_text()))
    )
    assert "1.25%" in table.getvalue()
    texts["score table"] = table.getvalue()

    for where, text in texts.items():
        assert not OTHER_FORMATS.search(text), f"{where}: {OTHER_FORMATS.search(text)}"


# ---------------------------------------------------------------------------------------------- smaller


@pytest.mark.parametrize("cmd", ["score", "compare", "report"])
def test_k_is_one_option_everywhere(cmd: str) -> None:
    code, out, _ = run(cmd, "--help")
    assert code == 0
    assert re.search(r"-k, --k K\[,K\.\.\.\]\s+Comma-separated k for pass@k, e\.g\. 1,10", out), out
    for flag in ("-k", "--k"):
        line = one_error_line(*run(cmd, "a", "b", flag, "1,x")[::2])
        assert line.startswith(
            "error: Invalid value for '-k' / '--k': expected comma-separated integers like 1,10,100, got '1,x' (see `"
        ), line


def test_score_takes_long_k(tmp_path: Path) -> None:
    samples = canonical_samples(tmp_path, 2)
    code, out, err = run(
        "score",
        str(samples),
        "--limit",
        "2",
        "--sandbox",
        "local",
        "--k",
        "1",
        "-o",
        str(tmp_path / "o"),
        "--json",
    )
    assert code == 0, err
    assert list(json.loads(out)["pass@k"]) == ["pass@1"]


def test_gate_takes_runs_as_arguments_like_compare(base_worse: tuple[str, str], tmp_path: Path) -> None:
    b, w = base_worse
    positional = run("gate", b, w, "--max-drop", "0.01", "--resamples", "200")
    options = run("gate", "--baseline", b, "--candidate", w, "--max-drop", "0.01", "--resamples", "200")
    assert positional == options and positional[0] == 1 and positional[1].startswith("FAIL (regression)")
    for args in ([b, "--candidate", w], [b], [b, w, w], ["--baseline", b]):
        line = one_error_line(*run("gate", *args, "--max-drop", "0.01")[::2])
        assert "BASELINE CANDIDATE" in line, line


def test_report_format_follows_the_extension(base_worse: tuple[str, str], tmp_path: Path) -> None:
    for name, head in (
        ("r.md", "## humaneval-lab:"),
        ("r.MARKDOWN", "## humaneval-lab:"),
        ("r.html", "<!DOCTYPE html>"),
    ):
        code, out, err = run("report", *base_worse, "-o", str(tmp_path / name), "--resamples", "200")
        assert code == 0, err
        assert (tmp_path / name).read_text().startswith(head), name
    code, _, err = run(
        "report", *base_worse, "--format", "html", "-o", str(tmp_path / "x.md"), "--resamples", "200"
    )
    assert code == 0, err
    assert (tmp_path / "x.md").read_text().startswith("<!DOCTYPE html>")  # an explicit --format wins
    code, _, err = run("report", *base_worse)
    assert code == 2 and "html needs -o FILE" in err


def test_problems_show_has_only_the_options_that_apply() -> None:
    code, out, _ = run("problems", "show", "--help")
    assert code == 0 and "--suite" in out and "--problems" in out
    assert "--limit" not in out and "--language" not in out and "--task" not in out
    line = one_error_line(*run("problems", "show", "HumanEval/3", "--limit", "5")[::2])
    assert "No such option '--limit'" in line
    code, out, _ = run("problems", "show", "--suite", "polyglot", "polyglot/lua/0")
    assert code == 0 and json.loads(out)["language"] == "lua"


def test_confidence_help_says_what_it_is_for() -> None:
    for cmd in ("compare", "report"):
        out = run(cmd, "--help")[1]
        assert "--confidence" in out and "gate" not in out.split("--confidence", 1)[1].split("\n  -", 1)[0]
    out = " ".join(run("gate", "--help")[1].split())  # click wraps help text at the terminal's width
    assert "Confidence level of the gate's one-sided lower bound" in out
