"""summary.json: exact pass@k per problem, per language and overall, and what the run was."""

from __future__ import annotations

import platform
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from typing import Any

from humaneval_lab.execution.base import Outcome, Status
from humaneval_lab.passk import Counts, mean_pass_at_k
from humaneval_lab.problems import ProblemSet
from humaneval_lab.problemsets.plus_passk import summarize as plus_summary
from humaneval_lab.records import Sample
from humaneval_lab.scoring.settings import ScoreSettings


@dataclass(frozen=True)
class Summary:
    pass_at_k: dict[str, float]
    pass_at_k_exact: dict[str, str]
    languages: dict[str, dict[str, Any]]
    problems: dict[str, dict[str, Any]]
    verdicts: dict[str, int]
    dropped_ks: list[int]
    executions: dict[str, int]
    problem_set: dict[str, Any]
    samples: dict[str, Any]
    settings: dict[str, Any]
    harness: dict[str, Any]
    duration_s: float
    sandbox: dict[str, Any] = field(default_factory=dict)  # what judged: Executor.describe()
    infra_errors: int = 0
    notes: list[str] = field(default_factory=list)
    name: str = ""  # what compare, gate and report call this run
    model: dict[str, Any] | None = None  # which model made the samples, with what settings
    # Timeouts by the limit they hit: "cpu" (the job's CPU time), "wall" (the wall clock), and
    # "unknown" for results from before the reason was recorded.
    timeouts: dict[str, int] = field(default_factory=dict)
    # HumanEval+/MBPP+ problems: pass@k on base and on base+plus inputs, first failing inputs
    # (problemsets.plus_passk.summarize); None for other suites.
    evalplus: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """summary.json: the headline numbers first, then who and what, then the details."""
        d = asdict(self)
        if d.get("evalplus") is None:
            d.pop("evalplus", None)
        head = {"pass@k": d.pop("pass_at_k"), "pass@k_exact": d.pop("pass_at_k_exact"),
                "name": d.pop("name"), "model": d.pop("model")}  # fmt: skip
        return {**head, **d}


def harness_info() -> dict[str, Any]:
    from humaneval_lab import __version__

    return {"name": "humaneval-lab", "version": __version__, "python": platform.python_version()}


def summarize(
    samples: Sequence[Sample],
    outcomes: Sequence[Outcome],
    problems: ProblemSet,
    settings: ScoreSettings,
    ks: Sequence[int],
    dropped: Sequence[int],
    *,
    executions: Mapping[str, int],
    samples_info: Mapping[str, Any],
    duration_s: float,
    sandbox: Mapping[str, Any] | None = None,
) -> Summary:
    """Aggregate verdicts: exact pass@k per problem, per language and overall."""
    n: Counter[str] = Counter()
    c: Counter[str] = Counter()
    verdicts: Counter[str] = Counter()
    per_problem_verdicts: dict[str, Counter[str]] = defaultdict(Counter)
    timeouts: Counter[str] = Counter()
    # Counted per (task, status, timeout kind) first (C-speed Counter), then spread: keys come in the
    # order of their first sample, so every count's keys keep the order of their first sample.
    pairs = Counter((s.task_id, o.status, o.timeout) for s, o in zip(samples, outcomes, strict=True))
    for (task_id, status, kind), m in pairs.items():
        if status is Status.TIMEOUT:
            timeouts[kind or "unknown"] += m
        n[task_id] += m
        c[task_id] += m if status is Status.PASSED else 0
        verdicts[status.value] += m
        per_problem_verdicts[task_id][status.value] += m
    counts = {p.task_id: Counts(n[p.task_id], c[p.task_id]) for p in problems}

    def block(task_ids: Iterable[str]) -> tuple[dict[str, float], dict[str, str]]:
        ids = list(task_ids)
        exact: dict[str, Fraction] = {f"pass@{k}": mean_pass_at_k((counts[t] for t in ids), k) for k in ks}
        return {k: float(v) for k, v in exact.items()}, {
            k: f"{v.numerator}/{v.denominator}" for k, v in exact.items()
        }

    overall, overall_exact = block(counts)
    languages: dict[str, dict[str, Any]] = {}
    for lang in problems.languages:
        ids = [p.task_id for p in problems if p.language == lang]
        vals, exact = block(ids)
        languages[lang] = {
            "problems": len(ids),
            "samples": sum(n[t] for t in ids),
            "pass@k": vals,
            "pass@k_exact": exact,
            "solved": sum(1 for t in ids if c[t] > 0),
        }
    problem_rows = {
        p.task_id: {"language": p.language, "n": n[p.task_id], "c": c[p.task_id],
                    "verdicts": dict(per_problem_verdicts[p.task_id])}
        for p in problems
    }  # fmt: skip
    notes = []
    if dropped:
        notes.append(
            f"dropped pass@{', pass@'.join(map(str, dropped))}: some problem has fewer samples than k "
            f"(min n = {min(n.values())})"
        )
    infra = verdicts.get(Status.INFRA.value, 0)
    plus = plus_summary([s.task_id for s in samples], outcomes, list(problems), ks)
    settings_d = asdict(settings)
    settings_d["ks"] = list(settings.ks)
    return Summary(
        pass_at_k=overall,
        pass_at_k_exact=overall_exact,
        languages=languages,
        problems=problem_rows,
        verdicts=dict(sorted(verdicts.items())),
        dropped_ks=list(dropped),
        executions=dict(executions),
        problem_set=problems.identity(),
        samples={**samples_info, "min_per_problem": min(n.values()), "max_per_problem": max(n.values())},
        settings=settings_d,
        harness=harness_info(),
        sandbox=dict(sandbox or {}),
        duration_s=round(duration_s, 3),
        infra_errors=infra,
        notes=notes,
        timeouts=dict(sorted(timeouts.items())),
        evalplus=plus,
    )
