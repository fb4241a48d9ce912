"""`score` through the real CLI with a fake sandbox: exit 3 when the sandbox fails, 130 on Ctrl-C,
and a re-run of the same command resumes in both cases."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

import humaneval_lab.execution as execution
from humaneval_lab.execution.base import Job, Outcome, Status
from humaneval_lab.execution.fake import FakeExecutor, verdict_from_marker
from humaneval_lab.problems import load_problems

from ..cli_helpers import run
from ..conftest import write_jsonl


class Scripted(FakeExecutor):
    """Verdicts by marker, except that job number ``infra_from`` onwards is INFRA and job number
    ``interrupt_at`` raises KeyboardInterrupt (as Ctrl-C would, mid-run)."""

    def __init__(self, infra_from: int | None = None, interrupt_at: int | None = None) -> None:
        super().__init__()
        self.infra_from, self.interrupt_at = infra_from, interrupt_at
        self.closed = False

    def run(self, jobs: Iterable[Job]) -> Iterator[tuple[str, Outcome]]:
        for job in jobs:
            self.executed.append(job.id)
            n = len(self.executed)
            if self.interrupt_at is not None and n >= self.interrupt_at:
                raise KeyboardInterrupt
            if self.infra_from is not None and n >= self.infra_from:
                yield job.id, Outcome(Status.INFRA, "the sandbox container kept dying")
            else:
                yield job.id, verdict_from_marker(job)

    def close(self) -> None:
        self.closed = True


def _use(monkeypatch: pytest.MonkeyPatch, ex: Scripted) -> list[dict[str, Any]]:
    """Make ``--sandbox docker`` build ``ex``; returns what the CLI asked the factory for."""
    asked: list[dict[str, Any]] = []

    def factory(jobs: int, **kw: Any) -> Scripted:
        asked.append({"jobs": jobs, **kw})
        return ex

    monkeypatch.setitem(execution.EXECUTORS, "docker", factory)
    return asked


@pytest.fixture
def samples(tmp_path: Path) -> Path:
    rows = []
    for p in load_problems().select(limit=3):
        for i in range(3):
            text = f"    # hel-verdict:{'passed' if i else 'failed'} {i}\n"
            rows.append({"task_id": p.task_id, "completion": text})
    return write_jsonl(tmp_path / "s.jsonl", rows)


def _results(out: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]


def test_a_sandbox_failure_exits_3_and_a_rerun_retries_only_those(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, samples: Path
) -> None:
    out = tmp_path / "o"
    broken = Scripted(infra_from=5)
    asked = _use(monkeypatch, broken)
    code, stdout, err = run(
        "score", str(samples), "--limit", "3", "-j", "2", "--no-calibrate", "-o", str(out)
    )
    assert code == 3, err
    assert "Traceback" not in err and broken.closed
    assert "5 samples could not be judged because the sandbox failed" in " ".join(err.split())
    assert "Verdicts:" in stdout  # the table is still the user's result
    assert [r["verdict"] for r in _results(out)].count("infra_error") == 5
    assert asked[0]["jobs"] == 2 and asked[0]["image"] is None and asked[0]["pin_cpus"] is True

    healed = Scripted()
    _use(monkeypatch, healed)
    code, stdout, err = run(
        "score", str(samples), "--limit", "3", "-j", "2", "--no-calibrate", "-o", str(out), "--json"
    )
    assert code == 0, err
    assert len(healed.executed) == 5  # only the samples the sandbox failed on
    summary = json.loads(stdout)
    assert summary["executions"]["kept_from_earlier_run"] == 4 and summary["infra_errors"] == 0


def test_ctrl_c_exits_130_says_what_was_kept_and_a_rerun_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, samples: Path
) -> None:
    out = tmp_path / "o"
    interrupted = Scripted(interrupt_at=4)
    _use(monkeypatch, interrupted)
    code, stdout, err = run("score", str(samples), "--limit", "3", "--no-calibrate", "-o", str(out))
    assert (code, stdout) == (130, "") and "Traceback" not in err
    assert interrupted.closed  # the sandbox is torn down on Ctrl-C too
    line = " ".join(err.split())
    assert (
        f"interrupted: 3 of 9 results kept in {out / 'results.jsonl'}; re-run the same command to resume"
        in line
    )
    assert len(_results(out)) == 3

    rest = Scripted()
    _use(monkeypatch, rest)
    code, stdout, err = run("score", str(samples), "--limit", "3", "--no-calibrate", "-o", str(out), "--json")
    assert code == 0, err
    assert len(rest.executed) == 6
    assert json.loads(stdout)["executions"]["kept_from_earlier_run"] == 3
    assert [r["verdict"] for r in _results(out)] == ["failed", "passed", "passed"] * 3
