"""The one place a verdict is decided: every status and reason, as pure functions of plain data.

A step's result (``steps.run_step``, ``steps.run_pair``, ``warm.run_warm``) is a dict of facts:
``rc`` (None: still running at the deadline; < 0: killed by that signal), ``timed_out`` (the wall
clock ran out), ``overflow`` (output past its cap), ``oom`` (the cgroup's OOM counter moved while it
ran), ``incomplete`` (the capture of its output did not finish), ``stdout``/``stderr`` (bytes,
capped), and per kind: ``judge_rc``/``judge_stderr``/``cand_killed`` (two processes), ``tester``
(the warm tester's answer, None at the deadline). These functions turn facts into an outcome dict
``{"status", "reason", "stderr_tail"}`` with the statuses of humaneval_lab.execution.base.Status;
nothing here reads a clock, a file or a global, so each is tested on the host.

Which limit a step hit is decided by ``limit_hit`` alone. A timeout says which clock ran out in
``"timeout"``: ``"cpu"`` (the CPU time of the job's whole process tree passed ``cpu_time_s``: the step's
``cpu_out`` fact, set by cputime.Watch; or one process's RLIMIT_CPU) or ``"wall"`` (the wall clock:
``timed_out``, or an answer after the limit). CPU time does not depend on the host's load, so a
``cpu`` timeout is final; a ``wall`` timeout whose job used far less CPU than wall time (starved,
or blocked) is judged again alone first (``final``).

``oom`` comes only from the cgroup's counter (or, outside a container, a SIGKILL nobody in the
harness sent), never from what a sample printed.
Standard library only.
"""

from __future__ import annotations

import signal
from typing import Any, NamedTuple

TAIL = 2000  # bytes of stderr kept in a verdict
INFRA_EXIT = 75  # a trusted driver could not do its job (e.g. fork failed); with the token: retry
LATE_GRACE_S = 1.0  # what the harness itself may need past the time limit before a pass is late
# A wall timeout whose job computed less than this share of its wall time was starved (a loaded
# host) or blocked (sleep, a wait): the two look alike from inside, so it is judged again alone.
STARVED_SHARE = 0.5

# What a two-process judge's exit code says (see Program.judge).
JUDGE_PASSED, JUDGE_FAILED, JUDGE_ERROR, JUDGE_GONE = 0, 1, 2, 3

Outcome = dict[str, Any]


def tail(b: bytes, n: int = TAIL) -> str:
    return b[-n:].decode("utf-8", "replace")


def _out(status: str, reason: str = "", stderr_tail: str = "", timeout: str = "") -> Outcome:
    out = {"status": status, "reason": reason, "stderr_tail": stderr_tail}
    if timeout:
        out["timeout"] = timeout  # "cpu" or "wall": which limit a timeout hit
    return out


class Hit(NamedTuple):
    status: str
    reason: str
    timeout: str = ""  # for a timeout: "cpu" or "wall"


def _last_line(text: str, default: str) -> str:
    return next((ln for ln in reversed(text.splitlines()) if ln.strip()), default).strip()[:200]


def signal_name(sig: int) -> str:
    return signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)


def limit_hit(res: dict[str, Any], stage: str) -> Hit | None:
    """The limit the step ran into, else None. In this order: the job's CPU time (decided by the
    CPU alone, whatever the clock or the load did meanwhile), the wall clock, the output cap, the
    memory cap (the cgroup's counter), RLIMIT_CPU, RLIMIT_FSIZE."""
    if res.get("cpu_out"):
        return Hit("timeout", f"{stage} exceeded the job's CPU time limit", "cpu")
    if res["timed_out"]:
        return Hit("timeout", f"{stage} exceeded the time limit", "wall")
    if res["overflow"]:
        return Hit("output_limit", f"{stage} wrote more output than allowed")
    if res.get("oom"):
        return Hit("oom", "killed: out of memory")
    rc = res["rc"]
    if rc is not None and rc == -signal.SIGXCPU:
        return Hit("timeout", "CPU time limit", "cpu")
    if rc is not None and rc == -signal.SIGXFSZ:
        return Hit("output_limit", "file size limit")
    return None


