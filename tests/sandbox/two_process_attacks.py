"""Shared runner for the two-process (judge + candidate) attack files: each attack is followed by an
honest sample in the same container, and every verdict is asserted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conftest import judged_once

from humaneval_lab.execution.base import Job, Limits
from humaneval_lab.languages import get_language, source_of
from humaneval_lab.problems import Problem


@dataclass(frozen=True)
class Attack:
    name: str
    completion: str
    expect: str  # the one right verdict
    why: str = ""


def run_interleaved(ex: Any, problem: Problem, attacks: list[Attack], right: str, wrong: str) -> None:
    """attack, honest, attack, honest... in one container (``ex`` has one worker); all verdicts right."""
    spec = get_language(problem.language)
    cases: list[tuple[str, str, str]] = []
    for i, attack in enumerate(attacks):
        cases.append((f"attack:{attack.name}", attack.completion, attack.expect))
        honest, verdict = (right, "passed") if i % 3 else (wrong, "failed")
        cases.append((f"honest:{i}:after:{attack.name}", honest, verdict))
    jobs = [
        Job(name, spec.build(problem, source_of(problem, completion)), Limits(timeout_s=5.0))
        for name, completion, _ in cases
    ]
    out = judged_once(ex, jobs)
    wrong_verdicts = {
        name: (out[name].status.value, out[name].reason)
        for name, _, expect in cases
        if out[name].status.value != expect
    }
    assert wrong_verdicts == {}, f"{wrong_verdicts}; deaths: {ex.death_log}"
    # A sleeper's wall timeout is judged again alone in a box of its own (solo_ids): not a replacement.
    shared = set(ex.container_ids) - set(ex.solo_ids)
    assert len(shared) == 1, f"every sample ran in the same container: {ex.death_log}"
