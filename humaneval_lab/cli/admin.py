"""`problems` and `sandbox`: what suites there are, and building and checking the sandbox."""

from __future__ import annotations

import json
from typing import Any

import click

from humaneval_lab.cli import (
    main,
    problem_source_options,
    split_option,
)
from humaneval_lab.console import console, out, result_console
from humaneval_lab.problems import load_problems, suite_names


@main.group()
def problems() -> None:
    """List and inspect problem sets."""


@problems.command("list")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@split_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON to stdout.")
def problems_list(files: tuple[str, ...], split: str | None, as_json: bool) -> None:
    """Built-in suites, and any problem FILES given, with sizes, languages and versions.

    A file is recognised by its shape (HumanEval+/MBPP+, MBPP, MultiPL-E, ...) and its release by its
    sha256 (version "unknown" for other bytes). --split applies to the FILES (MBPP files only).

    \b
    Examples:
      humaneval-lab problems list
      humaneval-lab problems list HumanEvalPlus.jsonl.gz MbppPlus.jsonl.gz mbpp.jsonl
      humaneval-lab problems list --split train mbpp.jsonl
    """
    from rich.table import Table

    rows: list[dict[str, Any]] = []
    sets = [(name, load_problems(suite=name)) for name in suite_names()]
    sets += [(f, load_problems(path=f, split=split)) for f in files]
    for name, ps in sets:
        meta = dict(ps.meta)
        version = meta.get("version", "built-in")
        if meta.get("split"):
            version += f" ({meta['split']} split)"
        rows.append({"suite": meta.get("suite", name), "problems": len(ps), "languages": ps.languages,
                     "version": version, "sha256": ps.content_hash[:12],
                     **({"file": name, "file_sha256": meta["file_sha256"]} if meta else {})})  # fmt: skip
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    t = Table(title="suites")
    for col in ("suite", "problems", "languages", "version", "sha256"):
        t.add_column(col)
    for r in rows:
        t.add_row(r["suite"], str(r["problems"]), ", ".join(r["languages"]), r["version"], r["sha256"])
    out.print(t)


@problems.command("show")
@problem_source_options
@click.argument("task_id")
def problems_show(suite: str | None, problems_path: str | None, split: str | None, task_id: str) -> None:
    """Print one problem as JSON.

    \b
    Example:
      humaneval-lab problems show HumanEval/0
    """
    ps = load_problems(suite=suite, path=problems_path, split=split)
    click.echo(json.dumps(ps.get(task_id).to_json(), indent=2, ensure_ascii=False))


@main.group()
def sandbox() -> None:
    """Build and check the Docker sandbox."""


@sandbox.command("build")
@click.option("--tag", default=None, help="Image tag (default: humaneval-lab-sandbox:<recipe hash>).")
@click.option("--force", is_flag=True, help="Rebuild even if the image exists.")
@click.option(
    "--languages",
    default="all",
    show_default=True,
    help="Comma-separated languages to install (python and bash are always in); "
    "the set is part of the recipe hash, hence of the tag.",
)
def sandbox_build(tag: str | None, force: bool, languages: str) -> None:
    """Build the sandbox image from Debian packages (offline recipe, cached by recipe hash).

    Needs root and debootstrap; users with a registry can instead `docker build sandbox/`
    (`--build-arg LANGUAGES=...`). Prints the build time and the image size.

    \b
    Example:
      sudo humaneval-lab sandbox build
      sudo humaneval-lab sandbox build --languages python,cpp,rust
    """
    from humaneval_lab.sandbox_image import build_image

    built = build_image(
        tag, force=force, log=lambda line: console.print(line, markup=False), languages=languages
    )
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
    from humaneval_lab.sandbox_image import LANGUAGES_LABEL

    executor = DockerExecutor(jobs=2, image=image)
    try:
        # An image built with --languages has only those toolchains: check those (its label says).
        built = (executor.client.images.get(executor.image).labels or {}).get(LANGUAGES_LABEL, "all")
        wanted = None if built == "all" else [n for n in built.split(",") if n] + ["bash", "python"]
        results = run_selftest(executor)
        languages = run_language_selftest(executor, wanted)
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
