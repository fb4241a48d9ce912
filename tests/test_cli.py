from __future__ import annotations

import json
from pathlib import Path

import pytest

from humaneval_lab.problems import load_problems

from .cli_helpers import one_error_line, run
from .conftest import write_jsonl


def test_help_has_examples() -> None:
    for cmd in (["--help"], ["score", "--help"], ["problems", "list", "--help"]):
        code, out, _ = run(*cmd)
        assert code == 0 and "Example" in out


def test_problems_list_json() -> None:
    code, out, _ = run("problems", "list", "--json")
    rows = {r["suite"]: r for r in json.loads(out)}
    assert code == 0 and rows["humaneval"]["problems"] == 164


def test_problems_show() -> None:
    code, out, _ = run("problems", "show", "HumanEval/3")
    assert code == 0 and json.loads(out)["entry_point"] == "below_zero"


def test_score_all_humaneval_canonical_solutions_pass(tmp_path: Path) -> None:
    rows = [{"task_id": p.task_id, "completion": p.canonical_solution} for p in load_problems()]
    samples = write_jsonl(tmp_path / "canonical.jsonl", rows)
    code, out, err = run(
        "score", str(samples), "--sandbox", "local", "-k", "1", "-o", str(tmp_path / "run"), "--json"
    )
    assert code == 0, err
    summary = json.loads(out)
    assert summary["pass@k"] == {"pass@1": 1.0} and summary["verdicts"] == {"passed": 164}
    assert (
        "pass@1" in err and "100.00%" in err and "warning" in err
    )  # the table and the local warning go to stderr
    lines = (tmp_path / "run" / "results.jsonl").read_text().splitlines()
    assert len(lines) == 164 and all(json.loads(x)["passed"] for x in lines)


@pytest.mark.parametrize(
    "content,args,message",
    [
        (b'{"task_id": "HumanEval/0", "completion": "x"}\n{bad\n', [], "samples.jsonl:2: malformed JSON"),
        (b'{"task_id": "HumanEval/999", "completion": "x"}\n', [], "HumanEval/999"),
        (b'{"task_id": "HumanEval/0"}\n', [], "missing field 'completion'"),
        (b"", [], "empty"),
        (b'{"task_id": "HumanEval/0", "completion": "\xff\xfe"}\n', [], "not valid UTF-8"),
        (
            b'{"task_id": "HumanEval/0", "completion": "x"}\n',
            ["--task", "HumanEval/0", "-k", "1,5"],
            "pass@5 needs at least 5",
        ),
        (b'{"task_id": "HumanEval/0", "completion": "x"}\n', [], "163 of 164 problems have no samples"),
        (
            b'{"task_id": "HumanEval/0", "completion": "x"}\n',
            ["--task", "HumanEval/0", "-k", "a"],
            "Invalid value",
        ),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path: Path, content: bytes, args: list[str], message: str) -> None:
    f = tmp_path / "samples.jsonl"
    f.write_bytes(content)
    code, out, err = run("score", str(f), "--sandbox", "local", "-o", str(tmp_path / "o"), *args)
    if message == "Invalid value":  # click's own usage errors keep click's format, still exit 2
        assert code == 2 and message in err
        return
    line = one_error_line(code, err)
    assert message in line and out == ""
    assert not (tmp_path / "o" / "summary.json").exists()


def test_missing_files_and_unknown_problem_format(tmp_path: Path) -> None:
    line = one_error_line(
        *run("score", str(tmp_path / "none.jsonl"), "--sandbox", "local", "-o", str(tmp_path / "o"))[::2]
    )
    assert "no such file" in line
    bad = write_jsonl(tmp_path / "p.jsonl", [{"what": 1}])
    s = write_jsonl(tmp_path / "s.jsonl", [{"task_id": "a", "completion": ""}])
    line = one_error_line(*run("score", str(s), "--problems", str(bad), "-o", str(tmp_path / "o"))[::2])
    assert "unknown problem format" in line


def test_resume_with_other_settings_refused(tmp_path: Path) -> None:
    p = load_problems().problems[0]
    s = write_jsonl(tmp_path / "s.jsonl", [{"task_id": p.task_id, "completion": p.canonical_solution}])
    base = ["score", str(s), "--task", p.task_id, "--sandbox", "local", "-o", str(tmp_path / "o"), "-k", "1"]
    assert run(*base)[0] == 0
    line = one_error_line(*run(*base, "--timeout", "3")[::2])
    assert "other inputs or settings" in line


@pytest.mark.parametrize("flag, pinned", [([], True), (["--no-pin-cpus"], False)])
def test_score_passes_cpu_pinning_to_the_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flag: list[str], pinned: bool
) -> None:
    from humaneval_lab.errors import DockerUnavailableError
    from humaneval_lab.execution import docker

    seen = []

    def fake_executor(config: docker.DockerConfig) -> None:
        seen.append(config)
        raise DockerUnavailableError("stop here")  # a real engine is tested in tests/sandbox

    monkeypatch.setattr(docker, "DockerExecutor", fake_executor)
    p = load_problems().problems[0]
    s = write_jsonl(tmp_path / "s.jsonl", [{"task_id": p.task_id, "completion": p.canonical_solution}])
    code, _, err = run("score", str(s), "--task", p.task_id, "-o", str(tmp_path / "o"), *flag)
    assert "stop here" in one_error_line(code, err)
    assert [c.pin_cpus for c in seen] == [pinned]


@pytest.mark.parametrize(
    "args, message",
    [
        (["score", "s.jsonl"], "Missing option '-o'"),
        (["scor"], "No such command 'scor'"),
        (["score", "s.jsonl", "-o", "out", "--bogus"], "No such option '--bogus'"),
        (["score", "s.jsonl", "-o", "out", "--jobs", "many"], "'many' is not a valid integer"),
    ],
)
def test_click_usage_errors_are_one_line_exit_2(args: list[str], message: str) -> None:
    line = one_error_line(*run(*args)[::2])
    assert message in line and "--help" in line


def test_help_and_version_still_exit_0() -> None:
    for args in (["--help"], ["score", "--help"], ["--version"]):
        code, out, _ = run(*args)
        assert code == 0 and out.strip()
