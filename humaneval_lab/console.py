"""One rich Console on stderr for humans; machine-readable output goes to stdout."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

console = Console(stderr=True, highlight=False)


@contextmanager
def progress_bar(description: str) -> Iterator[Any]:
    """Yields ``update(done, total)``; draws on stderr only when it is a terminal."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def fmt_pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def summary_table(summary: dict[str, Any]) -> Table:
    """pass@k per language and overall, with sample counts and verdicts."""
    ks = list(summary["pass@k"])
    t = Table(title=f"{summary['problem_set']['name']} ({summary['problem_set']['size']} problems)")
    t.add_column("language")
    t.add_column("problems", justify="right")
    t.add_column("samples", justify="right")
    for k in ks:
        t.add_column(k, justify="right")
    for lang, row in summary["languages"].items():
        t.add_row(lang, str(row["problems"]), str(row["samples"]), *(fmt_pct(row["pass@k"][k]) for k in ks))
    if len(summary["languages"]) > 1 or not summary["languages"]:
        t.add_row(
            "[bold]overall",
            str(summary["problem_set"]["size"]),
            str(summary["samples"]["count"]),
            *(f"[bold]{fmt_pct(summary['pass@k'][k])}" for k in ks),
        )
    return t


@contextmanager
def sample_progress() -> Iterator[Any]:
    """Yields ``update(done, total, tokens_per_s)`` for sampling; stderr, only on a terminal."""
    with Progress(
        TextColumn("[bold]sampling"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[tps]:.1f} tokens/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task("sampling", total=None, tps=0.0)

        def update(done: int, total: int, tps: float) -> None:
            bar.update(task, completed=done, total=total, tps=tps)

        yield update
