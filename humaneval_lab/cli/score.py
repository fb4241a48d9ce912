"""`score`: judge every completion in the sandbox and compute pass@k."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.markup import escape

from humaneval_lab.cli import (
    complete_lines,
    exit_with,
    k_option,
    main,
    problem_options,
)
from humaneval_lab.console import console, progress_bar, result_console, summary_table
from humaneval_lab.errors import ExitCode
from humaneval_lab.problems import load_problems


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
    help="Wall-clock seconds per sample (compile + run) for problems without a calibrated limit; "
    "it stops code that sleeps or blocks (a wall timeout that may be the host's load is judged again alone).",
)
@click.option(
    "--cpu-timeout",
    type=float,
    default=None,
    help="CPU seconds per sample, summed over all its processes (compile + run), for problems without a "
    "calibrated limit; stops runaway code whatever the load. Default: none there (--timeout applies).",
)
@click.option(
    "--calibrate/--no-calibrate",
    default=True,
    show_default=True,
    help="Per-problem limits from the canonical solution: CPU time (4x its CPU time, 0.5-60 s) and wall "
    "clock (20x its run time, 5-60 s), kept in calibration.json.",
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
@click.option("--hash-seeds", type=click.Choice(["fixed", "per-sample"]), default="fixed", show_default=True,
              help="PYTHONHASHSEED of each Python sample, recorded per result: one fixed seed (0), or one "
                   "derived from the sample (set order varies across samples; each needs fresh interpreters, "
                   "several times slower).")  # fmt: skip
@click.option("--ray", "ray_address", default=None, metavar="auto|HOST:PORT",
              help="Judge on a Ray cluster: one sandbox per node (jobs = its CPUs); this process writes "
                   "the results. Needs humaneval-lab[ray]; see docs/scale.md.")  # fmt: skip
@click.option("--ray-build-sandbox", is_flag=True,
              help="With --ray: a node without the sandbox image builds it (`sandbox build`: root, debootstrap, "
                   "a Debian mirror, minutes) and judges once done; without it such a node is refused.")  # fmt: skip
@click.option("--only-sampled", is_flag=True, help="Score only the problems that have samples.")
@click.option("--name", "run_name", default=None,
              help="The run's name in compare, gate and report (default: the model and its samples' file).")  # fmt: skip
@click.option("--overwrite", is_flag=True,
              help="Start afresh in an output folder that holds results made with other inputs or settings.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print summary.json to stdout.")
def score(
    samples_path: str, suite: str | None, problems_path: str | None, split: str | None, languages: tuple[str, ...],
    limit: int | None, tasks: tuple[str, ...], ks: tuple[int, ...] | None, out_dir: str, sandbox: str,
    jobs: int | None, timeout: float, cpu_timeout: float | None, calibrate: bool, image: str | None, pin_cpus: bool,
    hash_seeds: str, ray_address: str | None, ray_build_sandbox: bool, only_sampled: bool,
    run_name: str | None, overwrite: bool, as_json: bool,
) -> None:  # fmt: skip
    """Run every completion against its problem's tests and compute pass@k.

    SAMPLES is human-eval JSONL (task_id, completion), EvalPlus JSONL (task_id, solution) or a
    bigcode-harness generations.json. --limit/--language/--task select which samples are scored;
    the others are skipped and counted.

    \b
    Example:
      humaneval-lab score samples.jsonl -k 1,10,100 -o runs/ckpt-1200
      humaneval-lab score samples.jsonl -k 1,10,100 -o runs/ckpt-1200 --ray auto
    """
    import os

    from humaneval_lab.execution import Executor, make_executor
    from humaneval_lab.execution.local import WARNING
    from humaneval_lab.records import default_run_name, model_info, read_samples
    from humaneval_lab.scoring import DEFAULT_KS, RESULTS, ScoreSettings
    from humaneval_lab.scoring import score as run_score

    whole = load_problems(suite=suite, path=problems_path, split=split)
    ps = whole.select(tasks=tasks, languages=languages, limit=limit)
    samples = read_samples(samples_path, whole)  # every task must exist; the selection skips some
    model = model_info(samples_path)
    settings = ScoreSettings(
        ks=ks or DEFAULT_KS,
        ks_explicit=ks is not None,
        timeout_s=timeout,
        cpu_timeout_s=cpu_timeout,
        jobs=jobs if jobs is not None else (os.cpu_count() or 1),
        only_sampled=only_sampled,
        calibrated=calibrate,
        hash_seeds=hash_seeds,
    )

    def warn() -> None:  # once the inputs are valid, before any code runs
        if sandbox == "local":
            console.print(f"[bold yellow]warning:[/] {WARNING}", soft_wrap=True)

    executor: Executor
    if ray_address is not None:
        from humaneval_lab.distributed import ray_executor

        if sandbox != "docker":
            exit_with("--ray judges in each node's Docker sandbox; it cannot be combined with --sandbox local",
                      ExitCode.USAGE)  # fmt: skip
        if jobs is not None:  # else silently ignored: a node's parallelism is its Ray CPUs
            exit_with("--jobs does not apply with --ray: each node runs as many jobs as it has Ray CPUs "
                      "(`ray start --num-cpus N` on the node)", ExitCode.USAGE)  # fmt: skip
        executor = ray_executor(ray_address, image=image, pin_cpus=pin_cpus, problems=ps, build_images=ray_build_sandbox,
                                on_event=lambda msg: console.print(escape(msg), soft_wrap=True))  # fmt: skip
    elif ray_build_sandbox:
        exit_with(
            "--ray-build-sandbox applies to --ray only (locally: humaneval-lab sandbox build)", ExitCode.USAGE
        )
    else:
        executor = make_executor(sandbox, settings.jobs, image=image, pin_cpus=pin_cpus, problems=ps)
    try:
        with progress_bar("scoring", status=getattr(executor, "status", None)) as update:
            summary = run_score(
                samples,
                ps,
                executor,
                out_dir,
                settings,
                samples_path=samples_path,
                progress=update,
                on_start=warn,
                name=run_name or default_run_name(model, samples_path, out_dir),
                model=model,
                overwrite=overwrite,
            )
    except KeyboardInterrupt:
        results = Path(out_dir) / RESULTS
        kept = complete_lines(results)
        total = sum(1 for s in samples if s.task_id in ps.by_id)
        exit_with(f"interrupted: {kept} of {total} results kept in {results}; re-run the same command to resume",
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


def counts_line(ex: dict[str, int]) -> str:
    """``80 samples: 20 executed, 30 identical ones reused, ...``: parts of one whole, summing to it."""
    parts = [f"{ex['executed']} executed"]
    for key, label in (("identical_reused", "identical ones reused"), ("kept_from_earlier_run", "kept from an earlier run"),
                       ("skipped_outside_selection", "skipped (outside --limit/--language/--task)")):  # fmt: skip
        if ex.get(key):
            parts.append(f"{ex[key]} {label}")
    return f"{ex['samples']} samples: {', '.join(parts)}."
