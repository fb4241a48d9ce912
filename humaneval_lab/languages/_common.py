"""Helpers the language specs share (a leading underscore keeps the registry from loading it).

The token rule every spec follows: the trusted test entry reads the runner's token from stdin before
any candidate function is called, keeps it where candidate code cannot name it (a local of a wrapper
function or a separate process' memory where the language allows), and prints it on a line of its
own only after every test returned normally.
"""

from __future__ import annotations

import re

from humaneval_lab.errors import UserInputError
from humaneval_lab.problems import Problem

# Where the sandbox image keeps prebuilt artefacts (sandbox/setup-rootfs.sh).
PREWARM = "/opt/humaneval-lab"
# Per-container caches live under /tmp: writable, kept between jobs of one container, gone with it.
CACHE = "/tmp/.cache"


def multipl_e_program(problem: Problem, source: str) -> str:
    """MultiPL-E's rule: prompt + completion + "\\n" + tests (``source`` is prompt + completion)."""
    return source + "\n" + problem.tests


def native_program(problem: Problem, source: str) -> str:
    """Our own problems: prompt + completion + "\\n" + tests, like MultiPL-E."""
    return source + "\n" + problem.tests


def script_program(problem: Problem, source: str, language: str) -> str:
    """Script languages: MultiPL-E and native problems both run prompt + completion + "\\n" + tests."""
    if problem.source_format == "multipl-e":
        return multipl_e_program(problem, source)
    if problem.source_format == "native":
        return native_program(problem, source)
    raise unsupported(problem, language)


def refuse(reason: str) -> tuple[str, ...]:
    """A compile step that fails with ``reason``: a candidate the spec refuses is an ``error``."""
    return ("sh", "-c", 'echo "hel: $0" >&2; exit 1', reason)


def unsupported(problem: Problem, language: str) -> UserInputError:
    return UserInputError(
        f"{language}: no program layout for {problem.source_format!r} problems ({problem.task_id})"
    )


def sub_exact(pattern: str, repl: str, text: str, what: str) -> str:
    """``re.sub`` that must match: a test file that changed shape must not be run half-rewritten."""
    out, n = re.subn(pattern, repl, text, flags=re.MULTILINE)
    if n == 0:
        raise UserInputError(f"cannot find {what} in the tests of this problem")
    return out
