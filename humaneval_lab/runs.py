"""A scored run, loaded from a ``humaneval-lab score`` output folder.

A run folder holds ``summary.json`` (per-problem n and c, verdict counts, the problem set's identity,
the settings) and ``results.jsonl`` (one line per sample). ``load_run`` reads the summary into a frozen
``Run``; everything compare, gate and report need is in it, except failing completions, which
``failing_examples`` streams from ``results.jsonl`` on demand (a run can hold many megabytes of code).

A folder that ``score`` did not finish (no summary.json, or fewer result lines than samples) is refused
with one line that says what to do, never half-read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from humaneval_lab.errors import InputFileError
from humaneval_lab.passk import Counts, mean_pass_at_k
from humaneval_lab.problemsets.plus_passk import columns as plus_columns
from humaneval_lab.scoring import RESULTS, SUMMARY


@dataclass(frozen=True)
class ProblemResult:
    """One problem of a run: n samples, c of them passed, and their verdict counts."""

    task_id: str
    language: str
    n: int
    c: int
    verdicts: Mapping[str, int]

    @property
    def rate(self) -> float:
        return self.c / self.n


@dataclass(frozen=True)
class Run:
    """What ``score`` measured, in the problem set's order."""

    path: Path
    name: str
    problem_set: Mapping[str, Any]  # name, source, size, sha256
    ks: tuple[int, ...]  # the k of the pass@k the run reports (those its smallest n allows)
    pass_at_k: Mapping[str, float]
    problems: tuple[ProblemResult, ...]
    verdicts: Mapping[str, int]
    infra_errors: int
    samples: int
    sandbox: Mapping[str, Any] = field(default_factory=dict)  # what judged it (Executor.describe())
    model: Mapping[str, Any] | None = None  # which model made the samples (summary.json "model")
    # HumanEval+/MBPP+ runs: {"pass@k": (base, base+plus)}, from the summary's per-problem counts
    # (problemsets.plus_passk.columns); {} for other suites.
    evalplus: Mapping[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def languages(self) -> list[str]:
        return sorted({p.language for p in self.problems})

    @property
    def min_n(self) -> int:
        return min(p.n for p in self.problems)

    @property
    def task_ids(self) -> tuple[str, ...]:
        return tuple(p.task_id for p in self.problems)

    def select(self, language: str | None) -> tuple[ProblemResult, ...]:
        return (
            self.problems if language is None else tuple(p for p in self.problems if p.language == language)
        )

    def exact_pass_at_k(self, k: int, language: str | None = None) -> Fraction:
        return mean_pass_at_k((Counts(p.n, p.c) for p in self.select(language)), k)


def _need(path: Path, data: Mapping[str, Any], key: str, kind: type) -> Any:
    if not isinstance(data.get(key), kind):
        raise InputFileError(
            path, f"not a humaneval-lab summary: field {key!r} is missing or not a {kind.__name__}"
        )
    return data[key]


def _count_lines(path: Path) -> int:
    with path.open("rb") as f:
        return sum(1 for line in f if line.endswith(b"\n"))


def load_run(folder: str | Path, name: str | None = None) -> Run:
    """Read a ``score`` output folder; refuse a missing, unfinished or inconsistent one.

    The run's name: ``name``, else the one ``score`` recorded (``--name``, or the model and its
    samples), else the folder's name.
    """
    root = Path(folder)
    if not root.is_dir():
        raise InputFileError(root, "no such run folder (give the -o folder of `humaneval-lab score`)")
    spath, rpath = root / SUMMARY, root / RESULTS
    if not spath.is_file():
        if rpath.is_file():
            raise InputFileError(
                root, "incomplete run: results.jsonl but no summary.json (scoring was interrupted; "
                "re-run the same `humaneval-lab score` command to finish it)",
            )  # fmt: skip
        raise InputFileError(
            root, "not a run folder: no summary.json (give the -o folder of `humaneval-lab score`)"
        )
    try:
        data = json.loads(spath.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputFileError(spath, f"not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise InputFileError(spath, "not a humaneval-lab summary: expected a JSON object")
    pass_at_k = _need(spath, data, "pass@k", dict)
    problem_set = _need(spath, data, "problem_set", dict)
    rows = _need(spath, data, "problems", dict)
    verdicts = _need(spath, data, "verdicts", dict)
    samples = _need(spath, data, "samples", dict)
    if not rows:
        raise InputFileError(spath, "the run has no problems")
    problems = []
    for task_id, row in rows.items():
        try:
            pr = ProblemResult(task_id, str(row["language"]), int(row["n"]), int(row["c"]),
                               {str(k): int(v) for k, v in row.get("verdicts", {}).items()})  # fmt: skip
        except (KeyError, TypeError, ValueError, AttributeError):
            raise InputFileError(spath, f"problem {task_id!r} lacks language, n or c") from None
        if pr.n < 1 or not 0 <= pr.c <= pr.n:
            raise InputFileError(
                spath, f"problem {task_id!r} has n={pr.n}, c={pr.c}: no samples or impossible counts"
            )
        problems.append(pr)
    ks = tuple(sorted(int(key.removeprefix("pass@")) for key in pass_at_k))
    recorded = data.get("name") if isinstance(data.get("name"), str) else None
    model = data.get("model") if isinstance(data.get("model"), dict) else None
    run = Run(
        path=root, name=name or recorded or root.resolve().name, problem_set=problem_set, ks=ks, model=model,
        pass_at_k={f"pass@{k}": float(pass_at_k[f"pass@{k}"]) for k in ks}, problems=tuple(problems),
        verdicts={str(k): int(v) for k, v in verdicts.items()}, infra_errors=int(data.get("infra_errors", 0)),
        samples=sum(p.n for p in problems),
        sandbox=data["sandbox"] if isinstance(data.get("sandbox"), dict) else {},
        evalplus=plus_columns(data.get("evalplus"), ks),
    )  # fmt: skip
    if not rpath.is_file():
        raise InputFileError(root, "incomplete run: summary.json but no results.jsonl")
    lines = _count_lines(rpath)
    if lines != run.samples:
        raise InputFileError(
            rpath, f"incomplete or modified run: {lines} result lines for {run.samples} samples in summary.json "
            "(re-run `humaneval-lab score` into this folder to finish it)",
        )  # fmt: skip
    # The summary is what we compare; if its numbers do not follow from its own counts, it was edited.
    for k in ks:
        if abs(float(run.exact_pass_at_k(k)) - run.pass_at_k[f"pass@{k}"]) > 1e-9:
            raise InputFileError(
                spath, f"pass@{k} does not follow from the per-problem counts; the file was modified"
            )
    if int(samples.get("count", run.samples)) != run.samples:
        raise InputFileError(
            spath, "sample count does not match the per-problem counts; the file was modified"
        )
    return run


def _where(path: Path) -> str:
    """The folder as the user would type it: relative to the current folder when under it."""
    full = path.resolve()
    try:
        return str(full.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(full)


def load_runs(folders: Iterable[str | Path]) -> list[Run]:
    """Load several runs under their recorded names; names that clash get their folder appended."""
    runs = [load_run(f) for f in folders]
    names = [r.name for r in runs]
    return [replace(r, name=f"{r.name} [{_where(r.path)}]") if names.count(r.name) > 1 else r for r in runs]


@dataclass(frozen=True)
class FailingExample:
    """The first failing sample of a problem in a run, with why it failed."""

    task_id: str
    sample_index: int
    verdict: str
    reason: str
    completion: str
    stderr_tail: str


def failing_examples(run: Run, max_chars: int = 4000) -> dict[str, FailingExample]:
    """The first non-passing sample per problem, streamed from results.jsonl (texts cut to max_chars)."""
    out: dict[str, FailingExample] = {}
    path = run.path / RESULTS
    with path.open("rb") as f:
        for i, raw in enumerate(f):
            try:
                rec = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise InputFileError(path, "not valid JSON", line=i + 1) from None
            task = rec.get("task_id")
            if rec.get("passed") or not isinstance(task, str) or task in out:
                continue
            completion = rec.get("completion", rec.get("solution", ""))
            out[task] = FailingExample(
                task_id=task, sample_index=int(rec.get("sample_index", i)), verdict=str(rec.get("verdict", "")),
                reason=str(rec.get("reason", ""))[:max_chars], completion=str(completion)[:max_chars],
                stderr_tail=str(rec.get("stderr_tail", ""))[-max_chars:],
            )  # fmt: skip
    return out