def classify_failure(res: dict[str, Any], program: dict[str, Any], stage: str, contained: bool) -> Outcome:
    """A failed step's verdict (``stage``: "compile" or "run"). ``contained``: in a sandbox
    container, where the cgroup's counter tells OOM kills; outside one, a SIGKILL nobody in the
    harness sent is read as the kernel's OOM killer."""
    err: bytes = res["stderr"]
    t = tail(err)
    hit = limit_hit(res, stage)
    if hit is not None:
        return _out(hit.status, hit.reason, t, hit.timeout)
    rc = res["rc"]
    if rc is not None and rc < 0:
        if rc == -signal.SIGKILL and not contained:
            return _out("oom", "killed (SIGKILL): out of memory", t)
        return _out("crashed", f"killed by {signal_name(-rc)}", t)
    if stage == "compile":
        return _out("error", "compile error", t)
    last = _last_line(t, f"exit code {rc}")
    for marker in program.get("failure_markers", ()):
        if marker.encode() in err:
            return _out("failed", last, t)
    return _out("error", last, t)


def compile_outcome(res: dict[str, Any], program: dict[str, Any], contained: bool) -> Outcome | None:
    """The verdict of a compile step: None when it succeeded (the job goes on)."""
    if res.get("cpu_out"):
        return classify_failure(res, program, "compile", contained)
    if res["rc"] == 0 and not res["timed_out"] and not res["overflow"]:
        return None
    out = classify_failure(res, program, "compile", contained)
    if out["status"] == "error":
        out["stderr_tail"] = tail(
            res["stdout"] + res["stderr"]
        )  # compilers often report on stdout (javac, tsc)
    return out


def token_outcome(res: dict[str, Any], program: dict[str, Any], token: str, contained: bool) -> Outcome:
    """The verdict of a token-judged run step (see humaneval_lab.execution.base): a pass needs exit 0
    and the token on a line of its own. Past the job's CPU time limit nothing it printed counts."""
    if res.get("cpu_out"):
        return classify_failure(res, program, "run", contained)
    stdout_lines = [ln.strip() for ln in res["stdout"].decode("utf-8", "replace").splitlines()]
    token_seen = token in stdout_lines
    if res["rc"] == INFRA_EXIT and f"hel-infra {token}" in stdout_lines:
        # Only trusted code knows the token: the driver itself could not work (fork failed...).
        return _out("infra_error", "the test driver could not start the candidate", tail(res["stderr"]))
    if res["rc"] == 0 and not res["timed_out"] and not res["overflow"]:
        if not token_seen and res.get("incomplete"):
            # Under heavy load a reader may not have finished: not the model's failure.
            return _out("infra_error", "the output capture did not finish; retried", tail(res["stderr"]))
        if not token_seen:
            return _out("failed", "exited 0 before the tests finished", tail(res["stderr"]))
        if program.get("require_empty_stderr") and res["stderr"].strip():
            last = res["stderr"].decode("utf-8", "replace").strip().splitlines()[-1]
            return _out("failed", last[:200], tail(res["stderr"]))
        return _out("passed")
    return classify_failure(res, program, "run", contained)


def pair_outcome(res: dict[str, Any], program: dict[str, Any], contained: bool) -> Outcome:
    """The verdict of a two-process step, from the judge's exit code and how the candidate ended."""
    if res.get("cpu_out"):  # the judge or the candidate was killed for the job's CPU time
        return classify_failure(res, program, "run", contained)
    jrc = res["judge_rc"]
    if jrc == -signal.SIGPIPE:
        jrc = JUDGE_GONE  # it wrote to a candidate that had gone (SIGPIPE is not ignored locally)
    jerr = tail(res["judge_stderr"])
    if not res["timed_out"] and not res["overflow"]:
        if jrc == JUDGE_PASSED:
            return _out("passed")
        if jrc in (JUDGE_FAILED, JUDGE_ERROR):
            last = _last_line(jerr, "the tests failed")
            both = tail(res["stderr"] + b"\n" + res["judge_stderr"]) if res["stderr"].strip() else jerr
            return _out("failed" if jrc == JUDGE_FAILED else "error", last, both)
        if jrc != JUDGE_GONE and not res["oom"]:
            return _out("error", f"the judge ended with {jrc}", jerr)
    if (
        jrc == JUDGE_GONE
        and res.get("cand_killed")
        and not (res["timed_out"] or res["overflow"] or res["oom"])
    ):
        reason = "the candidate stopped answering the tests (its channel closed, the process ran on)"
        return _out("error", reason, tail(res["stderr"]))
    # The candidate ended (or the time did): judge the candidate by how it ended.
    cand = {**res, "rc": res["rc"] if res["rc"] not in (None, 0) else 1}
    if res["rc"] == 0 and not res["timed_out"]:
        cand["stderr"] = (
            res["stderr"] + b"\nCandidateFailed: the candidate exited while the tests needed it\n"
        )
    return classify_failure(cand, program, "run", contained)


