"""``sample --ray --replicas 2`` (hf, a tiny random GPT-2, CPU) on a real Ray cluster in a network
namespace of its own: a worker node holding a replica is removed at 30%; every (task, sample_index)
is written exactly once and equals a plain run's. openai refuses --ray with one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from humaneval_lab.records import samples_manifest_path
from tests.distributed.cluster_child import SAMPLE_ARGS, SAMPLE_TOTAL, VLLM_ARGS
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


def test_openai_refuses_ray(tmp_path: Path) -> None:
    p = subprocess.run([sys.executable, "-m", "humaneval_lab.cli", "sample", "--backend", "openai", "--model", "m",
                        "--limit", "1", "--ray", "auto", "-o", str(tmp_path / "s.jsonl")],
                       capture_output=True, text=True)  # fmt: skip
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.strip().splitlines() == [
        "error: --ray does not apply to the openai backend: a server scales itself; drop --ray"
    ]
    assert not (tmp_path / "s.jsonl").exists()
