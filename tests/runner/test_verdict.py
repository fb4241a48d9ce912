"""The runner's verdict table, on the host: every status and reason verdict.py can give, from facts.

Each row is the facts of a finished step (as steps.py / warm.py report them) and the outcome it must
get. No Docker: verdict.py is pure, so what the sandbox decides for a given set of facts is decided
here the same way.
"""

from __future__ import annotations

import signal
from typing import Any

import pytest
from humaneval_lab.sandbox.runner import verdict

from humaneval_lab.execution.base import Status

PY = {"failure_markers": ["AssertionError", "CandidateFailed"]}  # Python's (languages/python.py)
PLAIN: dict[str, Any] = {}  # a language with no failure markers
TOKEN = "0123456789abcdef0123456789abcdef"


def step(**facts: Any) -> dict[str, Any]:
    """A run step's facts: exited 0, in time, within every cap, unless ``facts`` says otherwise."""
    base = {"rc": 0, "timed_out": False, "overflow": False, "oom": False, "incomplete": False}
    return {**base, "stdout": b"", "stderr": b"", **facts}


# (name, facts, program, contained, expected status, expected reason (a prefix))
CLASSIFY = [
    ("wall clock", step(rc=None, timed_out=True), PY, True, "timeout", "run exceeded the time limit"),
    ("output cap", step(rc=-9, overflow=True), PY, True, "output_limit", "run wrote more output than allowed"),
    ("cgroup oom", step(rc=-9, oom=True), PY, True, "oom", "killed: out of memory"),
    ("cpu rlimit", step(rc=-signal.SIGXCPU), PY, True, "timeout", "CPU time limit"),
    ("fsize rlimit", step(rc=-signal.SIGXFSZ), PY, True, "output_limit", "file size limit"),
    ("sigkill contained", step(rc=-9), PY, True, "crashed", "killed by SIGKILL"),
    ("sigkill on a host", step(rc=-9), PY, False, "oom", "killed (SIGKILL): out of memory"),
    ("segfault", step(rc=-signal.SIGSEGV), PY, True, "crashed", "killed by SIGSEGV"),
    ("unknown signal", step(rc=-63), PY, True, "crashed", "killed by 63"),
    ("assertion", step(rc=1, stderr=b"Traceback\nAssertionError: 3 != 4\n"), PY, True, "failed", "AssertionError: 3 != 4"),
    ("exception", step(rc=1, stderr=b"Traceback\nZeroDivisionError: x\n\n"), PY, True, "error", "ZeroDivisionError: x"),
    ("silent exit", step(rc=3), PY, True, "error", "exit code 3"),
    # Out-of-memory words on stderr are text a sample can print: never an oom.
    ("MemoryError text, failed", step(rc=1, stderr=b"MemoryError\nAssertionError\nKilled: out of memory\n"), PY, True, "failed", "Killed: out of memory"),
    ("MemoryError text, error", step(rc=1, stderr=b"MemoryError\n"), PLAIN, True, "error", "MemoryError"),
    ("MemoryError text on a host", step(rc=1, stderr=b"MemoryError\n"), PLAIN, False, "error", "MemoryError"),
    # Precedence: the wall clock over the output cap over the oom counter over a signal.
    ("timeout beats overflow", step(rc=-9, timed_out=True, overflow=True, oom=True), PY, True, "timeout", "run exceeded"),
    ("overflow beats oom", step(rc=-9, overflow=True, oom=True), PY, True, "output_limit", "run wrote"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("facts", "program", "contained", "status", "reason"),
    [c[1:] for c in CLASSIFY],
    ids=[c[0] for c in CLASSIFY],
)
def test_classify_failure(facts: dict[str, Any], program: dict[str, Any], contained: bool, status: str, reason: str) -> None:  # fmt: skip
    out = verdict.classify_failure(facts, program, "run", contained)
    assert (out["status"], out["reason"][: len(reason)]) == (status, reason)
    assert out["stderr_tail"] == facts["stderr"][-verdict.TAIL :].decode("utf-8", "replace")


def test_the_stderr_tail_is_capped_and_never_raises_on_bad_bytes() -> None:
    out = verdict.classify_failure(step(rc=1, stderr=b"\xff" * 5000 + b"end"), PLAIN, "run", True)
    assert (
        out["status"] == "error"
        and len(out["stderr_tail"]) == verdict.TAIL
        and out["stderr_tail"].endswith("end")
    )
    assert len(out["reason"]) == 200  # the last line, cut


def test_compile_failures() -> None:
    assert verdict.compile_outcome(step(), PLAIN, True) is None
    out = verdict.compile_outcome(
        step(rc=1, stdout=b"Main.java:3: error\n", stderr=b"1 error\n"), PLAIN, True
    )
    assert out == {
        "status": "error",
        "reason": "compile error",
        "stderr_tail": "Main.java:3: error\n1 error\n",
    }
    slow = verdict.compile_outcome(step(rc=None, timed_out=True), PLAIN, True)
    assert slow is not None and (slow["status"], slow["reason"]) == (
        "timeout",
        "compile exceeded the time limit",
    )
    killed = verdict.compile_outcome(step(rc=-9), PLAIN, True)
    assert killed is not None and killed["status"] == "crashed"


TOKEN_ROWS = [
    ("token on its own line", step(stdout=f"noise\n  {TOKEN}  \n".encode()), PLAIN, "passed", ""),
    ("exit 0 without the token", step(stdout=b"all good\n"), PLAIN, "failed", "exited 0 before the tests finished"),
    ("the token inside a line", step(stdout=f"x{TOKEN}\n".encode()), PLAIN, "failed", "exited 0 before"),
    ("a capture that did not finish", step(incomplete=True), PLAIN, "infra_error", "the output capture did not finish"),
    ("the driver's infra signal", step(rc=verdict.INFRA_EXIT, stdout=f"\nhel-infra {TOKEN}\n".encode()), PY, "infra_error", "the test driver could not start"),
    ("infra exit without the token", step(rc=verdict.INFRA_EXIT, stdout=b"hel-infra guess\n"), PLAIN, "error", "exit code 75"),
    ("token, then a failure", step(rc=1, stdout=f"{TOKEN}\n".encode(), stderr=b"AssertionError\n"), PY, "failed", "AssertionError"),
    ("token, but late", step(rc=None, timed_out=True, stdout=f"{TOKEN}\n".encode()), PY, "timeout", "run exceeded"),
    ("token, but a flood", step(rc=-9, overflow=True, stdout=f"{TOKEN}\n".encode()), PY, "output_limit", "run wrote"),
    ("stderr must stay empty", step(stdout=f"{TOKEN}\n".encode(), stderr=b"Assertion failed\nline 9: 1 != 2\n"), {"require_empty_stderr": True}, "failed", "line 9: 1 != 2"),
    ("empty stderr as required", step(stdout=f"{TOKEN}\n".encode(), stderr=b"\n"), {"require_empty_stderr": True}, "passed", ""),
]  # fmt: skip


@pytest.mark.parametrize(
    ("facts", "program", "status", "reason"), [r[1:] for r in TOKEN_ROWS], ids=[r[0] for r in TOKEN_ROWS]
)
def test_token_outcome(facts: dict[str, Any], program: dict[str, Any], status: str, reason: str) -> None:
    out = verdict.token_outcome(facts, program, TOKEN, True)
    assert (out["status"], out["reason"][: len(reason)]) == (status, reason)


def pair(judge_rc: int | None, judge_stderr: bytes = b"", **facts: Any) -> dict[str, Any]:
    return {**step(**facts), "judge_rc": judge_rc, "judge_stderr": judge_stderr, "cand_killed": facts.get("cand_killed", False)}  # fmt: skip


PAIR_ROWS = [
    ("judge passed", pair(0), "passed", ""),
    ("judge failed", pair(1, b"tests.rb:3: expected 4, got 3\n\n"), "failed", "tests.rb:3: expected 4, got 3"),
    ("judge failed, silent", pair(1), "failed", "the tests failed"),
    ("judge error", pair(2, b"the candidate raised NameError\n"), "error", "the candidate raised NameError"),
    ("judge ended oddly", pair(7), "error", "the judge ended with 7"),
    ("candidate exited 0 mid-tests", pair(3, rc=0), "failed", "CandidateFailed: the candidate exited"),
    ("candidate crashed", pair(3, rc=-signal.SIGSEGV), "crashed", "killed by SIGSEGV"),
    ("judge's SIGPIPE is a gone candidate", pair(-signal.SIGPIPE, rc=-signal.SIGABRT), "crashed", "killed by SIGABRT"),
    ("candidate oom", pair(3, rc=-9, oom=True), "oom", "killed: out of memory"),
    ("candidate stopped answering", pair(3, rc=-9, timed_out=False, cand_killed=True), "error", "the candidate stopped answering"),
    ("out of time", pair(None, rc=None, timed_out=True), "timeout", "run exceeded"),
    ("judge passed, but a flood", pair(0, rc=-9, overflow=True), "output_limit", "run wrote"),
    ("judge passed, but late", pair(0, rc=None, timed_out=True), "timeout", "run exceeded"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("facts", "status", "reason"), [r[1:] for r in PAIR_ROWS], ids=[r[0] for r in PAIR_ROWS]
)
def test_pair_outcome(facts: dict[str, Any], status: str, reason: str) -> None:
    out = verdict.pair_outcome(facts, {"failure_markers": ["CandidateFailed"]}, True)
    assert (out["status"], out["reason"][: len(reason)]) == (status, reason)


def test_pair_outcome_keeps_both_stderrs_when_the_candidate_wrote_some() -> None:
    out = verdict.pair_outcome(pair(1, b"judge says no\n", stderr=b"candidate debug\n"), PLAIN, True)
    assert "candidate debug" in out["stderr_tail"] and "judge says no" in out["stderr_tail"]


def warm(answer: dict[str, Any] | None, **facts: Any) -> dict[str, Any]:
    return {**step(**facts), "tester": answer}


WARM_ROWS = [
    ("tests passed", warm({"passed": True, "gone": False, "stderr": ""}, rc=None), "passed", ""),
    ("tests failed", warm({"passed": False, "gone": False, "stderr": "AssertionError: f(1) == 2\n"}, rc=None), "failed", "AssertionError: f(1) == 2"),
    ("candidate raised", warm({"passed": False, "gone": False, "stderr": "ValueError: bad\n"}, rc=None), "error", "ValueError: bad"),
    ("candidate exited", warm({"passed": False, "gone": True, "stderr": ""}, rc=0), "failed", "CandidateFailed: candidate process exited with code 0"),
    ("candidate killed itself", warm({"passed": False, "gone": True, "stderr": ""}, rc=-signal.SIGTERM), "crashed", "killed by SIGTERM"),
    ("candidate oom", warm({"passed": False, "gone": True, "stderr": ""}, rc=-9, oom=True), "oom", "killed: out of memory"),
    ("no answer in time", warm(None, rc=-9, timed_out=True), "timeout", "run exceeded"),
    ("passed, but a flood", warm({"passed": True, "gone": False, "stderr": ""}, rc=-9, overflow=True), "output_limit", "run wrote"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("facts", "status", "reason"), [r[1:] for r in WARM_ROWS], ids=[r[0] for r in WARM_ROWS]
)
def test_warm_outcome(facts: dict[str, Any], status: str, reason: str) -> None:
    out = verdict.warm_outcome(facts, PY, True)
    assert (out["status"], out["reason"][: len(reason)]) == (status, reason)


def test_final_keeps_a_verdict_and_adds_its_duration() -> None:
    for status in ("passed", "failed", "error", "crashed", "oom", "timeout"):
        out = verdict.final({"status": status, "reason": "r", "stderr_tail": "t"}, 1.5, 10.0, shared=False)
        assert out == {"status": status, "reason": "r", "stderr_tail": "t", "duration_s": 1.5}


def test_final_a_pass_after_the_limit_is_a_timeout() -> None:
    limit = 2.0
    on_time = verdict.final(
        {"status": "passed", "reason": "", "stderr_tail": ""}, limit + verdict.LATE_GRACE_S, limit, False
    )
    late = verdict.final({"status": "passed", "reason": "", "stderr_tail": ""}, limit + verdict.LATE_GRACE_S + 0.01, limit, False)  # fmt: skip
    assert on_time["status"] == "passed"
    assert (late["status"], late["reason"]) == ("timeout", "answered after the time limit")


@pytest.mark.parametrize("status", ["crashed", "oom"])
def test_final_a_signal_death_beside_other_samples_is_judged_again_alone(status: str) -> None:
    out = verdict.final(
        {"status": status, "reason": "killed by SIGKILL", "stderr_tail": "t"}, 0.5, 10.0, shared=True
    )
    assert out["status"] == "infra_error" and out["solo"] is True
    assert out["reason"] == "killed by SIGKILL, with other samples beside it: judged again alone"
    failed = verdict.final({"status": "failed", "reason": "", "stderr_tail": ""}, 0.5, 10.0, shared=True)
    assert failed["status"] == "failed" and "solo" not in failed


def test_not_started_and_runner_failures() -> None:
    infra = verdict.not_started({"rc": None, "error": "cannot start python3: fork", "infra": True}, 0.25)
    assert infra == {
        "status": "infra_error",
        "reason": "cannot start python3: fork",
        "stderr_tail": "",
        "duration_s": 0.25,
    }
    own = verdict.not_started(
        {"rc": None, "error": "cannot start ./a.out: No such file", "infra": False}, 0.0
    )
    assert own["status"] == "error"
    bug = verdict.runner_failed(KeyError("limits"))
    assert bug["status"] == "infra_error" and bug["reason"] == "runner: KeyError: 'limits'"


def test_limit_hit_says_which_limit_or_none() -> None:
    assert verdict.limit_hit(step(rc=1), "run") is None
    assert verdict.limit_hit(step(rc=-signal.SIGSEGV), "run") is None
    assert verdict.limit_hit(step(rc=-signal.SIGXCPU), "compile") == ("timeout", "CPU time limit", "cpu")
    assert verdict.limit_hit(step(rc=None, timed_out=True), "run") == (
        "timeout",
        "run exceeded the time limit",
        "wall",
    )
    # The job's CPU time decides first: the watch's kill also ends the step by a signal, maybe at
    # the deadline, and the output it wrote meanwhile may overflow: the cause is the CPU.
    cpu = verdict.limit_hit(step(rc=-9, cpu_out=True, timed_out=True, overflow=True, oom=True), "compile")
    assert cpu == ("timeout", "compile exceeded the job's CPU time limit", "cpu")


# The job's CPU time (cputime.Watch set ``cpu_out``) in every kind of step: a ``cpu`` timeout,
# whatever else the step reports, even an exit 0 with the token (past the limit nothing counts).
CPU_ROWS = [
    ("compile", lambda f: verdict.compile_outcome(f, PY, True), step(rc=-9, cpu_out=True)),
    ("compile exited 0 after", lambda f: verdict.compile_outcome(f, PY, True), step(rc=0, cpu_out=True)),
    ("token run", lambda f: verdict.token_outcome(f, PY, TOKEN, True), step(rc=-9, cpu_out=True)),
    ("token printed, too late", lambda f: verdict.token_outcome(f, PY, TOKEN, True), step(rc=0, cpu_out=True, stdout=TOKEN.encode() + b"\n")),
    ("pair, judge killed", lambda f: verdict.pair_outcome(f, PLAIN, True), step(rc=-9, cpu_out=True, judge_rc=-9, judge_stderr=b"", cand_killed=False)),
    ("warm, no answer", lambda f: verdict.warm_outcome(f, PY, True), step(rc=-9, cpu_out=True, tester=None)),
]  # fmt: skip


@pytest.mark.parametrize(("judge", "facts"), [r[1:] for r in CPU_ROWS], ids=[r[0] for r in CPU_ROWS])
def test_the_jobs_cpu_time_is_a_cpu_timeout_in_every_step(judge: Any, facts: dict[str, Any]) -> None:
    out = judge(facts)
    assert (out["status"], out["timeout"]) == ("timeout", "cpu")
    assert "CPU time limit" in out["reason"]


def test_a_timeout_says_which_limit() -> None:
    wall = verdict.classify_failure(step(rc=None, timed_out=True), PY, "run", True)
    rlimit = verdict.classify_failure(step(rc=-signal.SIGXCPU), PY, "run", True)
    assert (wall["timeout"], rlimit["timeout"]) == ("wall", "cpu")
    crash = verdict.classify_failure(step(rc=-signal.SIGSEGV), PY, "run", True)
    assert "timeout" not in crash  # only a timeout names a limit
    late = verdict.final({"status": "passed", "reason": "", "stderr_tail": ""}, 9.0, 2.0, False, cpu_s=8.0)
    assert (late["status"], late["timeout"], late["cpu_s"]) == ("timeout", "wall", 8.0)
    assert "solo" not in late  # it computed all along: not starved


def wall_timeout(**extra: Any) -> dict[str, Any]:
    return {
        "status": "timeout",
        "reason": "run exceeded the time limit",
        "stderr_tail": "",
        "timeout": "wall",
        **extra,
    }


@pytest.mark.parametrize(
    ("cpu_s", "shared", "solo"),
    [
        (0.3, False, True),  # 0.3 s of CPU in 5 s: starved (or blocked), alone or not: again, alone
        (0.3, True, True),
        (4.9, False, False),  # it computed the whole time: the load did not cause this
        (4.9, True, False),
        (None, True, True),  # not measured: beside other samples it may have been starved
        (None, False, False),
    ],
)
def test_a_wall_timeout_that_may_be_the_hosts_load_is_judged_again_alone(cpu_s: float | None, shared: bool, solo: bool) -> None:  # fmt: skip
    out = verdict.final(wall_timeout(), 5.0, 5.0, shared, cpu_s)
    assert out["status"] == "timeout" and out["timeout"] == "wall"  # still a timeout where no solo box exists
    assert out.get("solo", False) is solo


@pytest.mark.parametrize("shared", [False, True])
def test_a_cpu_timeout_counts_at_once(shared: bool) -> None:
    cpu = {
        "status": "timeout",
        "reason": "run exceeded the job's CPU time limit",
        "stderr_tail": "",
        "timeout": "cpu",
    }
    out = verdict.final(cpu, 3.0, 5.0, shared, 0.5)  # starved meanwhile (0.5 of 3 s): still final
    assert "solo" not in out and out["timeout"] == "cpu" and out["cpu_s"] == 0.5


def test_every_status_is_reachable_and_known_to_the_host() -> None:
    """The table above reaches every Status the host knows, and verdict.py gives no other."""
    seen = (
        {c[4] for c in CLASSIFY}
        | {r[3] for r in TOKEN_ROWS}
        | {r[2] for r in PAIR_ROWS}
        | {r[2] for r in WARM_ROWS}
    )
    seen.add(verdict.final({"status": "crashed", "reason": "", "stderr_tail": ""}, 0, 1, True)["status"])
    assert seen == {s.value for s in Status}
