"""Readers of the project's shared test data (../shared/datasets) that tests and benchmarks share.

One home for what both need (benchmarks/bench_languages.py adds the repo root to ``sys.path`` to
import it); the product never reads this data. Each reader fails with FileNotFoundError when the
data is absent: its callers say so their own way.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from humaneval_lab.problems import Problem, read_problem_file

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
HUMANEVAL_X = DATASETS / "humaneval-x"
MULTIPL_E_TS = DATASETS / "multipl-e" / "humaneval-ts-reworded.jsonl"


def typescript_problems() -> list[Problem]:
    """MultiPL-E's TS problems, each with HumanEval-X's JavaScript canonical body as its solution
    (plain JS type-checks there), the entry point renamed to MultiPL-E's; in problem order."""
    js = {p.task_id.split("/")[1]: p for p in read_problem_file(HUMANEVAL_X / "humaneval_js.jsonl.gz")}
    out = []
    for p in read_problem_file(MULTIPL_E_TS):
        other = js[p.task_id.split("_")[1]]
        body = re.sub(rf"\b{other.entry_point}\b", p.entry_point, other.canonical_solution or "")
        out.append(dataclasses.replace(p, canonical_solution=body))
    return sorted(out, key=lambda p: int(p.task_id.split("_")[1]))
