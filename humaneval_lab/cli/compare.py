"""`compare`, `gate` and `report`: runs side by side, the release gate, the page."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

import click
from rich.markup import escape

from humaneval_lab.cli import (
    F,
    k_option,
    main,
)
from humaneval_lab.console import console, result_console
from humaneval_lab.errors import ExitCode


def stats_options(confidence_help: str) -> Callable[[F], F]:
    """--confidence/--bootstrap-seed/--resamples/--allow-mixed-sandboxes, shared by compare, gate and report."""

    def decorate(f: F) -> F:
        f = click.option("--resamples", type=click.IntRange(min=100), default=10_000, show_default=True,
                         help="Bootstrap resamples (and sign-flip draws).")(f)  # fmt: skip
        # Not --seed: that is sample's run seed, and a flag means one thing on every command.
        f = click.option("--bootstrap-seed", "seed", type=int, default=0, show_default=True,
                         help="Seed of the bootstrap and of the sign-flip test.")(f)  # fmt: skip
        f = click.option("--allow-mixed-sandboxes", is_flag=True,
                         help="Compare runs judged by different sandboxes (other image, judging code or "
                              "limits) with a note, instead of refusing.")(f)  # fmt: skip
        f = click.option("--confidence", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.95,
                         show_default=True, help=confidence_help)(f)  # fmt: skip
        return f

    return decorate


INTERVALS = "Confidence level of the two-sided bootstrap intervals."


@main.command()
@click.argument("run_dirs", metavar="RUN_A RUN_B [RUN_C ...]", nargs=-1, required=True)
@k_option("the k every run reports")
@stats_options(INTERVALS)
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON to stdout.")
def compare(run_dirs: tuple[str, ...], ks: tuple[int, ...] | None, confidence: float, seed: int, resamples: int,
            allow_mixed_sandboxes: bool, as_json: bool) -> None:  # fmt: skip
    """Compare scored runs: pass@k, paired differences with CIs, a paired test, flipped problems.

    Each RUN is an output folder of `score`. Later runs are compared with the first (the
    baseline); runs on different problem sets or at different k are refused.

    \b
    Example:
      humaneval-lab compare runs/ckpt-1000 runs/ckpt-1200 --json > diff.json
    """
    from dataclasses import asdict

    from humaneval_lab.compare import compare as run_compare
    from humaneval_lab.report.text import comparison_tables, evalplus_json, evalplus_table
    from humaneval_lab.runs import load_runs

    if len(run_dirs) < 2:
        raise click.UsageError("compare needs at least two runs")
    runs = load_runs(run_dirs)
    result = run_compare(runs, ks, confidence=confidence, seed=seed, resamples=resamples,
                         allow_mixed_sandboxes=allow_mixed_sandboxes)  # fmt: skip
    plus = evalplus_table(runs)  # HumanEval+/MBPP+: base and base+plus side by side
    for part in [*comparison_tables(result), *([plus] if plus else [])]:
        result_console(as_json).print(part)
    if as_json:
        data = asdict(result)
        if plus:
            data["evalplus"] = evalplus_json(runs)
        click.echo(json.dumps(data, indent=2))


@main.command()
@click.argument("run_dirs", metavar="BASELINE CANDIDATE", nargs=-1)
@click.option("--baseline", "baseline_opt", type=click.Path(), default=None,
              help="The run to protect (a `score` folder); the same as the first argument.")  # fmt: skip
@click.option("--candidate", "candidate_opt", type=click.Path(), default=None,
              help="The run that wants to replace it; the same as the second argument.")  # fmt: skip
@click.option("--max-drop", required=True, type=click.FloatRange(0, 1, max_open=True),
              help="Largest tolerated drop, as a fraction: 0.01 = one point of pass@k.")  # fmt: skip
@click.option("--metric", default="pass@1", show_default=True, help="pass@k to gate on.")
@click.option("--language", default=None, help="Gate on this language only (default: overall).")
@stats_options("Confidence level of the gate's one-sided lower bound (and of the intervals shown).")
@click.option("--json", "as_json", is_flag=True, help="Print the decision as JSON to stdout.")
@click.option(
    "--junit", "junit_path", type=click.Path(dir_okay=False), default=None, help="Write JUnit XML here."
)
def gate(run_dirs: tuple[str, ...], baseline_opt: str | None, candidate_opt: str | None, max_drop: float,
         metric: str, language: str | None, confidence: float, seed: int, resamples: int,
         allow_mixed_sandboxes: bool, as_json: bool, junit_path: str | None) -> None:  # fmt: skip
    """Exit 0 if the candidate provably drops by at most --max-drop, 1 if not, 2 on bad usage.

    Passes iff the one-sided lower confidence bound of (candidate - baseline) pass@k, from a
    paired bootstrap over problems, is at least -max-drop (a non-inferiority test: identical runs
    pass, a clear regression fails, and so does an evaluation too small to tell).

    BASELINE and CANDIDATE are `score` folders, in that order (like `compare`); --baseline and
    --candidate name them instead.

    \b
    Example:
      humaneval-lab gate runs/prod runs/rc1 --max-drop 0.01 --junit gate.xml
    """
    from dataclasses import asdict

    from humaneval_lab.compare import gate as run_gate
    from humaneval_lab.records import output_file
    from humaneval_lab.report.junit import gate_junit
    from humaneval_lab.runs import load_run

    if junit_path:
        output_file(junit_path)  # a path that cannot be written is refused before any verdict is printed
    baseline, candidate = _gate_runs(run_dirs, baseline_opt, candidate_opt)
    decision = run_gate(load_run(baseline), load_run(candidate), max_drop, metric=metric, language=language,
                        confidence=confidence, seed=seed, resamples=resamples,
                        allow_mixed_sandboxes=allow_mixed_sandboxes)  # fmt: skip
    for note in decision.notes:
        console.print(f"[yellow]note:[/] {escape(note)}", soft_wrap=True)
    result_console(as_json).print(
        decision.verdict, style="bold green" if decision.passed else "bold red", soft_wrap=True, markup=False
    )
    if junit_path:
        gate_junit(decision, junit_path)
    if as_json:
        click.echo(json.dumps(asdict(decision), indent=2))
    if not decision.passed:
        sys.exit(int(ExitCode.REGRESSION))


def _gate_runs(args: tuple[str, ...], baseline: str | None, candidate: str | None) -> tuple[str, str]:
    """(baseline, candidate) from `gate A B` or from --baseline/--candidate, never a mix."""
    if args and (baseline or candidate):
        raise click.UsageError("name the runs as BASELINE CANDIDATE or with --baseline/--candidate, not both")
    runs = args or (baseline, candidate)
    if len(runs) != 2 or not runs[0] or not runs[1]:
        raise click.UsageError("gate needs two runs: BASELINE CANDIDATE (or --baseline and --candidate)")
    return str(runs[0]), str(runs[1])


@main.command()
@click.argument("run_dirs", metavar="RUN...", nargs=-1, required=True)
@click.option("-o", "--output", "out_path", type=click.Path(dir_okay=False), default=None,
              help="Write here (required for html; markdown goes to stdout without it).")  # fmt: skip
@click.option("--format", "fmt", type=click.Choice(["html", "markdown"]), default=None,
              help="Default: from -o's extension (.md or .markdown: markdown), else html.")  # fmt: skip
@k_option("the k every run reports")
@click.option(
    "--bars-k", type=click.IntRange(min=1), default=1, show_default=True, help="k of the per-language bars."
)
@click.option("--title", default=None, help="Page title (default: the run names).")
@stats_options(INTERVALS)
def report(run_dirs: tuple[str, ...], out_path: str | None, fmt: str | None, ks: tuple[int, ...] | None, bars_k: int,
           title: str | None, confidence: float, seed: int, resamples: int,
           allow_mixed_sandboxes: bool) -> None:  # fmt: skip
    """One self-contained HTML page (works offline) or markdown for a PR comment.

    The page has pass@k-versus-k curves, per-language bars with CIs, a problems x runs grid,
    verdict breakdowns and, for any problem, a failing completion with its error tail.

    \b
    Example:
      humaneval-lab report runs/ckpt-1000 runs/ckpt-1200 -o report.html
      humaneval-lab report runs/ckpt-1000 runs/ckpt-1200 --format markdown > comment.md
    """
    from humaneval_lab.report import build_report, format_for, render_markdown, write_report
    from humaneval_lab.runs import load_runs

    fmt = fmt or format_for(out_path)
    if fmt == "html" and not out_path:
        raise click.UsageError("html needs -o FILE (markdown can go to stdout)")
    if out_path:
        from humaneval_lab.records import output_file

        output_file(out_path)  # refused before the (slow) bootstrap, not after
    rep = build_report(load_runs(run_dirs), k=bars_k, ks=ks, confidence=confidence, seed=seed,
                       resamples=resamples, title=title, allow_mixed_sandboxes=allow_mixed_sandboxes)  # fmt: skip
    if out_path:
        console.print(f"wrote {write_report(rep, out_path, fmt)}")
    else:
        click.echo(render_markdown(rep), nl=False)
