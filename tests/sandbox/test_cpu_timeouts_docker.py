"""Timeouts through the real sandbox: CPU time of the job's whole process tree, and the wall clock.

An infinite loop is a ``cpu`` timeout after about its CPU limit (not the wall limit); a fork bomb of
busy children is caught by the tree's sum; ``time.sleep(1e6)`` is a ``wall`` timeout, judged again
in a solo box before it counts (it computed nothing: from inside, starved and blocked look alike);
a correct sample passes with its CPU time measured. Every container is checked clean afterwards.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from conftest import judged_once

from humaneval_lab.execution.base import Job, Limits, Status
from humaneval_lab.execution.selftest import PROBLEM
from humaneval_lab.languages import get_language, source_of

pytestmark = pytest.mark.docker

CPU_S = 0.5
# Far above the CPU limit: a cpu timeout comes long before it on a quiet box. On a box loaded by
# other work a loop may get a few % of a CPU, so wall times are not asserted beyond "not the wall".
WALL_S = 60.0


def _job(name: str, completion: str, cpu_s: float | None = CPU_S, wall_s: float = WALL_S) -> Job:
    program = get_language("python").build(PROBLEM, source_of(PROBLEM, completion))
    return Job(name, program, Limits(timeout_s=wall_s, cpu_time_s=cpu_s))


LOOP = "    while True:\n        pass\n"
# Six busy children and their parent: each alone stays far under RLIMIT_CPU (30 s) and the sum is
# what gives them away. They ignore SIGTERM; the parent waits for none of them.
FORK_BOMB = (
    "    import os, signal\n"
    "    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "    for _ in range(6):\n"
    "        if os.fork() == 0:\n"
    "            while True:\n"
    "                pass\n"
    "    while True:\n"
    "        pass\n"
)
SLEEP = "    import time\n    time.sleep(1e6)\n"
HONEST = "    return a + b\n"  # selftest.PROBLEM (add): a correct answer


def test_runaway_code_is_a_cpu_timeout_after_about_its_cpu_limit(make_executor: Any) -> None:
    ex = make_executor(jobs=2, workers_per_container=2)
    t0 = time.monotonic()
    out = judged_once(ex, [_job("loop", LOOP), _job("bomb", FORK_BOMB)])
    took = time.monotonic() - t0
    for name in ("loop", "bomb"):
        o = out[name]
        assert (o.status, o.timeout) == (Status.TIMEOUT, "cpu"), (name, o)
        assert "CPU time limit" in o.reason
        assert CPU_S <= o.cpu_s < CPU_S + 0.5, (name, o)  # the tree's sum, a few samplings late at most
        assert o.duration_s < WALL_S, (name, o)  # the CPU stopped it, not the wall clock
    assert took < 2 * WALL_S, took  # neither was judged twice


def test_a_sleeper_is_a_wall_timeout_judged_again_alone(make_executor: Any) -> None:
    ex = make_executor(jobs=1)
    out = judged_once(ex, [_job("sleep", SLEEP, wall_s=2.0), _job("ok", HONEST)])
    o = out["sleep"]
    assert (o.status, o.timeout) == (Status.TIMEOUT, "wall"), o
    assert o.cpu_s < 0.5 and 2.0 <= o.duration_s < 10, o
    assert len(ex.solo_ids) == 1  # its verdict came from a box of its own
    assert out["ok"].status is Status.PASSED and out["ok"].timeout == ""
    assert out["ok"].cpu_s < CPU_S, out["ok"]  # a forked warm candidate: a few ms, maybe under a tick


def test_without_a_cpu_limit_a_loop_is_a_wall_timeout_that_counts_at_once(make_executor: Any) -> None:
    """The old policy (no CPU limit): the loop runs to the wall limit (its CPU time still measured)."""
    ex = make_executor(jobs=1)
    out = judged_once(ex, [_job("loop", LOOP, cpu_s=None, wall_s=2.0)])
    o = out["loop"]
    assert (o.status, o.timeout) == (Status.TIMEOUT, "wall"), o
    assert o.duration_s >= 2.0, o
