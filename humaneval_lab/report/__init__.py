"""One ``Report`` object built from scored runs, rendered to self-contained HTML or to markdown.

``build_report`` does every computation (exact pass@k curves, per-language bootstrap intervals,
the paired comparison against the first run, failing examples); the renderers only lay it out, so
the HTML page and the markdown comment always show the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from humaneval_lab.compare import OVERALL, Comparison, check_comparable, compare
from humaneval_lab.passk import Counts, mean_pass_at_k
from humaneval_lab.records import describe_model
from humaneval_lab.runs import FailingExample, Run, failing_examples
from humaneval_lab.stats import Interval, check_confidence, mean_interval, per_problem_pass_at_k

__all__ = [
    "LanguageBar",
    "Report",
    "RunView",
    "build_report",
    "format_for",
    "render_html",
    "render_markdown",
    "write_report",
]

MAX_CURVE_POINTS = 64  # beyond this, k is sampled geometrically (the curve is smooth in k)


@dataclass(frozen=True)
class LanguageBar:
    scope: str  # a language or "overall"
    problems: int
    interval: Interval  # pass@k of one run on this scope, bootstrap over its problems


@dataclass(frozen=True)
class RunView:
    name: str
    path: str
    samples: int
    min_n: int
    max_n: int
    pass_at_k: Mapping[str, float]
    curve: tuple[tuple[int, float], ...]  # (k, exact overall pass@k) for k = 1 .. min n
    bars: tuple[LanguageBar, ...]
    verdicts: Mapping[str, int]
    infra_errors: int
    counts: tuple[tuple[int, int], ...]  # (n, c) per problem, in the report's task order
    verdicts_per_problem: tuple[Mapping[str, int], ...]
    examples: Mapping[str, FailingExample]
    model: str = ""  # which model made the samples, with what settings (one line)
    evalplus: Mapping[str, tuple[float, float]] = field(default_factory=dict)  # pass@k: (base, base+plus)


@dataclass(frozen=True)
class Report:
    title: str
    problem_set: Mapping[str, Any]
    k: int  # the k of the per-language bars
    confidence: float
    task_ids: tuple[str, ...]
    task_languages: tuple[str, ...]
    runs: tuple[RunView, ...]
    comparison: Comparison | None


def curve_ks(min_n: int, max_points: int = MAX_CURVE_POINTS) -> list[int]:
    """k = 1 .. min_n, every k when few, else a geometric sample that keeps both ends."""
    if min_n <= max_points:
        return list(range(1, min_n + 1))
    ratio = min_n ** (1 / (max_points - 1))
    return sorted({1, min_n, *(round(ratio**i) for i in range(max_points))})


def _run_view(run: Run, k: int, confidence: float, seed: int, resamples: int) -> RunView:
    counts = [Counts(p.n, p.c) for p in run.problems]
    curve = tuple((kk, float(mean_pass_at_k(counts, kk))) for kk in curve_ks(run.min_n))
    scopes: list[str | None] = [None, *run.languages] if len(run.languages) > 1 else [None]
    bars = []
    for scope in scopes:
        rows = run.select(scope)
        values = per_problem_pass_at_k([(p.n, p.c) for p in rows], k)
        strata = [p.language for p in rows] if scope is None else None
        iv = mean_interval(values, confidence, seed=seed, resamples=resamples, strata=strata)
        bars.append(LanguageBar(scope or OVERALL, len(rows), iv))
    return RunView(
        name=run.name, path=str(run.path), samples=run.samples, min_n=run.min_n,
        max_n=max(p.n for p in run.problems), pass_at_k=dict(run.pass_at_k), curve=curve, bars=tuple(bars),
        verdicts=dict(run.verdicts), infra_errors=run.infra_errors,
        counts=tuple((p.n, p.c) for p in run.problems),
        verdicts_per_problem=tuple(dict(p.verdicts) for p in run.problems), examples=failing_examples(run),
        model=describe_model(run.model), evalplus=dict(run.evalplus),
    )  # fmt: skip


def build_report(
    runs: Sequence[Run], *, k: int = 1, ks: Sequence[int] | None = None, confidence: float = 0.95, seed: int = 0,
    resamples: int = 2000, title: str | None = None, allow_mixed_sandboxes: bool = False,
) -> Report:  # fmt: skip
    """Everything the page shows; with two or more runs, later runs are compared with the first."""
    check_confidence(confidence)
    check_comparable(runs, [k])
    comparison = (
        compare(
            runs,
            ks,
            confidence=confidence,
            seed=seed,
            resamples=resamples,
            allow_mixed_sandboxes=allow_mixed_sandboxes,
        )
        if len(runs) > 1
        else None  # fmt: skip
    )
    first = runs[0]
    return Report(
        title=title or " vs ".join(r.name for r in runs), problem_set=dict(first.problem_set), k=k,
        confidence=confidence, task_ids=first.task_ids, task_languages=tuple(p.language for p in first.problems),
        runs=tuple(_run_view(r, k, confidence, seed, resamples) for r in runs), comparison=comparison,
    )  # fmt: skip


def render_html(report: Report) -> str:
    from humaneval_lab.report.html import render

    return render(report)


def render_markdown(report: Report) -> str:
    from humaneval_lab.report.markdown import render

    return render(report)


MARKDOWN_SUFFIXES = (".md", ".markdown")


def format_for(path: str | Path | None) -> str:
    """The format a report written to ``path`` gets unless asked otherwise: markdown for
    ``.md``/``.markdown`` (any case), html for anything else and for no file (the page needs one)."""
    return "markdown" if path is not None and Path(path).suffix.lower() in MARKDOWN_SUFFIXES else "html"


def write_report(report: Report, path: str | Path, fmt: str = "html") -> Path:
    """Write the page; parent folders are created, and a path that cannot be written is one line."""
    from humaneval_lab.records import write_output

    return write_output(path, render_html(report) if fmt == "html" else render_markdown(report))
