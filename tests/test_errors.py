"""The exception tree as drawn in errors.py, and how the CLI turns each kind into an exit code."""

from __future__ import annotations

import re
from typing import Any

import click
import pytest

import humaneval_lab.errors as errors
from humaneval_lab.cli import main
from humaneval_lab.errors import ExitCode, HumanEvalLabError

from .cli_helpers import run


def _drawn_tree() -> dict[str, int]:
    """Class name -> depth, from the drawing in errors.py's docstring."""
    tree = {}
    for line in (errors.__doc__ or "").splitlines():
        m = re.match(r"^\s*([│ ]*)(?:[├└]── )?([A-Z]\w+Error|\w+Problem|HumanEvalLabError)\b", line)
        if m:
            tree[m.group(2)] = len(m.group(1)) // 4 + (1 if "──" in line else 0)
    return tree


def test_the_drawing_is_the_tree() -> None:
    drawn = _drawn_tree()
    real = {n for n, c in vars(errors).items() if isinstance(c, type) and issubclass(c, HumanEvalLabError)}
    assert set(drawn) == real
    for name, depth in drawn.items():
        cls = getattr(errors, name)
        bases = [b for b in cls.__mro__[1:] if issubclass(b, HumanEvalLabError)]
        assert len(bases) == depth, f"{name} is drawn at depth {depth} but has {len(bases)} ancestors"


def test_settings_errors_are_user_errors_and_value_errors() -> None:
    from humaneval_lab.execution.base import Limits
    from humaneval_lab.execution.local import LocalExecutor
    from humaneval_lab.scoring import ScoreSettings

    for make in (lambda: Limits(timeout_s=0), lambda: LocalExecutor(jobs=0), lambda: ScoreSettings(jobs=0)):
        with pytest.raises(errors.ConfigError) as info:
            make()
        assert isinstance(info.value, ValueError) and info.value.exit_code == ExitCode.USAGE


@pytest.fixture
def failing_command() -> Any:
    """A throwaway subcommand that raises what the test hands it."""
    raised: list[BaseException] = []

    @main.command("raise-for-test", hidden=True)
    def raise_for_test() -> None:
        raise raised[0]

    yield raised
    main.commands.pop("raise-for-test")


@pytest.mark.parametrize(
    "exc, code, line",
    [
        (errors.UserInputError("bad flag"), 2, "error: bad flag"),
        (errors.DockerUnavailableError("no engine"), 2, "error: no engine"),
        (errors.InfrastructureError("the sandbox died"), 3, "error: the sandbox died"),
        (KeyboardInterrupt(), 130, "interrupted"),
    ],
)
def test_each_kind_of_error_has_its_exit_code_and_one_line(
    failing_command: list[BaseException], exc: BaseException, code: int, line: str
) -> None:
    failing_command.append(exc)
    got, out, err = run("raise-for-test")
    assert (got, out) == (code, "")
    assert [x for x in err.splitlines() if x.strip()] == [line]


def test_a_bug_exits_4_with_its_traceback(failing_command: list[BaseException]) -> None:
    failing_command.append(RuntimeError("a bug"))
    code, out, err = run("raise-for-test")
    assert code == 4 and "Traceback" in err and "RuntimeError: a bug" in err and "internal error" in err


def test_debug_env_reraises(failing_command: list[BaseException], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUMANEVAL_LAB_DEBUG", "1")
    failing_command.append(errors.UserInputError("bad flag"))
    result = click.testing.CliRunner().invoke(main, ["raise-for-test"])
    assert isinstance(result.exception, errors.UserInputError)
