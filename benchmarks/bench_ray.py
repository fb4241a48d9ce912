"""What ``score --ray`` costs and carries, measured in one run (nothing here is asserted by tests).

1. One node: HumanEval canonical x``--copies`` (copies differ by a trailing comment, so none is
   deduplicated) judged by the plain Docker executor and by ``--ray`` on a one-node cluster with the
   same CPUs; prints both rates and the ratio (the issue's bound: --ray at most 10% slower).
2. The driver: ``--driver-samples`` samples through ``score()`` with a no-op sandbox on each of 3
   local nodes (dispatch, verdicts back, results to disk in order); prints samples/s against the
   floor of 20,000/s, and the same score() with a no-op executor in-process as the reference.

    python benchmarks/bench_ray.py [--copies 10] [--driver-samples 50000] [--skip-docker]

Ray binds the machine's interface address even when asked for loopback, so (as root) the benchmark
re-runs itself inside a network namespace of its own where only loopback exists (``unshare -n``);
Docker is still reached over its unix socket.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from humaneval_lab.execution import Job, Outcome, Program, Status, make_executor
from humaneval_lab.execution.fake import FakeExecutor
from humaneval_lab.problems import ProblemSet, load_problems
from humaneval_lab.records import read_samples
from humaneval_lab.scoring import ScoreSettings, score

FLOOR = 20_000  # samples/s the driver must carry (issue 14)


def write_samples(path: Path, ps: ProblemSet, copies: int, completion: str | None = None) -> int:
    rows = [{"task_id": p.task_id, "completion": (completion or p.canonical_solution or "") + f"\n# copy {i}\n"}
            for i in range(copies) for p in ps]  # fmt: skip
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return len(rows)


def timed_score(samples_path: Path, ps: ProblemSet, executor: Any, out: Path) -> tuple[float, dict[str, int]]:
    samples = read_samples(samples_path, ps)
    t = time.perf_counter()
    summary = score(samples, ps, executor, out, ScoreSettings(ks=(1,)), samples_path=samples_path)
    return time.perf_counter() - t, summary.verdicts


def one_node(tmp: Path, copies: int, cpus: int) -> None:
    import ray

    from humaneval_lab.distributed import RESOURCE, ray_executor

    ps = load_problems(suite="humaneval")
    n = write_samples(tmp / "canon.jsonl", ps, copies)
    print(f"1. one node, HumanEval canonical x{copies} ({n} samples, {cpus} CPUs)")
    plain = make_executor("docker", cpus, problems=ps)
    try:
        t_plain, v_plain = timed_score(tmp / "canon.jsonl", ps, plain, tmp / "plain")
    finally:
        plain.close()
    ray.init(num_cpus=cpus, resources={RESOURCE: 1}, include_dashboard=False, log_to_driver=False)
    try:
        ex = ray_executor("auto", problems=ps)  # (connected already: reuses this one-node cluster)
        try:
            t_ray, v_ray = timed_score(tmp / "canon.jsonl", ps, ex, tmp / "ray")
        finally:
            ex.close()
    finally:
        ray.shutdown()
    assert v_plain == v_ray, (v_plain, v_ray)
    print(f"   plain docker: {n / t_plain:8.1f} samples/s  ({t_plain:.1f} s) {v_plain}")
    print(f"   --ray:        {n / t_ray:8.1f} samples/s  ({t_ray:.1f} s)")
    print(f"   --ray / plain time: {t_ray / t_plain:.3f}  (bound: 1.10)")


def cpu_by_role() -> dict[str, float]:
    """CPU seconds so far of the node actors and raylets of this benchmark's cluster (its processes'
    descendants: other Ray clusters on the machine are not counted; psutil; {} without it)."""
    try:
        import psutil
    except ImportError:
        return {}
    out = {"node actors": 0.0, "raylets": 0.0}
    for proc in psutil.Process().children(recursive=True):
        try:
            cmd, name, times = " ".join(proc.cmdline()), proc.name(), proc.cpu_times()
        except psutil.Error:  # gone meanwhile
            continue
        role = "node actors" if "NodeSandbox" in cmd else "raylets" if name == "raylet" else ""
        if role:
            out[role] += times.user + times.system
    return out


def driver(tmp: Path, total: int, rounds: int) -> None:
    import ray
    from ray.cluster_utils import Cluster

    from humaneval_lab.distributed import RESOURCE, FakeOnNode, RayExecutor

    ps = load_problems(suite="humaneval")
    copies = -(-total // len(ps))
    n = write_samples(tmp / "noop.jsonl", ps, copies, completion="    # hel-verdict:passed\n    return 0\n")
    print(f"2. the driver: {n} samples, a no-op sandbox on each of 3 local nodes, {rounds} round(s)")
    jobs = [Job(f"j{i}", Program("python", {"main.py": "# hel-verdict:passed\n" + "x" * 1500}, ("python3",)))
            for i in range(n)]  # fmt: skip
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "resources": {RESOURCE: 1},
                                                            "include_dashboard": False})  # fmt: skip
    for _ in range(2):
        cluster.add_node(num_cpus=1, resources={RESOURCE: 1})
    cluster.wait_for_nodes()
    try:
        ray.init(address=cluster.address, log_to_driver=False)
        # A no-op sandbox on each node, as the reference's in-process executor: every sample passes.
        ex = RayExecutor(cluster.address, factory=FakeOnNode(no_op=True), languages=["python"])
        try:
            for r in range(1, rounds + 1):
                noop = FakeExecutor(lambda _job: Outcome(Status.PASSED))
                t_ref, _ = timed_score(tmp / "noop.jsonl", ps, noop, tmp / f"ref{r}")
                cpu, others = time.process_time(), cpu_by_role()
                t_ray, _ = timed_score(tmp / "noop.jsonl", ps, ex, tmp / f"driver{r}")
                cpu, others = time.process_time() - cpu, {k: v - others[k] for k, v in cpu_by_role().items()}
                t = time.perf_counter()
                assert sum(1 for _ in ex.run(jobs)) == n
                t_dispatch = time.perf_counter() - t
                same = (tmp / f"ref{r}" / "results.jsonl").stat().st_size == (
                    tmp / f"driver{r}" / "results.jsonl"
                ).stat().st_size
                rate = n / t_ray
                print(f"   round {r} (load average {os.getloadavg()[0]:.1f}):")
                print(f"   score() in-process, no-op executor (reference): {n / t_ref:9.0f} samples/s")
                print(f"   score() --ray, 3 nodes, no-op sandboxes:        {rate:9.0f} samples/s "
                      f"({rate / (n / t_ref):.2f} of the reference; floor {FLOOR:,}: {'ok' if rate >= FLOOR else 'BELOW'})")  # fmt: skip
                print(f"   dispatch alone (RayExecutor.run, 1.5 kB jobs):  {n / t_dispatch:9.0f} samples/s")
                # CPU is steadier than wall time on a shared host: where each sample's work went.
                print("   CPU per sample in the --ray run: driver process (Ray's threads included) "
                      f"{cpu / n * 1e6:.1f} us" + "".join(f", {k} {v / n * 1e6:.1f} us" for k, v in others.items()))  # fmt: skip
                assert same, "the --ray results differ in size from the in-process run's"
        finally:
            ex.close()
    finally:
        ray.shutdown()
        cluster.shutdown()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=10)
    ap.add_argument("--cpus", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--driver-samples", type=int, default=50_000)
    ap.add_argument("--rounds", type=int, default=3, help="driver rounds (each: reference, --ray, dispatch)")
    ap.add_argument("--skip-docker", action="store_true", help="only the driver's throughput")
    ap.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if not args.inside and os.geteuid() == 0:
        here = [sys.executable, *sys.argv, "--inside"]
        cmd = "ip link set lo up && exec " + " ".join(f"'{a}'" for a in here)
        sys.exit(subprocess.call(["unshare", "-n", "sh", "-c", cmd]))
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    with tempfile.TemporaryDirectory(prefix="hel-bench-ray-") as d:
        tmp = Path(d)
        if not args.skip_docker:
            one_node(tmp, args.copies, args.cpus)
        driver(tmp, args.driver_samples, args.rounds)


if __name__ == "__main__":
    main()
