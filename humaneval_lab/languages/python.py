"""Python: HumanEval (check(candidate)), HumanEval-X, MultiPL-E and native problems."""

from __future__ import annotations

from humaneval_lab.execution.base import Program
from humaneval_lab.languages.base import LanguageSpec
from humaneval_lab.problems import Problem

# HumanEval-X's harness puts these imports before every Python program; some canonical solutions
# rely on them.
_HUMANEVAL_X_IMPORTS = (
    "import math\nimport re\nimport sys\nimport copy\nimport datetime\nimport itertools\n"
    "import collections\nimport heapq\nimport statistics\nimport functools\nimport hashlib\n"
    "import numpy\nimport numpy as np\nimport string\nfrom typing import *\nfrom collections import *\n"
)

# Read the token before any untrusted code runs; print it only after the tests returned.
_PROLOGUE = "import sys as _hel_sys\n_hel_token = _hel_sys.stdin.readline().strip()\n"
_EPILOGUE = "\n_hel_sys.stdout.write('\\n' + _hel_token + '\\n')\n_hel_sys.stdout.flush()\n"


def test_code(problem: Problem) -> str:
    """The tests as top-level code: HumanEval's ``check`` is called on the entry point."""
    if problem.source_format == "human-eval":
        return problem.tests + f"\n\ncheck({problem.entry_point})\n"
    return problem.tests


def build(problem: Problem, source: str) -> Program:
    head = _HUMANEVAL_X_IMPORTS if problem.source_format == "humaneval-x" else ""
    code = _PROLOGUE + head + source + "\n" + test_code(problem) + _EPILOGUE
    return Program(
        language="python",
        files={"main.py": code},
        run=("python3", "-I", "main.py"),
        failure_markers=("AssertionError",),
    )


SPEC = LanguageSpec(
    name="python",
    aliases=("py", "python3"),
    build=build,
    # No "\ndef"/"\nclass": a completion may define helpers after the target function, and cutting
    # them off turns right answers into NameErrors.
    stop_sequences=("\nif __name__", "\nprint(", "\nassert ", "\n```", "\n# Test", "\n# Example"),
    image_tools=("python3",),
)
