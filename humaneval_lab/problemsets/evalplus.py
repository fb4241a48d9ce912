"""HumanEval+ and MBPP+ (EvalPlus) files: ``HumanEvalPlus*.jsonl.gz``, ``MbppPlus*.jsonl.gz``.

Each record (task_id, prompt, entry_point, canonical_solution, base_input, plus_input, atol) becomes a
Python problem whose tests are EvalPlus's judge (``languages/harness/hel_evalplus.py``) plus the
record's data as one JSON string: the inputs are data, parsed by ``json.loads`` in the sandbox's
trusted test process, never evaluated (here or there). The expected outputs are not in the file;
the judge computes them there from the canonical solution (see that file).

The ``-OriginFmt`` files are OpenAI-format (HumanEval+) or sanitized-MBPP-format (MBPP+) files and
are read by those readers, as they are.
"""

from __future__ import annotations

import json
import math
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from humaneval_lab.errors import InputFileError
from humaneval_lab.problems import Problem

FORMAT = "evalplus"
# The judge bounds each input and each run as EvalPlus does (languages/harness/hel_evalplus.py); the
# job's own limit is only the backstop for the whole: the canonical run (HumanEval/130 takes ~45 s on
# a loaded host), both runs, and moving large values between the processes (10M list items: minutes).
JOB_TIMEOUT_S = 600.0


def is_evalplus(rec: Any) -> bool:
    return isinstance(rec, dict) and {"task_id", "entry_point", "base_input", "plus_input"} <= rec.keys()


@cache
def judge_source(name: str = "hel_evalplus.py") -> str:
    """The judge's source (hel_evalplus.py), or its first half's (hel_evalplus_values.py)."""
    return resources.files("humaneval_lab.languages").joinpath("harness", name).read_text(encoding="utf-8")


def _dataset(task_id: str) -> str:
    return "mbpp" if task_id.startswith("Mbpp/") else "humaneval"


def _count(v: Any) -> int:
    return len(v) if isinstance(v, list) else 0


def read(path: Path, line: int, rec: dict[str, Any]) -> Problem:
    for name in ("task_id", "prompt", "entry_point", "canonical_solution"):
        if not isinstance(rec.get(name), str):
            raise InputFileError(path, f"field {name!r} must be a string", line=line)
    entry = rec["entry_point"]
    if not entry.isidentifier() or entry.startswith("_hel") or entry.startswith("_HEL"):
        raise InputFileError(path, f"entry_point {entry!r} is not a Python name of the task's", line=line)
    if not isinstance(rec["base_input"], list):
        raise InputFileError(path, "field 'base_input' must be a list", line=line)
    # Mbpp/793 (v0.2.0) has plus_input {}: kept as it is; it checks nothing, as in EvalPlus.
    atol = rec.get("atol", 0)
    if not isinstance(atol, (int, float)) or not math.isfinite(atol) or atol < 0:
        raise InputFileError(path, f"atol must be a number >= 0, got {atol!r}", line=line)
    data = {
        "task_id": rec["task_id"],
        "dataset": _dataset(rec["task_id"]),
        "entry_point": entry,
        "atol": atol,
        "canonical": rec["prompt"] + rec["canonical_solution"],
        "base_input": rec["base_input"],
        "plus_input": rec["plus_input"],
    }
    # allow_nan: MBPP+ Mbpp/404's inputs hold bare Infinity, which Python's json reads and writes.
    data_json = json.dumps(data, ensure_ascii=False, allow_nan=True)
    # The judge runs in a namespace of its own, compiled under a name of its own: the entry point
    # (bound to the candidate in the tests' namespace) cannot shadow the judge's globals (MBPP+ 126's
    # function is called ``sum``), and a failure's reason ends with the tests' line, not the judge's.
    tests = (
        "_hel_evalplus = {'__name__': 'hel_evalplus'}\n"
        f"exec(compile({judge_source('hel_evalplus_values.py')!r}, '<evalplus-values>', 'exec', dont_inherit=True), "
        "_hel_evalplus)\n"
        f"exec(compile({judge_source()!r}, '<evalplus>', 'exec', dont_inherit=True), _hel_evalplus)\n"
        f"_HEL_EVALPLUS_DATA = {data_json!r}\n"
        f"_hel_evalplus['evalplus_check']({entry}, _HEL_EVALPLUS_DATA)\n"
    )
    n_base, n_plus = _count(rec["base_input"]), _count(rec["plus_input"])
    return Problem(
        task_id=rec["task_id"],
        language="python",
        prompt=rec["prompt"],
        tests=tests,
        entry_point=entry,
        canonical_solution=rec["canonical_solution"],
        source_format=FORMAT,
        extras={
            "evalplus": {
                "dataset": data["dataset"],
                "base_inputs": n_base,
                "plus_inputs": n_plus,
                "atol": atol,
                "timeout_s": JOB_TIMEOUT_S,
            },
            "original_test": rec.get("test") or rec.get("assertion") or "",
        },
    )
