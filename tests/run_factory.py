"""Real run folders for tests: the real ``score()`` with an executor whose verdicts we dictate.

Each sample's completion carries ``hel-verdict:<status>``; the executor returns that status, so a
test chooses every problem's n, c and failure kinds, and ``score`` writes summary.json and
results.jsonl exactly as it does for real runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from humaneval_lab import scoring
from humaneval_lab.execution.base import Job, Outcome, Status
from humaneval_lab.languages import get_language
from humaneval_lab.problems import ProblemSet, load_problems
from humaneval_lab.records import Sample
from humaneval_lab.runs import Run, load_run
from humaneval_lab.scoring import ScoreSettings, score
from humaneval_lab.scoring import jobs as scoring_jobs

_MARK = re.compile(r"hel-verdict:(\w+)")
FAIL_KINDS = ("failed", "error", "timeout")


class MarkerExecutor:
    name = "marker"

    def run(self, jobs: Iterable[Job]) -> Iterator[tuple[str, Outcome]]:
        for job in jobs:
            text = "".join(job.program.files.values())
            m = _MARK.search(text)
            status = Status(m.group(1)) if m else Status.FAILED
            tail = "" if status is Status.PASSED else f"Traceback: AssertionError in {job.id[:8]}\n"
            yield job.id, Outcome(status, "fake reason" if tail else "", tail)

    def describe(self) -> dict[str, str]:
        return {"executor": self.name}

    def close(self) -> None:
        pass


def problem_set(size: int, languages: Sequence[str] = ("python",)) -> ProblemSet:
    """The first ``size`` HumanEval problems, labelled round-robin with ``languages``."""
    base = load_problems().select(limit=size)
    if tuple(languages) == ("python",):
        return base
    probs = tuple(replace(p, language=languages[i % len(languages)]) for i, p in enumerate(base))
    return ProblemSet(f"{base.name}-{'-'.join(languages)}", probs, base.source)


def make_run(
    out: Path,
    counts: Sequence[tuple[int, int]],
    problems: ProblemSet | None = None,
    ks: Sequence[int] = (1,),
    completion: str = "x = 1",
    monkeypatch: pytest.MonkeyPatch | None = None,
) -> Run:
    """Score problem i with counts[i] = (n, c): c passing samples, then failures cycling FAIL_KINDS."""
    ps = problems or problem_set(len(counts))
    assert len(ps) == len(counts)
    if any(p.language != "python" for p in ps):
        assert monkeypatch is not None, "non-python labels need monkeypatch (the program is built as Python)"
        for module in (scoring, scoring_jobs):  # the run's check, and where its jobs are built
            monkeypatch.setattr(module, "get_language", lambda _name: get_language("python"))
    samples = []
    for p, (n, c) in zip(ps, counts, strict=True):
        for j in range(n):
            status = "passed" if j < c else FAIL_KINDS[j % len(FAIL_KINDS)]
            text = f"    # hel-verdict:{status} sample {j}\n    {completion}\n"
            samples.append(Sample(p.task_id, text, fields={"task_id": p.task_id, "completion": text}))
    score(samples, ps, MarkerExecutor(), out, ScoreSettings(ks=tuple(ks), ks_explicit=True))
    return load_run(out)
