"""Shared fixtures for the language tests: the HumanEval-X data from ../shared/datasets."""

from __future__ import annotations

from pathlib import Path

import pytest

from humaneval_lab.problems import Problem, read_problem_file

REPO = Path(__file__).resolve().parents[2]
DATASETS = REPO.parent / "shared" / "datasets"
HUMANEVAL_X = DATASETS / "humaneval-x"
MULTIPL_E = DATASETS / "multipl-e"
# Our language name -> HumanEval-X file suffix.
HX_FILES = {"cpp": "cpp", "go": "go", "java": "java", "javascript": "js", "python": "python", "rust": "rust"}


def humaneval_x(language: str) -> list[Problem]:
    return read_problem_file(HUMANEVAL_X / f"humaneval_{HX_FILES[language]}.jsonl.gz")


def multipl_e(suffix: str, name: str) -> Problem:
    problems = read_problem_file(MULTIPL_E / f"humaneval-{suffix}-reworded.jsonl")
    return next(p for p in problems if p.task_id == name)


@pytest.fixture(scope="session")
def hx() -> dict[str, list[Problem]]:
    return {lang: humaneval_x(lang) for lang in HX_FILES}