def warm_outcome(res: dict[str, Any], program: dict[str, Any], contained: bool) -> Outcome:
    """The verdict of a warm Python step, from the tester's answer and how the candidate ended."""
    if res.get("cpu_out"):
        return classify_failure(res, program, "run", contained)
    answer = res["tester"]
    if answer is not None and answer["passed"] and not res["overflow"]:
        return _out("passed")
    if answer is not None and not answer["gone"] and not res["overflow"]:
        res = {**res, "rc": 1, "stderr": res["stderr"] + str(answer["stderr"]).encode("utf-8", "replace")}
    elif answer is not None and res["rc"] is not None and res["rc"] >= 0 and not res["overflow"]:
        msg = f"CandidateFailed: candidate process exited with code {res['rc']}\n"
        res = {**res, "rc": 1, "stderr": res["stderr"] + msg.encode()}
    return classify_failure(res, program, "run", contained)


def not_started(res: dict[str, Any], elapsed: float) -> Outcome:
    """A step that could not start: infra when that was not the sample's fault, else an error."""
    return {**_out("infra_error" if res.get("infra") else "error", res["error"]), "duration_s": elapsed}


def final(
    outcome: Outcome, elapsed: float, timeout_s: float, shared: bool, cpu_s: float | None = None
) -> Outcome:
    """The outcome with its duration (and ``cpu_s``, the job's CPU seconds as cputime.Watch saw
    them, when measured); a verdict another sample or the host's load may have caused is not final.

    The deadline is checked again on the monotonic clock (``elapsed``): an answer that came later
    than the limit (plus what the harness itself needs) is a wall timeout whatever it says.

    Marked ``"solo"``, the host judges it again alone (in a box of one worker, whose verdict counts):
    - samples in one container (``shared``) share its memory and pids: a death by a signal nobody in
      the harness sent, with other samples beside it, is ``infra_error`` until then;
    - a wall timeout of a job that computed less than ``STARVED_SHARE`` of its time (or, not
      measured, beside other samples) may be the host's load, not the sample: it stays a timeout
      (what an executor without a solo box reports) but is judged again first. A ``cpu`` timeout
      does not depend on load: it counts at once.
    """
    if outcome["status"] == "passed" and elapsed > timeout_s + LATE_GRACE_S:
        outcome = _out("timeout", "answered after the time limit", timeout="wall")
    measured = {} if cpu_s is None else {"cpu_s": round(cpu_s, 3)}
    if shared and outcome["status"] in ("crashed", "oom"):
        return {
            **_out(
                "infra_error",
                f"{outcome['reason'] or outcome['status']}, with other samples beside it: judged again alone",
                outcome.get("stderr_tail", ""),
            ),
            "duration_s": elapsed,
            **measured,
            "solo": True,
        }
    if outcome.get("timeout") == "wall" and (shared if cpu_s is None else cpu_s < STARVED_SHARE * elapsed):
        return {**outcome, "duration_s": elapsed, **measured, "solo": True}
    return {**outcome, "duration_s": elapsed, **measured}


def runner_failed(exc: BaseException) -> Outcome:
    """A job the runner itself could not judge (a bug, a full disk...): the host retries it."""
    return {**_out("infra_error", f"runner: {type(exc).__name__}: {exc}"), "duration_s": 0.0}
