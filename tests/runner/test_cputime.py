"""The job's CPU time on real processes on the host: the runner's count (cputime.Watch) and the verdict.

Each job runs through ``execute_job`` with the host's context, as the ``local`` executor runs it: a
busy loop and a forking busy tree are ``cpu`` timeouts after about the CPU limit (well before the
wall limit), a sleeper is a ``wall`` timeout (and, having computed nothing, is judged again alone
where a solo box exists), and a child reaped by its parent is counted once, not twice.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import pytest
from humaneval_lab.sandbox.runner import cputime
from humaneval_lab.sandbox.runner.judge import execute_job

WALL_S = 20.0  # far above every CPU limit here: a cpu timeout must come long before it


def job(code: str, cpu_time_s: float | None, wall_s: float = WALL_S) -> dict[str, Any]:
    limits = {"timeout_s": wall_s, "cpu_s": 60, "output_bytes": 1 << 20, "file_size_bytes": 1 << 20,
              "open_files": 64, "cpu_time_s": cpu_time_s}  # fmt: skip
    program = {"language": "python", "files": {"m.py": code}, "run": [sys.executable, "m.py"], "compile": [], "env": {}}  # fmt: skip
    return {"id": "t", "program": program, "limits": limits}


BUSY = "while True:\n    pass\n"
FORKING = "import os\nfor _ in range(3):\n    os.fork()\nwhile True:\n    pass\n"  # 8 busy processes


@pytest.mark.parametrize(("code", "procs"), [(BUSY, 1), (FORKING, 8)], ids=["busy loop", "forking busy tree"])
def test_runaway_code_is_a_cpu_timeout_after_about_its_cpu_limit(code: str, procs: int) -> None:
    limit = 0.6
    t0 = time.monotonic()
    out = execute_job(job(code, limit))
    elapsed = time.monotonic() - t0
    assert (out["status"], out["timeout"]) == ("timeout", "cpu"), out
    assert "CPU time limit" in out["reason"]
    # Counted over the whole tree: at the limit, and past it by no more than one sampling interval
    # of every process (the busy tree's 8 processes each run meanwhile), plus a clock tick each.
    slack = procs * (cputime.MAX_INTERVAL_S + 2 / cputime.TICK) + 0.1
    assert limit <= out["cpu_s"] <= limit + slack, out
    assert elapsed < WALL_S / 2, elapsed  # stopped by the CPU, not the wall clock
    assert "solo" not in out  # load cannot cause a cpu timeout: it counts at once


def test_a_sleeper_is_a_wall_timeout_and_is_judged_again_alone() -> None:
    out = execute_job(job("import time\ntime.sleep(1e6)\n", 0.5, wall_s=1.5))
    assert (out["status"], out["timeout"]) == ("timeout", "wall"), out
    assert out["cpu_s"] < 0.5  # it never computed: starved or blocked, the box cannot tell
    assert out["solo"] is True
    assert 1.5 <= out["duration_s"] < 10


def test_a_correct_sample_passes_with_its_cpu_time_measured() -> None:
    code = "import sys\nx = sum(i * i for i in range(3_000_000))\nprint(sys.stdin.readline().strip())\n"
    out = execute_job(job(code, 5.0))
    assert out["status"] == "passed", out
    assert "timeout" not in out and "solo" not in out
    assert 0.05 < out["cpu_s"] < 5.0


def test_a_child_reaped_by_its_parent_counts_once() -> None:
    """A child burns ~0.4 s and exits; its parent (the job's) reaps it and sleeps. The child's time is
    then in its parent's cutime: counting its own record too would charge it twice (an overcount is
    a lie: a sample stopped for CPU it did not use)."""
    code = (
        "import os, sys, time\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    t = time.process_time()\n"
        "    while time.process_time() - t < 0.4:\n"
        "        pass\n"
        "    os._exit(0)\n"
        "os.waitpid(pid, 0)\n"
        "time.sleep(0.5)\n"
        "print(sys.stdin.readline().strip())\n"
    )
    out = execute_job(job(code, None))  # measured only
    assert out["status"] == "passed", out
    assert 0.38 <= out["cpu_s"] < 0.4 + 0.3, out  # 0.3: two interpreters' start, far below 0.4 twice


def test_parse_stat_reads_times_past_a_command_name_with_spaces_and_parentheses() -> None:
    fields = ["S", "41", "7", "7", "0", "-1", "4194560", "1", "0", "0", "0", "250", "50", "100", "20"]
    fields += ["20", "0", "1", "0", "987654", "0"]  # priority ... starttime (field 22), vsize
    data = b"1234 (a) b (c)) " + " ".join(fields).encode()
    ppid, start, own, reaped = cputime.parse_stat(data)
    assert (ppid, start) == (41, 987654)
    assert (own, reaped) == (300 / cputime.TICK, 120 / cputime.TICK)


def test_the_sampling_interval_follows_the_limit_within_bounds() -> None:
    assert cputime.interval_for(0.1) == cputime.MIN_INTERVAL_S
    assert cputime.interval_for(0.5) == 0.01
    assert cputime.interval_for(30.0) == cputime.MAX_INTERVAL_S


def test_bad_cpu_limits_are_refused_by_the_runner() -> None:
    from humaneval_lab.sandbox.runner import limits

    base = job("", None)["limits"]
    assert limits.parse(base).cpu_time_s is None
    assert limits.parse({**base, "cpu_time_s": 2}).cpu_time_s == 2.0
    for bad in (0, -1.0, float("nan"), "1", True):
        with pytest.raises(ValueError, match="cpu_time_s"):
            limits.parse({**base, "cpu_time_s": bad})
