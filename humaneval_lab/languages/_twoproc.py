"""What the two-process languages (Ruby, Lua, R, Elixir) share: harness files, the names to stub.

The judge runs the tests (trusted) and stubs every function the tests may call on the candidate;
the candidate's process loads only the prompt + completion. See ``Program.judge``.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from humaneval_lab.problems import Problem


@cache
def harness(name: str) -> str:
    """The text of one of our harness files (humaneval_lab/languages/harness/)."""
    return resources.files("humaneval_lab.languages").joinpath("harness", name).read_text(encoding="utf-8")


def stub_names(problem: Problem, found: set[str], identifier: str, limit: int = 200) -> list[str]:
    """The entry point first, then ``found`` (names the tests may call), sorted, at most ``limit``.

    Every name must match ``identifier`` (a full-match regex): names are written into generated
    code, so nothing but a plain identifier may get there.
    """
    names = [problem.entry_point] if re.fullmatch(identifier, problem.entry_point or "") else []
    for name in sorted(found):
        if len(names) >= limit:
            break
        if name not in names and re.fullmatch(identifier, name):
            names.append(name)
    return names
