"""Every recovery branch of the scheduler, driven by scripted FakeBoxes in milliseconds.

In every case: each job id yielded exactly once, none lost.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from humaneval_lab.errors import InfrastructureError
from humaneval_lab.execution.base import Job, Limits, Outcome, Program, Status
from humaneval_lab.execution.fake import DIE, HANG, NEVER_READY, VIOLATE, Action, FakePool
from humaneval_lab.execution.scheduler import Deaths, Policy, schedule

FAST = Policy(max_retries=2, retry_backoff_s=0.01, overrun_grace_s=0.05, silent_grace_s=0.1, tick_s=0.005)
PASS = Outcome(Status.PASSED)
FAIL = Outcome(Status.FAILED, "wrong")


def _jobs(n: int, timeout_s: float = 0.05) -> list[Job]:
    return [Job(f"j{i}", Program("python", {}, ("true",)), Limits(timeout_s=timeout_s)) for i in range(n)]


def _run(
    script: Callable[[Job, int], Action], n: int = 6, jobs_at_once: int = 2, per_box: int = 1, boot: str = ""
) -> tuple[dict[str, Outcome], FakePool, Deaths]:
    pool = FakePool(script, boot)
    deaths = Deaths()
    out: dict[str, Outcome] = {}
    for job_id, outcome in schedule(_jobs(n), pool, FAST, jobs_at_once, per_box, deaths):
        assert job_id not in out, f"{job_id} judged twice"
        out[job_id] = outcome
    assert sorted(out) == sorted(j.id for j in _jobs(n)), "a job was lost"
    return out, pool, deaths


def _only(job_id: str, action: Action, other: Action = PASS) -> Callable[[Job, int], Action]:
    return lambda job, attempt: action if job.id == job_id else other


def test_honest_boxes_judge_everything_once_and_keep_two_per_worker() -> None:
    out, pool, deaths = _run(lambda job, attempt: PASS if job.id != "j3" else FAIL)
    assert {k: o.status for k, o in out.items()} == {
        f"j{i}": Status.FAILED if i == 3 else Status.PASSED for i in range(6)
    }
    assert deaths.count == 0 and len(pool.boxes) == 2
    assert all(not solo for _, solo in pool.sent)


def test_a_box_that_dies_has_its_jobs_rerun_alone() -> None:
    out, pool, deaths = _run(lambda job, attempt: DIE if (job.id, attempt) == ("j2", 1) else PASS)
    assert {o.status for o in out.values()} == {Status.PASSED}
    assert ("j2", True) in pool.sent  # re-run in a solo box
    assert deaths.count == 1


def test_a_job_that_kills_its_solo_box_twice_is_crashed() -> None:
    out, _, deaths = _run(_only("j1", DIE))
    assert out["j1"].status is Status.CRASHED and "twice, running alone" in out["j1"].reason
    assert {o.status for k, o in out.items() if k != "j1"} == {Status.PASSED}
    assert deaths.count == 3  # its shared box, then the solo box twice


def test_a_protocol_violation_is_never_the_samples_crash() -> None:
    out, _, deaths = _run(_only("j1", VIOLATE))
    assert out["j1"].status is Status.INFRA and "kept dying" in out["j1"].reason
    assert all(why == "protocol: scripted" for _, why in deaths.log)


def test_a_box_that_keeps_dying_for_other_reasons_ends_as_infra() -> None:
    """Only solo deaths of a ready box count against the sample; violations at every try do not."""
    out, pool, _ = _run(_only("j0", VIOLATE), n=2)
    assert out["j0"].status is Status.INFRA and out["j1"].status is Status.PASSED
    # the first try, then re-runs alone until more than max_retries + 2 deaths
    assert [jid for jid, _ in pool.sent].count("j0") == FAST.max_retries + 3


def test_infra_outcomes_are_retried_then_reported() -> None:
    flaky = _only("j1", Outcome(Status.INFRA, "fork failed"))
    out, pool, _ = _run(flaky)
    assert out["j1"].status is Status.INFRA
    assert [jid for jid, _ in pool.sent].count("j1") == FAST.max_retries + 1

    healed = lambda job, attempt: Outcome(Status.INFRA) if (job.id, attempt) == ("j1", 1) else PASS  # noqa: E731
    out, pool, _ = _run(healed)
    assert out["j1"].status is Status.PASSED and [jid for jid, _ in pool.sent].count("j1") == 2


def test_an_outcome_marked_solo_is_judged_again_alone() -> None:
    out, pool, _ = _run(
        lambda job, attempt: ("solo", Outcome(Status.CRASHED)) if attempt == 1 and job.id == "j4" else PASS
    )
    assert out["j4"].status is Status.PASSED and ("j4", True) in pool.sent


def test_a_job_past_its_limit_gets_its_box_killed_then_timeout_alone() -> None:
    out, pool, deaths = _run(_only("j2", HANG))
    assert out["j2"].status is Status.TIMEOUT and "stopped by the host" in out["j2"].reason
    assert {o.status for k, o in out.items() if k != "j2"} == {Status.PASSED}
    assert deaths.log[0][1] == "j2" and ("j2", True) in pool.sent


def test_a_job_that_hangs_only_beside_others_passes_alone() -> None:
    out, _, _ = _run(lambda job, attempt: HANG if (job.id, attempt) == ("j2", 1) else PASS)
    assert out["j2"].status is Status.PASSED


def test_boxes_that_never_become_ready_raise_infrastructure_error() -> None:
    with pytest.raises(InfrastructureError, match="exit at start"):
        _run(lambda job, attempt: PASS, boot=NEVER_READY)


def test_shared_boxes_carry_several_workers() -> None:
    out, pool, _ = _run(lambda job, attempt: PASS, n=8, jobs_at_once=4, per_box=2)
    assert len(pool.boxes) == 2 and all(b.workers == 2 for b in pool.boxes)
    assert {o.status for o in out.values()} == {Status.PASSED}


def test_a_starved_wall_timeout_is_judged_again_alone_and_a_cpu_timeout_counts_at_once() -> None:
    """The runner marks a wall timeout of a job that computed little ``solo`` (verdict.final): beside
    a loaded box the correct sample timed out; alone it passes, and only that verdict counts. A cpu
    timeout is final where it happened (load cannot cause it)."""
    starved = Outcome(Status.TIMEOUT, "run exceeded the time limit", timeout="wall", cpu_s=0.01)
    cpu = Outcome(Status.TIMEOUT, "run exceeded the job's CPU time limit", timeout="cpu", cpu_s=0.5)

    def script(job: Job, attempt: int) -> Action:
        if job.id == "j1":
            return ("solo", starved) if attempt == 1 else PASS
        return cpu if job.id == "j3" else PASS

    out, pool, _ = _run(script)
    assert out["j1"].status is Status.PASSED and ("j1", True) in pool.sent
    assert (out["j3"].status, out["j3"].timeout) == (Status.TIMEOUT, "cpu")
    assert [jid for jid, _ in pool.sent].count("j3") == 1


def test_a_wall_timeout_that_stays_in_its_solo_box_counts() -> None:
    sleeper = Outcome(Status.TIMEOUT, "run exceeded the time limit", timeout="wall", cpu_s=0.0)
    out, pool, _ = _run(lambda job, attempt: ("solo", sleeper) if job.id == "j2" else PASS)
    assert (out["j2"].status, out["j2"].timeout) == (Status.TIMEOUT, "wall")
    assert [s for jid, s in pool.sent if jid == "j2"] == [False, True]  # once beside others, once alone
