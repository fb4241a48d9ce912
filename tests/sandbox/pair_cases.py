"""Shared by the attack files of the two-process script languages (PHP, Perl, Bash).

Every attack is a completion of the polyglot suite's problem 0 (``digit_sum``: the sum of the
decimal digits of ``n``; the tests call it with 123, 0, 9, 10001 and 987654321), so a sample that
returns the right answer passes. Where an attack can only be judged by its effect it returns the
right answer exactly when the attack FAILED: ``passed`` proves containment held.
"""

from __future__ import annotations

from typing import Any

from conftest import judged_once

from humaneval_lab.execution.base import Job, Limits
from humaneval_lab.execution.selftest import Case
from humaneval_lab.languages import get_language, source_of
from humaneval_lab.problems import Problem, load_suite

NOT_PASSED = {"failed", "error"}


def problem(language: str, index: int = 0) -> Problem:
    return [p for p in load_suite("polyglot") if p.language == language][index]


def job(language: str, name: str, completion: str, timeout_s: float = 5.0, index: int = 0) -> Job:
    p = problem(language, index)
    program = get_language(language).build(p, source_of(p, completion))
    return Job(name, program, Limits(timeout_s=timeout_s))


def run_interleaved(
    ex: Any, language: str, attacks: list[Case], honest: Case, wrong: Case, timeout_s: float = 5.0
) -> dict[str, tuple[str, str]]:
    """Each attack followed by an honest (or, every third, a wrong) sample, one container, one job
    at a time: a later sample sees whatever the attack left behind. Returns the verdicts that are
    not what their case expects, as {job id: (verdict, reason)}. The time limit is generous: on a
    busy machine an honest sample must not time out (only ``never-answers`` waits it out)."""
    cases: list[tuple[str, Case]] = []
    for i, attack in enumerate(attacks):
        cases.append((f"attack:{attack.name}", attack))
        cases.append((f"after:{attack.name}", wrong if i % 3 == 2 else honest))
    out = judged_once(ex, [job(language, name, c.completion, timeout_s) for name, c in cases])
    expect = dict(cases)
    return {
        name: (o.status.value, o.reason)
        for name, o in out.items()
        if o.status.value not in expect[name].expect
    }
