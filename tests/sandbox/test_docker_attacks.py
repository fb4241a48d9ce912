"""The attack corpus through the real Docker sandbox, interleaved with honest samples."""

from __future__ import annotations

from typing import Any

import pytest
from attack_corpus import ATTACKS, HONEST, KILL_ALL, LOCK, PLANT, PROBE, WRONG
from conftest import judged_once

from humaneval_lab.execution.base import Job, Limits, Status
from humaneval_lab.execution.docker import RUNNER_CAPS
from humaneval_lab.execution.selftest import PROBLEM, run_selftest
from humaneval_lab.languages import get_language, source_of

pytestmark = pytest.mark.docker


def _job(name: str, completion: str, timeout_s: float = 5.0) -> Job:
    program = get_language("python").build(PROBLEM, source_of(PROBLEM, completion))
    return Job(name, program, Limits(timeout_s=timeout_s))


def _run(ex: Any, cases: list[Any], timeout_s: float = 5.0) -> dict[str, Any]:
    return judged_once(ex, [_job(name, c.completion, timeout_s) for name, c in cases])


@pytest.mark.parametrize("per_container", [1, 2], ids=["own-container", "shared-container"])
def test_attacks_interleaved_with_honest_samples(make_executor: Any, per_container: int) -> None:
    """Shared: two samples at a time in one container, where one can signal the other's processes."""
    cases: list[tuple[str, Any]] = []
    for i, attack in enumerate(ATTACKS):
        cases.append((f"attack:{attack.name}", attack))
        cases.append((f"honest:{i}", HONEST if i % 3 else WRONG))
    ex = make_executor(jobs=2, workers_per_container=per_container)
    out = _run(ex, cases)
    wrong = {
        name: (o.status.value, o.reason)
        for name, o in out.items()
        if o.status.value not in dict(cases)[name].expect
    }
    assert wrong == {}, f"deaths: {ex.death_log}"
    assert out["attack:memory-bomb"].status is Status.OOM


def test_nothing_reaches_a_later_sample(make_executor: Any) -> None:
    """Planted modules, filled disks, locked dirs and daemons of one sample are gone before the next starts."""
    daemon = next(c for c in ATTACKS if c.name == "daemonised-leftover")
    fill = next(c for c in ATTACKS if c.name == "disk-fill")
    sequence = [("plant", PLANT), ("probe1", PROBE), ("honest1", HONEST), ("daemon", daemon), ("probe2", PROBE),
                ("fill", fill), ("probe3", PROBE), ("lock", LOCK), ("probe4", PROBE), ("honest2", HONEST)]  # fmt: skip
    ex = make_executor(jobs=1)  # one container, one job at a time: each sample follows the one before
    out = _run(ex, sequence)
    assert {n: o.status.value for n, o in out.items()} == {
        "plant": "passed", "probe1": "passed", "honest1": "passed", "daemon": "passed",
        "probe2": "passed", "fill": "passed", "probe3": "passed", "lock": "passed", "probe4": "passed",
        "honest2": "passed",
    }  # fmt: skip
    assert len(set(ex.container_ids)) == 1


def test_kill_everything_reaches_only_the_samples_own_processes(make_executor: Any) -> None:
    """kill(-1) from a sample reaches its own uid's processes: never the runner, a tester or a neighbour."""
    cases = [(f"honest:{i}", HONEST if i % 2 else WRONG) for i in range(8)]
    cases.insert(3, ("kill-all", KILL_ALL))
    ex = make_executor(jobs=2, workers_per_container=2)
    out = _run(ex, cases)
    assert {n: o.status.value for n, o in out.items()} == {
        n: ("passed" if c in (HONEST, KILL_ALL) else "failed") for n, c in cases
    }
    assert ex.deaths == 0, ex.death_log


