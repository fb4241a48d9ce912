"""Where humaneval-lab writes for humans, and how.

Two rich consoles: ``out`` (stdout) carries a command's result, the tables and verdicts a user
redirects (``compare A B > diff.txt``); ``console`` (stderr) carries progress, notes, warnings and
errors. ``--json`` puts JSON on stdout instead of the human result, which then goes to stderr
(``result_console``), so a CI log still shows it.

Outside a terminal (CI logs, ``2> log``) rich would wrap every line at 80 columns, which breaks
grep; our consoles are as wide as their longest line there. Progress bars need a terminal; outside
one a plain line is printed every ``PLAIN_PROGRESS_INTERVAL_S`` seconds instead
(``scored 400/3280 (12%), 35.1/s, eta 1m20s``), as tqdm and Hugging Face do.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console, ConsoleDimensions
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from humaneval_lab.numfmt import rate

LOG_WIDTH = 10_000  # "no wrapping" for rich: tables take only the width they need
PLAIN_PROGRESS_INTERVAL_S = 10.0  # tests lower it; read at each progress context's start


class _Console(Console):
    """A rich Console that does not hard-wrap when it is not writing to a terminal."""

    @property
    def size(self) -> ConsoleDimensions:
        dims = super().size
        # The file is looked up on every write (click's test runner swaps sys.stdout), so decide here.
        if self._width is None and not self.is_terminal and "COLUMNS" not in self._environ:
            return ConsoleDimensions(LOG_WIDTH, dims.height)
        return dims

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        self._width, self._height = new_size


console = _Console(stderr=True, highlight=False)  # progress, notes, warnings, errors
out = _Console(highlight=False)  # a command's result


def result_console(as_json: bool) -> Console:
    """Where a command's human result goes: stdout, or stderr when ``--json`` owns stdout."""
    return console if as_json else out


def _duration(seconds: float) -> str:
    s = max(0, round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


class PlainProgress:
    """One plain line per ``interval`` seconds, and one at the end: progress for logs.

    ``update(done, total, extra)`` may be called as often as wanted; the rate counts only what
    was done after the first call (a resumed run's kept work is not speed).
    """

    def __init__(
        self,
        verb: str,
        interval: float,
        write: Callable[[str], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.verb, self.interval, self.write, self.clock = verb, interval, write, clock
        self.start = clock()
        self.last = self.start
        self.first_done: int | None = None
        self.finished = False

    def line(self, done: int, total: int, extra: str, now: float) -> str:
        first = self.first_done if self.first_done is not None else done
        elapsed = now - self.start
        speed = (done - first) / elapsed if elapsed > 0 else 0.0
        share = f" ({100 * done // total}%)" if total else ""
        parts = [f"{self.verb} {done}/{total}{share}", f"{speed:.1f}/s"]
        if extra:
            parts.append(extra)
        if done >= total:
            parts.append(f"took {_duration(elapsed)}")
        elif speed > 0:
            parts.append(f"eta {_duration((total - done) / speed)}")
        return ", ".join(parts)

    def update(self, done: int, total: int, extra: str = "") -> None:
        if self.first_done is None:
            self.first_done = done
        now = self.clock()
        end = total > 0 and done >= total
        if (end and not self.finished) or (not end and now - self.last >= self.interval):
            self.last = now
            self.finished = end
            self.write(self.line(done, total, extra, now))


def _plain(verb: str) -> PlainProgress:
    return PlainProgress(
        verb, PLAIN_PROGRESS_INTERVAL_S, lambda line: console.print(line, markup=False, soft_wrap=True)
    )


@contextmanager
def progress_bar(
    description: str, verb: str = "scored", status: Callable[[], str] | None = None
) -> Iterator[Callable[[int, int], None]]:
    """Yields ``update(done, total)``: a bar on a terminal, else a plain line every ~10 s (stderr).
    ``status``: a short live line shown beside it (e.g. a Ray run's nodes alive and jobs in flight)."""
    if not console.is_terminal:
        plain = _plain(verb)
        yield lambda done, total: plain.update(done, total, status() if status else "")
        return
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:.1f}/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task(description, total=None, rate=0.0)
        started, first = time.monotonic(), [-1]

        def update(done: int, total: int) -> None:
            if first[0] < 0:
                first[0] = done  # kept from an earlier run: not this run's speed
            elapsed = time.monotonic() - started
            speed = (done - first[0]) / elapsed if elapsed > 0 else 0.0
            if status:
                bar.update(task, description=f"{description} ({status()})")
            bar.update(task, completed=done, total=total, rate=speed)

        yield update


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
        t.add_row(lang, str(row["problems"]), str(row["samples"]), *(rate(row["pass@k"][k]) for k in ks))
    if len(summary["languages"]) > 1 or not summary["languages"]:
        t.add_row(
            "[bold]overall",
            str(summary["problem_set"]["size"]),
            str(summary["samples"]["count"]),
            *(f"[bold]{rate(summary['pass@k'][k])}" for k in ks),
        )
    plus = summary.get("evalplus")
    if plus:  # HumanEval+/MBPP+: the two numbers papers quote, side by side
        n = str(len(plus["problems"]))
        t.add_row("EvalPlus base", n, "", *(rate(plus["pass@k_base"][k]) for k in ks))
        t.add_row("EvalPlus base+plus", n, "", *(rate(plus["pass@k_plus"][k]) for k in ks))
    return t


@contextmanager
def sample_progress() -> Iterator[Callable[[int, int, float], None]]:
    """Yields ``update(done, total, tokens_per_s)`` for sampling: a bar on a terminal, else plain lines."""
    if not console.is_terminal:
        plain = _plain("sampled")
        yield lambda done, total, tps: plain.update(done, total, f"{tps:.1f} tokens/s")
        return
    with Progress(
        TextColumn("[bold]sampling"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[tps]:.1f} tokens/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task("sampling", total=None, tps=0.0)

        def update(done: int, total: int, tps: float) -> None:
            bar.update(task, completed=done, total=total, tps=tps)

        yield update
