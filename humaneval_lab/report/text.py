"""Terminal tables (rich) for ``compare`` and ``gate``; machine output is JSON, not these."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from humaneval_lab.compare import Comparison
from humaneval_lab.numfmt import change, level, pts_range, rate
from humaneval_lab.records import describe_model
from humaneval_lab.runs import Run

MAX_FLIPS = 20


def comparison_tables(c: Comparison) -> list[Table | str]:
    """pass@k per run and scope, then each run's paired difference to the baseline, then flips."""
    out: list[Table | str] = [f"{escape(run)}: {escape(describe_model(c.models.get(run)))}" for run in c.runs]
    scopes = list(dict.fromkeys(s.scope for s in c.scores))
    t = Table(title=f"{c.problem_set.get('name', '?')} ({c.problem_set.get('size', '?')} problems)")
    t.add_column("run")
    for k in c.ks:
        for scope in scopes:
            t.add_column(f"pass@{k} {scope}" if len(scopes) > 1 else f"pass@{k}", justify="right")
    for run in c.runs:
        by = {(s.k, s.scope): s.value for s in c.scores if s.run == run}
        t.add_row(run, *(rate(by[(k, scope)]) for k in c.ks for scope in scopes))
    out.append(t)
    for pair in c.pairs:
        d_t = Table(title=f"{pair.candidate} - {pair.baseline} (paired over problems)")
        for col in ("metric", "scope", "change", f"{level(c.confidence)} CI", "p"):
            d_t.add_column(col, justify="right" if col not in ("metric", "scope") else "left")
        for d in pair.differences:
            style = "green" if d.interval.low > 0 else "red" if d.interval.high < 0 else ""
            moved = change(d.baseline_value, d.candidate_value, d.estimate)
            d_t.add_row(f"pass@{d.k}", d.scope, f"[{style}]{moved}[/]" if style else moved,
                        pts_range(d.interval.low, d.interval.high), f"{d.test.p_value:.3g}")  # fmt: skip
        out.append(d_t)
        for label, flips in ((f"solved only by {pair.candidate}", pair.gained),
                             (f"solved only by {pair.baseline}", pair.lost)):  # fmt: skip
            ids = [f.task_id for f in flips]
            more = f" and {len(ids) - MAX_FLIPS} more (--json lists all)" if len(ids) > MAX_FLIPS else ""
            out.append(f"{label} ({len(ids)}): {', '.join(ids[:MAX_FLIPS]) or 'none'}{more}")
    out.append(f"p: {c.test}; CI: paired bootstrap over problems, {c.resamples} resamples, seed {c.seed}")
    out.extend(f"[yellow]note:[/] {n}" for n in c.notes)
    return out


def evalplus_table(runs: list[Run]) -> Table | None:
    """HumanEval+/MBPP+ runs: pass@k on the base tests and on base + plus, side by side (None if no
    run has them)."""
    ks = sorted({k for r in runs for k in r.evalplus}, key=lambda s: int(s.split("@")[1]))
    if not ks:
        return None
    t = Table(title="EvalPlus: base tests and base + plus tests")
    t.add_column("run")
    for k in ks:
        t.add_column(f"{k} base", justify="right")
        t.add_column(f"{k} base+plus", justify="right")
    for r in runs:
        t.add_row(
            r.name, *(rate(v) if k in r.evalplus else "–" for k in ks for v in r.evalplus.get(k, (0, 0)))
        )
    return t


def evalplus_json(runs: list[Run]) -> dict[str, dict[str, dict[str, float]]]:
    """{run: {"pass@k": {"base": x, "base+plus": y}}} for the runs that have EvalPlus numbers."""
    return {
        r.name: {k: {"base": b, "base+plus": p} for k, (b, p) in r.evalplus.items()}
        for r in runs
        if r.evalplus
    }
