"""Driving the real CLI in tests: exit code, stdout and stderr kept apart."""

from __future__ import annotations

from click.testing import CliRunner

from humaneval_lab.cli import main


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stdout, r.stderr


def one_error_line(code: int, err: str) -> str:
    """A user's mistake: exit 2 and exactly one `error: ...` line on stderr, no traceback."""
    assert code == 2, err
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]
