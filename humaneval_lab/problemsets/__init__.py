"""Third-party problem sets read from the user's files, one reader per file shape.

``problems.read_problem_file`` asks ``detect`` first (by the fields of the first record), then falls
back to its own formats (human-eval, HumanEval-X, MultiPL-E, native). Shapes known here:

===================  =======================================================================
format               records
===================  =======================================================================
``evalplus``         HumanEval+ / MBPP+: task_id, prompt, entry_point, canonical_solution,
                     base_input, plus_input, atol (``evalplus.py``)
``mbpp``             Google's mbpp.jsonl: task_id (int), text, code, test_list, ... (``mbpp.py``)
``mbpp-sanitized``   sanitized-mbpp.json and MbppPlus-OriginFmt: task_id (int), prompt, code,
                     test_list, test_imports (+ test) (``mbpp.py``)
===================  =======================================================================

MultiPL-E's ``mbpp-<lang>-reworded.jsonl`` has the shape of its HumanEval files and is read as they
are. ``releases.identify`` names the release a file is (suite, version, sha256).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from humaneval_lab.execution.base import Limits
from humaneval_lab.problems import Problem
from humaneval_lab.problemsets import evalplus, mbpp

Reader = Callable[[Path, int, dict[str, Any]], Problem]


def detect(rec: Any) -> str | None:
    """The format of a record of a file this package reads, or None."""
    if evalplus.is_evalplus(rec):
        return evalplus.FORMAT
    if mbpp.is_mbpp(rec):
        return "mbpp"
    if mbpp.is_sanitized(rec):
        return "mbpp-sanitized"
    return None


READERS: dict[str, Reader] = {
    evalplus.FORMAT: evalplus.read,
    "mbpp": mbpp.read_mbpp,
    "mbpp-sanitized": mbpp.read_sanitized,
}


def keep_split(fmt: str, problems: list[Problem], split: str | None) -> tuple[list[Problem], str | None]:
    """MBPP files: the tasks of ``split`` (default: ``test`` for mbpp.jsonl, ``all`` otherwise) and the
    split's name to record; other formats: all problems, None (a split there is an error)."""
    if fmt not in ("mbpp", "mbpp-sanitized"):
        if split is not None:
            from humaneval_lab.errors import UserInputError

            raise UserInputError(f"--split applies to MBPP files only, not to {fmt} files")
        return problems, None
    name = split or ("test" if fmt == "mbpp" else "all")
    low, high = mbpp.split_range(name)
    return [p for p in problems if low <= int(p.task_id.split("/")[1]) <= high], name


def job_limits_note(problem: Problem) -> str | None:
    """What a problem set's own job limit is, for a timeout's reason (None: it has none)."""
    if not isinstance(problem.extras.get("evalplus"), dict):
        return None
    return "the EvalPlus job's backstop; each input has its own limit inside it"


def job_limits(problem: Problem) -> Limits | None:
    """Limits a problem set sets for its own jobs (EvalPlus: its per-run bounds), else None."""
    info = problem.extras.get("evalplus")
    if not isinstance(info, dict):
        return None
    timeout = float(info["timeout_s"])
    return Limits(timeout_s=timeout, cpu_s=int(timeout) + 1)
