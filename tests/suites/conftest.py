"""Shared helpers for the suite tests: the real data files, and judging programs in the sandbox."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from humaneval_lab.execution.base import Job, Limits, Outcome
from humaneval_lab.languages import get_language, source_of
from humaneval_lab.problems import Problem, ProblemSet, load_problems
from humaneval_lab.problemsets import job_limits

DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
HUMANEVAL_PLUS = DATASETS / "humaneval-plus" / "HumanEvalPlus.jsonl.gz"
MBPP_PLUS = DATASETS / "mbpp-plus" / "MbppPlus.jsonl.gz"
MBPP = DATASETS / "mbpp" / "mbpp.jsonl"
MBPP_SANITIZED = DATASETS / "mbpp" / "sanitized-mbpp.json"


@pytest.fixture(scope="session")
def humaneval_plus() -> ProblemSet:
    return load_problems(path=HUMANEVAL_PLUS)


@pytest.fixture(scope="session")
def mbpp_plus() -> ProblemSet:
    return load_problems(path=MBPP_PLUS)


def job(problem: Problem, completion: str, tag: str, *, includes_prompt: bool = False) -> Job:
    program = get_language(problem.language).build(problem, source_of(problem, completion, includes_prompt))
    # 120 s: MBPP's reference code for Mbpp/123 (amicable numbers to 9999) takes ~45 s on a 2-core host
    # at load 20; a wrong answer here returns at once, so the limit costs nothing.
    return Job(f"{tag}:{problem.task_id}", program, job_limits(problem) or Limits(timeout_s=120.0))


def judge(executor: object, jobs: Iterable[Job]) -> dict[str, Outcome]:
    """Every job's outcome, by job id (each exactly once)."""
    from tests.sandbox.conftest import judged_once

    return judged_once(executor, jobs)


from tests.sandbox.conftest import make_executor, sandbox_image  # noqa: E402,F401  (fixtures)