def test_a_container_killed_from_outside_loses_no_job(make_executor: Any) -> None:
    slow = "    import time\n    time.sleep(0.3)\n    return a + b\n"
    cases = [(f"s{i}", HONEST) for i in range(12)]
    ex = make_executor(jobs=2, workers_per_container=1)
    jobs = [_job(n, slow) for n, _ in cases]
    out: dict[str, Any] = {}
    for job_id, outcome in ex.run(jobs):
        if len(out) == 2:
            ex.client.api.kill(ex._boxes[0].id)  # a daemon hiccup / OOM of a whole container
        assert job_id not in out
        out[job_id] = outcome
    assert ex.deaths >= 1
    assert {o.status for o in out.values()} == {Status.PASSED} and len(out) == 12


def test_containers_are_hardened(make_executor: Any) -> None:
    ex = make_executor(jobs=1)
    jobs = iter([_job("one", HONEST.completion)])
    gen = ex.run(jobs)
    next(gen)
    attrs = ex.client.api.inspect_container(ex._boxes[0].id)
    gen.close()
    hc, cfg = attrs["HostConfig"], attrs["Config"]
    assert hc["NetworkMode"] == "none"
    assert hc["ReadonlyRootfs"] is True
    # The runner starts as root with these only; every job process drops to a uid of its own.
    assert hc["CapDrop"] == ["ALL"] and sorted(hc["CapAdd"]) == sorted(RUNNER_CAPS)
    assert "no-new-privileges" in hc["SecurityOpt"]
    assert hc["Privileged"] is False
    assert hc["Memory"] == hc["MemorySwap"] == 512 << 20
    assert hc["PidsLimit"] and 0 < hc["NanoCpus"] <= 2 * 1.5e9
    assert hc["Init"] is True
    assert hc["LogConfig"]["Type"] == "none"
    assert not hc["Binds"] and not attrs["Mounts"]
    assert set(hc["Tmpfs"]) == {"/work", "/tmp"} and all("size=" in v for v in hc["Tmpfs"].values())
    assert cfg["User"] == "0:0"
    assert cfg["Labels"]["org.humaneval-lab.run"] == ex.run_id


def test_selftest_cases_get_their_verdicts(make_executor: Any) -> None:
    results = run_selftest(make_executor(jobs=2))
    assert [(r.case.name, r.outcome.status.value) for r in results if not r.ok] == []


def _cpusets(ex: Any) -> list[str]:
    return [
        ex.client.api.inspect_container(b.id)["HostConfig"]["CpusetCpus"] for b in ex._boxes if not b.dead
    ]


def test_containers_are_pinned_to_their_own_cpus(make_executor: Any) -> None:
    import os

    jobs = len(os.sched_getaffinity(0))  # the engine runs here: its containers may use these CPUs
    ex = make_executor(jobs=jobs, workers_per_container=1)
    out = _run(ex, [(f"h{i}", HONEST) for i in range(2 * jobs)])
    assert {o.status for o in out.values()} == {Status.PASSED}
    sets = _cpusets(ex)
    assert len(sets) == jobs and all(sets), f"unpinned containers: {sets}"
    assert len(set(sets)) == jobs, f"two containers share a CPU while others are free: {sets}"
    assert {int(s) for s in sets} <= os.sched_getaffinity(0)
    # A container that dies frees its CPU for the one that replaces it.
    ex.client.api.kill(ex._boxes[0].id)
    out = _run(ex, [(f"again{i}", HONEST) for i in range(2 * jobs)])
    assert {o.status for o in out.values()} == {Status.PASSED}
    sets = _cpusets(ex)
    assert len(sets) == jobs and len(set(sets)) == jobs, sets


def test_an_engine_that_cannot_pin_still_runs(make_executor: Any) -> None:
    ex = make_executor(jobs=2, workers_per_container=1)

    def refuse(*a: Any, **kw: Any) -> None:
        import docker.errors

        raise docker.errors.APIError("cpuset not delegated")  # what docker-py raises for a refusal

    ex.client.api.update_container = refuse
    out = _run(ex, [(f"h{i}", HONEST) for i in range(4)] + [("wrong", WRONG)])
    assert out["wrong"].status is Status.FAILED
    assert {out[f"h{i}"].status for i in range(4)} == {Status.PASSED}
    assert _cpusets(ex) == ["", ""]
